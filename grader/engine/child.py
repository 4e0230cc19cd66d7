"""The warm child: prepares once, then forks one process per schedule.

Started by the parent as ``python -m grader.engine.child``. Its stdin carries one JSON line with
the job, then one line per batch of schedules; it limits its own resources, patches the runtime,
compiles the instrumented submission once, then runs each batch (several schedules at a time),
each schedule in a forked process of its own process group with a time limit (``meter``). It writes one
JSON line per finished schedule and one per finished batch to stdout; the events themselves go to
the files the job names. The parent plans the next batch from the events of the last one (race-
directed exploration); the child never decides a verdict, nor which schedule comes next.
"""
from __future__ import annotations

import gc
import json
import marshal
import os
import resource
import select
import signal
import sys
from dataclasses import dataclass

from . import meter, real, reaper
from .events import EXIT_LIMIT


def _limit(which: str, value: int) -> None:
    res = getattr(resource, which, None)
    if res is None:
        return
    try:
        soft, hard = resource.getrlimit(res)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(res, (value, hard if hard != resource.RLIM_INFINITY else value))
    except (ValueError, OSError):
        pass


def _set_limits(limits: dict) -> None:
    _limit("RLIMIT_CORE", 0)
    _limit("RLIMIT_CPU", int(limits["cpu_seconds"]))  # per process: a spinning child dies too
    _limit("RLIMIT_NOFILE", 1024)  # multiprocessing needs a few hundred
    _limit("RLIMIT_FSIZE", limits["file_bytes"])
    _limit("RLIMIT_DATA", limits["memory_bytes"])
    _limit("RLIMIT_NPROC", limits["processes"])  # binds non-root users only (see grade --doctor)


def _report(line: dict) -> None:
    os.write(1, (json.dumps(line) + "\n").encode())


def _read_line() -> dict | None:
    """The next request from the parent (one JSON object per line); None at end of input."""
    line = sys.stdin.buffer.readline()
    return json.loads(line) if line.strip() else None


def main() -> None:
    # Started before the parent knows its job: get ready (imports, patches) while it decides.
    import random  # noqa: F401  (every run seeds it)
    from . import bootstrap, contain, hooks, runtime

    runtime.patch()
    hooks.install()
    _report({"ready": True})
    job = _read_line()
    if job is None:  # the parent decided not to grade after all
        return
    from .events import sealer, spawn_key
    key = bytes.fromhex(job.pop("key", "") or "")
    # From here the key lives only inside a hasher (and, derived, for spawned children): no run
    # finds its bytes in the job.
    seals = (sealer(key), spawn_key(key).hex()) if key else (None, "")
    del key
    _set_limits(job["limits"])
    reaper.set_subreaper(True)  # a run's setsid escapees are reparented here, then killed
    if "multiprocessing" in job["source"] or "concurrent" in job["source"]:
        # Warm up what its runs will import, so each fork starts ready (patched on import).
        import multiprocessing.connection  # noqa: F401
        import multiprocessing.spawn  # noqa: F401
    # The parent compiled the instrumented program, one code object per script path (__file__
    # must be the run's own copy): the child never needs the compiler.
    codes = {script: marshal.loads(bytes.fromhex(code)) for script, code in job.pop("codes").items()}
    job["close_fds"] = [0]
    contain.prepare(job.get("contain"))  # the sandbox's shared part, made once for every run

    gc.collect()
    gc.freeze()  # forked runs then leave the warm objects alone: fewer copy-on-write faults
    sys.stdout.flush()
    while True:
        request = _read_line()
        if request is None:
            return
        _run_batch(job, request["schedules"], codes, bootstrap, seals)
        _report({"batch": len(request["schedules"])})


@dataclass
class _Running:
    spec: dict
    started: float
    meter: meter.RunMeter
    channel: int  # the read end of the run's channel
    slot: int  # which of the runs side by side it is: its core
    killed: bool = False


def _run_batch(job: dict, schedules: list[dict], codes: dict, bootstrap, seals=(None, "")) -> None:
    """Run ``schedules`` (several at a time), reporting each.

    A run that hangs, floods or hits a limit (``stops``) would do it again on the next schedule
    of its seed: that seed's schedules after it in the batch are not started. Which are left out
    depends only on the schedules' order, never on which run happened to end first.
    """
    pending = list(schedules)
    running: dict[int, _Running] = {}
    limit = job["limits"]["wall_seconds"]
    parallel = max(1, int(job.get("jobs", 1)))
    stopped: dict[object, int] = {}  # scope -> order of its first run that stopped
    cores = _cores()
    while pending or running:
        pending = [s for s in pending if s.get("order", 0) < stopped.get(s.get("scope"), float("inf"))]
        while pending and len(running) < parallel:
            spec = pending.pop(0)
            slot = min(set(range(parallel + 1)) - {r.slot for r in running.values()})
            if cores:
                spec = dict(spec, core=cores[slot % len(cores)])
            channel, told = os.pipe()  # the run says on it when the program is about to start
            pid = os.fork()
            if pid == 0:
                for fd in (channel, *(r.channel for r in running.values())):  # nothing of its siblings' either
                    os.close(fd)
                bootstrap.run(job, dict(spec, channel=told), codes[spec["script"]], seals)  # never returns
            os.close(told)
            try:
                os.setpgid(pid, pid)
            except OSError:
                pass
            started = real.monotonic()
            running[pid] = _Running(spec, started, meter.RunMeter(limit, started), channel, slot)
        if not running:
            break
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            for cpid, run in running.items():
                now = real.monotonic()
                if not run.killed and now >= run.meter.due() and run.meter.over(now, meter.sample_group(cpid)):
                    _kill(cpid, dump=run.spec["raw"], events=run.spec["events"])
                    run.killed = True
            _wait_any(running)
            continue
        if pid not in running:
            continue
        run = running.pop(pid)
        spec = run.spec
        _kill(pid, dump=None)  # whatever the run left behind in its process group
        if job.get("reap"):
            reaper.kill_adopted(running)  # and what escaped it with setsid (no cgroup/namespace here)
        flooded = _size(spec["raw"]) >= job["limits"]["file_bytes"] // 2
        stops = run.killed or flooded or (os.WIFEXITED(status) and os.WEXITSTATUS(status) == EXIT_LIMIT)
        if stops:
            scope = spec.get("scope")
            stopped[scope] = min(stopped.get(scope, spec.get("order", 0)), spec.get("order", 0))
        _report({
            "key": spec["key"],
            "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            "timed_out": run.killed,
            "stops": stops,
            "wall": round(real.monotonic() - run.started, 4),
            "own": round(run.meter.own_time(), 4),
            "started": _told(run.channel),
        })


def _cores() -> list[int]:
    """The cores this engine's runs may use, starting from the one it is on now (engines side by side
    start from different ones); empty when there is one or they cannot be known."""
    try:
        allowed = sorted(os.sched_getaffinity(0))
        with open("/proc/self/stat", "rb") as f:
            now = int(f.read().rsplit(b")", 1)[1].split()[36])
    except (OSError, ValueError, IndexError, AttributeError):
        return []
    if len(allowed) < 2:
        return []
    i = allowed.index(now) if now in allowed else 0
    return allowed[i:] + allowed[:i]


def _told(fd: int) -> bool:
    """Did the run say the program was about to start? (What a pipe got cannot be taken back.)"""
    try:
        os.set_blocking(fd, False)
        return b"S" in os.read(fd, 16)
    except OSError:
        return False
    finally:
        os.close(fd)


_pidfds: dict[int, int] = {}


def _wait_any(running: dict[int, _Running]) -> None:
    """Sleep until a run ends or the next run is due a look (pidfds; polling where there are none)."""
    now = real.monotonic()
    timeout = max(0.0, min(r.meter.due() - now for r in running.values() if not r.killed)
                  if any(not r.killed for r in running.values()) else 0.05) + 0.01
    fds = []
    for pid in running:
        fd = _pidfds.get(pid)
        if fd is None:
            try:
                fd = _pidfds[pid] = os.pidfd_open(pid)
            except (AttributeError, OSError):
                real.sleep(0.0005)
                return
        fds.append(fd)
    select.select(fds, [], [], timeout)
    for pid in [p for p in _pidfds if p not in running]:
        os.close(_pidfds.pop(pid))


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _kill(pgid: int, dump: str | None, events: str | None = None) -> None:
    """Kill the run's process group; with ``dump`` (its output file), first have every process
    write down what it recorded (``events``: SIGUSR2) and faulthandler print every thread's stack
    in the main process (SIGUSR1): what it printed, and where it hung."""
    try:
        if dump:
            if events:
                before = _size(events)
                os.killpg(pgid, signal.SIGUSR2)
                _wait_for_growth(events, before, 0.2)
            before = _size(dump)
            os.kill(pgid, signal.SIGUSR1)
            _wait_for_growth(dump, before, 1.0)
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _wait_for_growth(path: str, before: int, most: float) -> None:
    """Until ``path`` has been written (it grew, then stayed still a moment), at most ``most``
    seconds: on a loaded machine the handler may run late, a program may have taken the signal for
    itself, and a run with nothing left to write never grows it."""
    end = real.monotonic() + most
    size, still = before, 0
    while real.monotonic() < end:
        real.sleep(0.005)
        now = _size(path)
        if now > before and now == size:
            still += 1
            if still >= 2:
                return
        else:
            still = 0
        size = now


if __name__ == "__main__":
    main()

"""Runs the submission once, under one schedule, in a freshly forked process. Never returns."""
from __future__ import annotations

import atexit
import faulthandler
import os
import random
import signal
import sys
import types

from . import contain, crossproc, files, primitives, runtime, state, strategies, watch
from .events import EXIT_DEADLOCK, EXIT_INTERNAL, EXIT_LIMIT
from .recorder import Capture, Recorder
from .scheduler import Scheduler, Stop

_APPEND = os.O_WRONLY | os.O_CREAT | os.O_APPEND


def _describe_wait(ts) -> str:
    on = ts.on
    if isinstance(on, str):
        return on
    if isinstance(on, tuple) and on and on[0] == "join":
        return f"join {on[1].name}"
    kind = primitives.kind_of(on) if isinstance(on, (primitives.Lock, primitives.Semaphore)) else None
    if kind and getattr(on, "_visible", True):
        holder = getattr(on, "_holder", None)
        held = f", held by {holder.name}" if hasattr(holder, "name") else ""
        return f"{kind} #{state.oid(on)}{held}"
    return "wait"  # an Event/Condition inside the standard library


def _script_line(ts, script: str) -> int | None:
    frame = sys._current_frames().get(ts.real_ident) if ts.real_ident else None
    while frame is not None:
        if frame.f_code.co_filename == script:
            return frame.f_lineno
        frame = frame.f_back
    return ts.ln


def _make_stop(script: str):
    def stop(kind: str, detail) -> None:
        sched, rec = state.S, state.R
        rec.flush()
        waiting = [{"th": t.vid, "tn": t.name, "on": _describe_wait(t), "ln": _script_line(t, script)}
                   for t in sched.blocked()]
        if kind == "deadlock":
            rec.emit("deadlock", blocked=waiting)
            code = EXIT_DEADLOCK
        else:
            rec.emit("limit", what=kind, detail=detail,
                     blocked=waiting)
            code = EXIT_LIMIT
        rec.flush()
        os._exit(code)
    return stop


def _stay_on_one_core(core: int | None) -> None:
    """One thread runs at a time: keep them all on one core, where a handoff between threads costs
    least (about a fifth of the run's CPU time otherwise): ``core`` when the engine chose one (its
    runs side by side each get their own), else the one the kernel gave this run."""
    try:
        allowed = os.sched_getaffinity(0)
        if len(allowed) < 2:
            return
        if core is None or core not in allowed:
            with open("/proc/self/stat", "rb") as f:
                core = int(f.read().rsplit(b")", 1)[1].split()[36])
        os.sched_setaffinity(0, {core})
    except (OSError, ValueError, IndexError, AttributeError):
        pass


def _exit_now(code: int) -> None:
    try:
        state.R.flush()
    finally:
        os._exit(code)


def run(job: dict, spec: dict, code, seals=(None, "")) -> None:
    """Execute ``code`` as ``__main__`` under the schedule ``spec``; ends the process. ``seals``:
    the run's sealer and the key of its spawned children (``events.sealer``, ``spawn_key``)."""
    status = EXIT_INTERNAL
    try:
        status = _run(job, spec, code, seals)
    finally:
        os._exit(status)


def _run(job: dict, spec: dict, code, seals) -> int:
    os.setpgid(0, 0)
    _stay_on_one_core(spec.get("core"))
    script = spec["script"]
    events_fd = os.open(spec["events"], _APPEND, 0o600)
    raw_fd = os.open(spec["raw"], _APPEND, 0o600)
    for fd in job.get("close_fds", []):  # the engine's own channels (fd 0 is made /dev/null below)
        try:
            os.close(fd)
        except OSError:
            pass
    # As `python file.py < /dev/null`: input() reads EOF (the grader gives no keyboard input).
    null = os.open(os.devnull, os.O_RDONLY)
    if null != 0:
        os.dup2(null, 0)
        os.close(null)
    os.dup2(raw_fd, 1)
    os.dup2(raw_fd, 2)
    os.chdir(spec["cwd"])
    faulthandler.register(signal.SIGUSR1, file=raw_fd, all_threads=True)
    sealer, spawned_key = seals
    contain.apply(job, spec, sealer)  # the sandbox, now that the run's files are open and no thread started

    limits = job["limits"]
    seed = spec["seed"]
    random.seed(seed)
    directions = spec.get("directions") or []
    crossproc.configure(directions)  # a direction that holds processes; the others steer threads
    strategy = strategies.make(spec["strategy"], seed, job.get("pct_depth", 3), job.get("pct_horizon", 200),
                               [d for d in directions if "readers_of" not in d])
    sched = Scheduler(strategy, timed=spec["time_mode"] == "timed", max_steps=limits["steps"],
                      max_vtime=limits["virtual_seconds"], on_stop=_make_stop(script))
    rec = Recorder(events_fd, script, state.who, limits["output_bytes"],
                   on_overflow=lambda: _exit_now(EXIT_LIMIT), key=sealer)
    signal.signal(signal.SIGUSR2, rec.flush_on_signal)  # before a hang's kill: keep what it printed
    options = dict(spec.get("options") or {})
    options["trace"] = job.get("trace", {})
    options["trace_bodies"] = job.get("trace_bodies", [])
    options["seed"] = seed
    options["start_method"] = spec.get("start_method", "fork")
    options["spawn"] = _spawn_config(job, spec, options, code, spawned_key)
    runtime.activate(sched, rec, options)
    files.serve(spec.get("data"), job.get("data", {}).get("file"))
    if "multiprocessing" in sys.modules:  # warm already; otherwise set when the program imports it
        runtime.use_start_method(sys.modules["multiprocessing"])

    sys.stdout = Capture(rec, "out", 1)
    sys.stderr = Capture(rec, "err", 2)
    # A stdin of its own on /dev/null: the engine's may hold what it read ahead of its job.
    sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115  (the interpreter's stdin: never closed)
    sys.argv = [script]
    rec.emit("proc", ppid=os.getppid(), method="main")

    main = types.ModuleType("__main__")
    main.__file__ = script
    main.__builtins__ = __builtins__
    sys.modules["__main__"] = main
    status = 0
    _started(spec)
    watch.install(script, _prober(rec))
    del job, options, seals, sealer, spawned_key  # nothing of the set-up stays in this frame
    try:
        exec(code, main.__dict__)
    except SystemExit as exc:
        status = _exit_status(exc.code)
    except Stop:  # the stop handler has already ended the process; kept for safety
        return EXIT_LIMIT
    except BaseException as exc:  # the student's uncaught exception: print it as Python would
        runtime.report_exception(type(exc), exc, exc.__traceback__)
        status = 1
    # Like threading._shutdown: the process lives until its non-daemon threads end.
    for ts in list(sched.threads[1:]):
        if not ts.daemon and ts.state != "done":
            sched.join(ts, None)
    try:
        atexit._run_exitfuncs()
    except BaseException:
        pass
    state.M.settle()
    rec.emit("exit", code=status)
    rec.flush()
    crossproc.leave()  # a process forked with os.fork ends here too: the turn passes on
    return status


def _started(spec: dict) -> None:
    """Tell the engine's process, on a pipe the program cannot take back, that the program is
    about to run: from now on nothing this process says can be the sandbox's or the grader's
    failure (``launcher._uncontained``)."""
    fd = spec.pop("channel", None)
    if fd is None:
        return
    try:
        os.write(fd, b"S")
    except OSError:
        pass
    finally:
        try:
            os.close(fd)
        except OSError:
            pass


def _prober(rec):
    def report(what: str, detail: str, ln) -> None:
        rec.emit("probe", what=what, detail=str(detail)[:200], ln=ln)
        rec.flush()  # written down at once: what the program does next cannot take it back
    return report


def _exit_status(code) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        sys.stderr.write(f"{code}\n")
    except Exception:
        pass
    return 1


def _spawn_config(job: dict, spec: dict, options: dict, code, spawned_key: str) -> dict:
    """What a spawn child needs to run under the engine (see ``grader.engine.spawned``): the
    instrumented program too, which it re-imports in place of the file on disk."""
    import marshal
    return {
        "code": marshal.dumps(code).hex(),
        "script": spec["script"], "events": spec["events"], "seed": spec["seed"],
        "data": spec.get("data"), "data_file": job.get("data", {}).get("file"),
        "time_mode": spec["time_mode"], "limits": job["limits"],
        # Spawned children seal their events as forked ones do (the key stays in memory, in the
        # preparation data's pipe, never in the environment or a file).
        "key": spawned_key,
        "options": {k: v for k, v in options.items() if k != "spawn"},
    }

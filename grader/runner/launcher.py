"""Runs a submission's schedules in a child process and turns what it left into ``RunRecord``s.

The parent never imports or executes the submission. It prepares a scratch tree, starts the
engine's warm child (``grader.engine.child``) in a new session, gives it a JSON job, waits with a
wall-clock limit (killing the whole process group when it passes), then reads the events files.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ..engine import contain
from ..engine.events import EXIT_INTERNAL, decode_lines
from ..exercises.catalog import Exercise, course, data_file
from ..exercises.plan import data_variant
from ..verdicts.observation import RunRecord, Schedule
from . import sandbox
from .workspace import Workspace, read_capped

EVENTS_CAP = 64 << 20
RAW_CAP = 256 << 10
_PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])


@dataclass
class Execution:
    """Everything the runs produced."""

    runs: list[RunRecord]
    compile_error: str | None = None
    engine_error: str | None = None
    """The engine itself failed (the grader's fault, not the student's)."""


def cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def child_env(home: Path) -> dict[str, str]:
    """A clean environment: nothing of the user's Python settings reaches the submission."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": _PACKAGE_PARENT,
    }


def execute(exercise: Exercise, source: str, filename: str, schedules: list[Schedule],
            base_seed: int, jobs: int | None = None) -> Execution:
    """Run every schedule of ``schedules`` on ``source``; returns the observed runs."""
    spec = course().data
    lines = data_file().read_text(encoding=spec.encoding).splitlines()
    header, records = lines[:spec.header_lines], spec.records(lines)
    with Workspace.create(filename, spec) as ws:
        for name in dict.fromkeys(s.variant for s in schedules):
            ws.add_variant(name, header + data_variant(name, records, base_seed), source)
        key = os.urandom(16)  # seals the engine's event lines: a program cannot append its own
        job = _job(exercise, source, schedules, ws, jobs or cpu_count())
        job["key"] = key.hex()
        lines, err, timed_out, status = _run_child(job, ws.root, exercise.limits["total_seconds"])
        results = {}
        compile_error = None
        for line in lines:
            if "compile_error" in line:
                compile_error = line["compile_error"]
            elif "index" in line:
                results[line["index"]] = line
        uncontained = _uncontained(results, ws, key)
        # A schedule without a result was skipped after a hang or a flood (or the engine died).
        runs = [_record(s, ws, results[s.index], key) for s in schedules if s.index in results]
        missing = [s for s in schedules if s.index not in results]
        runner_killed = (status != 0 and not timed_out and compile_error is None and missing
                         and "Traceback (most recent call last)" not in err)
        if runner_killed:  # the program killed the process that ran it: its fault, not the grader's
            runs.append(_record(missing[0], ws, {"exit": None, "signal": None, "timed_out": False,
                                                 "wall": 0.0}, key, runner_killed=True))
    engine_error = None
    if not runs and compile_error is None:
        engine_error = uncontained or (err.strip().splitlines() or ["the engine stopped without a report"])[-1]
    return Execution(runs, compile_error, engine_error)


def _job(exercise: Exercise, source: str, schedules: list[Schedule], ws: Workspace, jobs: int) -> dict:
    return {
        "source": source,
        "limits": exercise.limits,
        "trace": exercise.trace,
        "pct_depth": exercise.pct_depth,
        "pct_horizon": exercise.pct_horizon,
        "jobs": jobs,
        "schedules": [{
            "index": s.index, "seed": s.seed, "strategy": s.strategy, "time_mode": s.time_mode,
            "start_method": s.start_method, "options": dict(s.options),
            "cwd": str(ws.cwd(s.variant)), "script": str(ws.script(s.variant)),
            "events": str(ws.events(s.index)), "raw": str(ws.raw(s.index)),
        } for s in schedules],
    }


def _uncontained(results: dict, ws: Workspace, key: bytes) -> str | None:
    """Drop the runs whose sandbox could not be set (they ended before the program's first line,
    saying so under the job's seal): the grader's fault, not the student's. Returns what they said."""
    why = None
    for index, line in list(results.items()):
        if line.get("exit") == EXIT_INTERNAL:
            raw, _ = read_capped(ws.raw(index), 4096)
            said = contain.uncontained(raw, key)
            if said:
                why = said
                del results[index]
    return why


def _run_child(job: dict, root: Path, limit: float) -> tuple[list[dict], str, bool, int]:
    confinement = sandbox.confine(root, int(job["limits"]["processes"]))
    job["reap"] = confinement.needs_reaper
    job["contain"] = confinement.policy
    proc = subprocess.Popen(
        # -S: no site-packages to scan at start (PYTHONPATH finds the engine); the engine puts
        # back the site builtins a program may use (exit, quit).
        confinement.command([sys.executable, "-S", "-X", "utf8", "-m", "grader.engine.child"]),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        cwd=root, env=child_env(root), start_new_session=True,
    )
    timed_out = False
    try:
        out, err = proc.communicate(json.dumps(job).encode(), timeout=limit)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(proc.pid)
        out, err = proc.communicate()
    finally:
        _kill_group(proc.pid)  # nothing of the run may outlive it
        confinement.kill_all()
    lines = []
    for raw in out.splitlines():
        try:
            lines.append(json.loads(raw))
        except ValueError:
            pass
    return lines, err.decode("utf-8", "replace")[-4000:], timed_out, proc.returncode


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _trusted(events: list[dict], schedule: Schedule) -> tuple[list[dict], int]:
    """Unsealed events are believed only from spawned children (they start without the key)."""
    main = next((e["pid"] for e in events if e["k"] == "proc" and e.get("method") == "main"
                 and not e.get("unsealed")), None)
    kept, dropped = [], 0
    for e in events:
        if e.get("unsealed") and (schedule.start_method != "spawn" or e.get("pid") == main):
            dropped += 1
        else:
            kept.append(e)
    return kept, dropped


def _record(schedule: Schedule, ws: Workspace, result: dict, key: bytes,
            runner_killed: bool = False) -> RunRecord:
    data, _ = read_capped(ws.events(schedule.index), EVENTS_CAP)
    events, forged = decode_lines(data, key)
    events, dropped = _trusted(events, schedule)
    procs: dict[int, int] = {}
    for e in events:
        e["proc"] = procs.setdefault(e.get("pid", 0), len(procs))
    raw, cut = read_capped(ws.raw(schedule.index), RAW_CAP)
    return RunRecord(
        schedule=schedule,
        data_lines=ws.variants[schedule.variant],
        types=[ws.spec.values(line) for line in ws.spec.records(ws.variants[schedule.variant])],
        events=events,
        exit_code=result["exit"],
        signal=result["signal"],
        timed_out=bool(result["timed_out"]),
        wall_seconds=float(result["wall"]),
        raw_output=raw.decode("utf-8", "replace"),
        output_truncated=cut,
        runner_killed=runner_killed,
        tampered=forged + dropped,
    )

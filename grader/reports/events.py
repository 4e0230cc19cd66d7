"""``grade FILE --events PATH``: what each run of a grading recorded, as one JSON document.

The document holds, for every run of the grading (seeded and race-directed, every group), how it
was scheduled, how it ended, its output, and the records the parent kept of it: the same
validated, annotated records a check reads as ``obs.runs[i].events``. Its shape is
``events.schema.json`` beside this file (``docs/events.md`` explains every field).

One JSON document, not JSON Lines: it is bounded (below), so it loads with one ``json.load``
and validates against one JSON Schema; each record still sits on a line of its own, so that
``grep`` and ``diff`` work on it line by line.

Pure: it reads an ``Observation`` the parent already holds and re-runs nothing. The same file
and seed give the same bytes: nothing in it comes from the clock or the machine (no wall time, no
OS process id: ``pid``, ``ppid`` and ``cpid`` are the run's own process numbers), and a run of
several processes lists its records in an order that does not depend on which process wrote
first (``in_stable_order``), memory addresses' stand-ins numbered in that order.

Bounded, whatever a program floods its runs with:
- a text in a record is cut at ``TEXT`` characters, a list or dict at ``ITEMS`` entries, a run's
  output at ``OUTPUT`` characters (head and tail kept); a record so shortened carries ``"cut": true``;
- a run keeps at most ``RUN_RECORDS`` records and ``RUN_BYTES`` bytes of them, the first three
  quarters and the last quarter (where a run ends: its ``exit``, ``deadlock`` or ``limit``), and
  says which it left out (``omitted``);
- the whole document's records stay within ``TOTAL_BYTES``: a run past it keeps none.
"""
from __future__ import annotations

import json
import math
import re

from grader.runner.stable import STAND_IN_BASE
from grader.verdicts.observation import Observation, RunRecord, in_process_order

SCHEMA = 1
"""The version of the document's shape (``schema``): a new version when a field changes meaning or
goes away; a new optional field does not make one."""

TEXT = 4096
ITEMS = 2000
OUTPUT = 16_000
RUN_RECORDS = 10_000
RUN_BYTES = 2 << 20
TOTAL_BYTES = 16 << 20

_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


class _Cut:
    """Shortens one record's values to the bounds, noting whether it did."""

    __slots__ = ("cut",)

    def __init__(self):
        self.cut = False

    def value(self, v):
        t = type(v)
        if v is None or t is bool or t is int:
            return v
        if t is str:
            if len(v) > TEXT:
                self.cut = True
                v = v[:TEXT] + "…"
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate: the file must be UTF-8
                self.cut = True
                v = v.encode("utf-8", "replace").decode("utf-8")
            return v
        if t is float:
            if math.isfinite(v):
                return v
            self.cut = True
            return repr(v)
        if t is list:
            if len(v) > ITEMS:
                self.cut = True
                v = v[:ITEMS]
            return [self.value(x) for x in v]
        if t is dict:
            items = list(v.items())
            if len(items) > ITEMS:
                self.cut = True
                items = items[:ITEMS]
            return {_utf8(str(k)): self.value(x) for k, x in items}
        self.cut = True  # not JSON data (never in a validated record)
        return repr(v)[:TEXT]


def record(e: dict, procs: dict) -> dict:
    """One record as the document writes it: its values bounded, ``pid``, ``ppid`` and ``cpid`` the
    run's process numbers (``procs``: OS pid -> ``proc``; null for a process not of the run)."""
    c = _Cut()
    out = {}
    for name, v in e.items():
        if name == "pid":
            v = e.get("proc", procs.get(v, 0))
        elif name == "ppid" or name == "cpid":
            v = procs.get(v)
        else:
            v = c.value(v)
        out[name] = v
    if c.cut:
        out["cut"] = True
    return out


def ended(run: RunRecord) -> str:
    """How a run ended, in one word (in the order ``check_runs`` explains it)."""
    if run.ended_normally:
        return "normally"
    stop = run.stop_event
    if run.tampered:
        return "tampered"
    if run.runner_killed:
        return "killed_runner"
    if run.timed_out:
        return "timeout"
    if stop is not None:
        return stop["k"]  # deadlock or limit
    if run.exceptions:
        return "exception"
    if run.signal is not None:
        return "signal"
    if run.exit_code == 0:
        return "abrupt"
    return "exit_status"


def _utf8(text: str) -> str:
    """``text`` with any lone surrogate replaced: the file is UTF-8."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")


def _output(text: str) -> tuple[str, bool]:
    if len(text) <= OUTPUT:
        return text, False
    head, tail = OUTPUT * 3 // 4, OUTPUT // 4
    left = len(text) - head - tail
    return f"{text[:head]}\n…[{left} characters left out]…\n{text[-tail:]}", True


def _kept(lines: list[str], budget: int) -> tuple[list[str], int, int]:
    """The encoded records within the run's bounds: (kept, first left out, how many left out)."""
    budget = min(budget, RUN_BYTES)
    if len(lines) <= RUN_RECORDS and sum(len(s) + 2 for s in lines) <= budget:
        return lines, len(lines), 0
    head_n, head_b = RUN_RECORDS * 3 // 4, budget * 3 // 4
    tail_n, tail_b = RUN_RECORDS - head_n, budget - head_b
    i = used = 0
    while i < len(lines) and i < head_n and used + len(lines[i]) + 2 <= head_b:
        used += len(lines[i]) + 2
        i += 1
    j, used = len(lines), 0
    while j > i and len(lines) - j < tail_n and used + len(lines[j - 1]) + 2 <= tail_b:
        used += len(lines[j - 1]) + 2
        j -= 1
    return lines[:i] + lines[j:], i, j - i


def _fresh_processes(run: RunRecord) -> set[int]:
    """The run's processes whose birth no parent recorded (``spawn`` children), 0 never."""
    forked = {0} | {e.get("proc", 0) for e in run.of("proc", process=None) if e.get("method") == "fork"}
    return set(run.processes) - forked


def in_stable_order(run: RunRecord) -> list[dict]:
    """The run's records in an order that is the same from grading to grading.

    One process: ``run.events`` as it is. Several: processes run side by side write in an order
    that varies, so each forked child's records come where it was forked (``in_process_order``),
    and a process whose birth its parent did not record (a ``spawn`` child: a fresh interpreter)
    comes after them, as a block of its own, in the order of process numbers.
    """
    if len(run.processes) < 2:
        return run.events
    fresh = _fresh_processes(run)
    forked = set(run.processes) - fresh
    mine = [e for e in run.events if e.get("proc", 0) in forked]
    rest = [e for e in run.events if e.get("proc", 0) not in forked]
    rest.sort(key=lambda e: e.get("proc", 0))  # stable: each process's own order is kept
    return (in_process_order(mine) if len(forked) > 1 else mine) + rest


class _StandIns:
    """Renumbers the stand-ins of memory addresses (``runner.stable``) in the order they appear
    here: the parent numbered them in the order the records arrived, which varies when processes
    run side by side."""

    _TOKEN = re.compile(r"\b0x7f[0-9a-f]{10}\b")

    def __init__(self, offset: int = 0):
        self.seen: dict[str, str] = {}
        self.base = STAND_IN_BASE + offset

    def __call__(self, text: str) -> str:
        return self._TOKEN.sub(self._one, text) if "0x7f" in text else text

    def _one(self, m: re.Match) -> str:
        token = m.group(0)
        if token not in self.seen:
            self.seen[token] = f"0x{self.base + 0x40 * len(self.seen):x}"
        return self.seen[token]


def _schedule(run: RunRecord) -> dict:
    s = run.schedule
    return {
        "index": s.index, "group": s.group, "seed": s.seed, "strategy": s.strategy, "time_mode": s.time_mode,
        "data": s.variant, "start_method": s.start_method,
        "options": {str(k): _Cut().value(v) for k, v in s.options},
        "directed": bool(s.directions), "origin": s.origin,
        "directions": [_Cut().value(d.as_json()) for d in s.directions],
    }


def render_events(obs: Observation | None, *, exercise: str, submission: str, seed: int,
                  version: str = "", not_run: str | None = None) -> bytes:
    """The document (UTF-8 JSON, final newline) for one grading: ``obs`` its observation, or None
    when no run took place (``not_run`` says why, e.g. a syntax error)."""
    from grader import __version__

    head = {
        "schema": SCHEMA,
        "grader": version or __version__,
        "exercise": exercise,
        "submission": _utf8(submission),  # a file name may not be UTF-8 (surrogate escapes)
        "seed": seed,
        "replay": _utf8(obs.replay) if obs is not None else "",
        "planned": obs.planned if obs is not None else 0,
        "not_run": _utf8(not_run) if obs is None and not_run is not None else None,
        "bounds": {"text": TEXT, "items": ITEMS, "output": OUTPUT, "run_records": RUN_RECORDS,
                   "run_bytes": RUN_BYTES, "total_bytes": TOTAL_BYTES},
    }
    parts = ["{\n"]
    for name, v in head.items():
        parts.append(f'  {_ENCODE(name)}: {_ENCODE(v)},\n')
    runs = sorted(obs.runs, key=lambda r: r.schedule.index) if obs is not None else []
    if not runs:
        parts.append('  "runs": []\n}\n')
        return "".join(parts).encode("utf-8")
    parts.append('  "runs": [\n')
    left = TOTAL_BYTES
    for n, run in enumerate(runs):
        procs = {e.get("pid"): e.get("proc", 0) for e in run.events}
        ordered = in_stable_order(run)
        many = len(run.processes) > 1
        renumber = _StandIns()
        fresh = _fresh_processes(run) if many else set()
        apart = {p: _StandIns(0x100000 * p) for p in fresh}  # a fresh interpreter's addresses are its own

        def stand_ins(e: dict) -> _StandIns:
            return apart.get(e.get("proc", 0)) or renumber

        if many:
            lines = [stand_ins(e)(_ENCODE(record(e, procs))) for e in ordered]
        else:
            lines = [_ENCODE(record(e, procs)) for e in ordered]
        kept, first, count = _kept(lines, left)
        left -= sum(len(s) + 2 for s in kept)
        whole = run.all_output()
        if fresh:  # the spawned processes' output in the order of their records here
            said = [e for e in ordered if e["k"] == "out"]
            raw = whole[sum(len(e["s"]) for e in said):]
            whole = "".join(stand_ins(e)(e["s"]) for e in said) + renumber(raw)
        elif many:
            whole = renumber(whole)
        output, output_cut = _output(whole)
        info = {
            **_schedule(run),
            "ended": ended(run), "ended_normally": run.ended_normally,
            "exit_code": run.exit_code, "signal": run.signal, "timed_out": run.timed_out,
            "runner_killed": run.runner_killed, "tampered": run.tampered, "accesses_cut": int(run.accesses_cut),
            "output": _utf8(output),
            "output_truncated": run.output_truncated or output_cut,
            "data_lines": len(run.data_lines),
            "records": len(run.events),
            "omitted": {"first": first, "count": count} if count else None,
        }
        parts.append("    {\n")
        for name, v in info.items():
            parts.append(f"      {_ENCODE(name)}: {_ENCODE(v)},\n")
        if kept:
            parts.append('      "events": [\n        ' + ",\n        ".join(kept) + "\n      ]\n")
        else:
            parts.append('      "events": []\n')
        parts.append("    }" + ("," if n < len(runs) - 1 else "") + "\n")
    parts.append("  ]\n}\n")
    return "".join(parts).encode("utf-8")


def not_run_reason(result) -> str | None:
    """Why a grading made no run, in English, from its ``GradeResult`` (the failure of ``runs``, or
    else the first failure: a syntax error, the engine's fault); None when nothing failed."""
    failed = [c for c in result.checks if c.failure is not None]
    check = next((c for c in failed if c.id == "runs"), failed[0] if failed else None)
    if check is None:
        return None
    f = check.failure
    return f"{f.summary.en}: {f.observed.en}" if f.observed is not None else f.summary.en

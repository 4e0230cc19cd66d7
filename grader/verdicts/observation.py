"""What the parent observed of a submission's runs: the only input the checks get.

A ``RunRecord`` is one execution of the program under one schedule; an ``Observation`` is all
of them plus the source. Both are plain data built in the parent from the child's events file and
exit status (see ``grader.engine.events`` for the event kinds).
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterator


@dataclass(frozen=True)
class Schedule:
    """How one run is to be executed: everything that makes it reproducible."""

    index: int
    group: str
    """The run group of the assignment YAML this run belongs to (``explore``, ``spawn``...)."""
    seed: int
    strategy: str
    """``pct`` or ``random``."""
    time_mode: str
    """``timed``: sleeps advance a virtual clock; ``yield``: a sleep is only a scheduling point."""
    variant: str
    """Name of the data variant (``course``, ``shuffled``, ``rotated``...)."""
    start_method: str = "fork"
    options: tuple[tuple[str, object], ...] = ()
    """Extra engine options, e.g. ``(("semaphore_cap", 1),)``."""
    directions: tuple = ()
    """Race directions (``grader.explore.directed.Direction``) applied on top of the seeded strategy."""
    origin: int | None = None
    """The run whose race this directed run turns around (its ``index``)."""
    base_seed: int = 1
    """The ``--seed`` of the grading this run belongs to (runs of several seeds may share a child)."""

    @property
    def key(self) -> str:
        """Unique among the runs of one engine child: ``<base seed>-<index>``."""
        return f"{self.base_seed}-{self.index}"


@dataclass
class RunRecord:
    """One run as observed: exit, events, output."""

    schedule: Schedule
    data_lines: list[str]
    """The lines of the data file this run was given."""
    events: list[dict]
    exit_code: int | None
    """The process's exit status; ``None`` if it was killed by a signal or by the watchdog."""
    signal: int | None = None
    timed_out: bool = False
    """Stopped at its time limit (``engine/meter.py``: its own time, not the machine's)."""
    wall_seconds: float = 0.0
    own_seconds: float = 0.0
    """Its own time at the last look (0 when it ended before one was needed, or /proc was blind)."""
    raw_output: str = ""
    """Output written below Python's ``sys.stdout`` (``os.write``, C code), capped."""
    output_truncated: bool = False
    runner_killed: bool = False
    """The program killed the grader's process that ran it (its parent)."""
    tampered: int = 0
    """Lines of the events file that the engine did not write (the program forged them)."""
    accesses_cut: int = 0
    """Accesses of this run left out of the analysis (past its budget, ``runner.accesses``)."""
    types: list[list[str]] = field(default_factory=list)
    """The values of each record of this run's data, as the course declares them (for this course:
    ``read_types`` of the lecture, ``[["くさ", "どく"], ...]``)."""
    result_marker: str = "集計結果"
    """What the course's programs print before their result (``result.marker`` of course.yaml)."""
    result_records: int | None = 9
    """How many records of the data the result counts (``result.records``; None: every one)."""

    # -- the program's output ---------------------------------------------------------------

    def output(self, process: int = 0, stream: str = "out") -> str:
        """Text the program's process number ``process`` wrote to ``stream``."""
        return "".join(e["s"] for e in self.kinds.get("out", ()) if e.get("proc", 0) == process
                       and e.get("stream", "out") == stream)

    def all_output(self) -> str:
        """Everything printed by every process and stream (for reports), each process's output
        where it began: the same text every time, though processes run side by side."""
        events = self.events if len(self.processes) < 2 else in_process_order(self.events)
        # A hang's stack dump is for the verdict (which names the loop): where in the loop the
        # kill landed is luck, and the student reads the verdict instead.
        raw = _STACK_DUMP.sub("", self.raw_output) if "most recent call first" in self.raw_output else self.raw_output
        return "".join(e["s"] for e in events if e["k"] == "out") + raw

    def lines(self, process: int = 0) -> list[str]:
        return self.output(process).splitlines()

    # -- events --------------------------------------------------------------------------------

    @cached_property
    def kinds(self) -> dict[str, list[dict]]:
        """The events of each kind, in order (built once: the checks ask often, accesses are many)."""
        out: dict[str, list[dict]] = {}
        for e in self.events:
            k = e["k"]
            if k in out:
                out[k].append(e)
            else:
                out[k] = [e]
        return out

    def of(self, *kinds: str, process: int | None = 0) -> Iterator[dict]:
        """Events of these kinds (of one process, or of all when ``process`` is None), in order."""
        if len(kinds) == 1:
            chosen = self.kinds.get(kinds[0], ())
        else:
            wanted = set(kinds)
            chosen = (e for e in self.events if e["k"] in wanted)
        for e in chosen:
            if process is None or e.get("proc", 0) == process:
                yield e

    def first(self, kind: str, process: int | None = 0) -> dict | None:
        return next(self.of(kind, process=process), None)

    @cached_property
    def processes(self) -> list[int]:
        """Process numbers seen, 0 being the program's main process."""
        return sorted({e.get("proc", 0) for e in self.events})

    @cached_property
    def stop_event(self) -> dict | None:
        """The deadlock or limit event that ended the run, if any."""
        return next(self.of("deadlock", "limit"), None)

    @cached_property
    def exceptions(self) -> list[dict]:
        return list(self.kinds.get("exc", ()))

    @property
    def ended_normally(self) -> bool:
        """The program ended by itself with status 0, no thread died of an exception."""
        return (self.exit_code == 0 and not self.timed_out and not self.runner_killed
                and not self.tampered and self.stop_event is None and not self.exceptions
                and self.first("exit") is not None)



@dataclass
class Observation:
    """All runs of one submission for one exercise, and its source."""

    exercise: str
    source: str
    filename: str
    runs: list[RunRecord]
    base_seed: int = 1
    replay: str = ""
    """The command that reproduces this observation (``grade FILE --seed N``)."""
    planned: int = 0
    """Schedules that were to run, the race-directed ones included (fewer ran after a hang)."""

    def group(self, *names: str) -> list[RunRecord]:
        """Runs of these run groups (all runs when no name is given)."""
        if not names:
            return list(self.runs)
        return [r for r in self.runs if r.schedule.group in names]

    @cached_property
    def tree(self) -> ast.Module | None:
        """The submission's AST, or None when it does not parse."""
        try:
            return ast.parse(self.source)
        except (SyntaxError, ValueError):
            return None

    def source_line(self, lineno: int | None) -> str:
        """The text of a source line (stripped), or '' when out of range."""
        if not lineno:
            return ""
        lines = self.source.splitlines()
        return lines[lineno - 1].strip() if 0 < lineno <= len(lines) else ""


_STACK_DUMP = re.compile(r"^(?:Current thread|Thread) 0x[0-9a-f]+ \(most recent call first\):\n(?:  .*\n?)*\n?",
                         re.MULTILINE)


def in_process_order(events: list[dict]) -> list[dict]:
    """The events of a run of several processes in an order that is the same from run to run.

    The events file holds them in the order the processes, running side by side, happened to
    write them. Here each process's events (in its own order) come right where it was forked in
    its parent's (``proc``'s ``at``), brothers in the order they were forked; a process whose
    birth was not recorded (spawned: a fresh interpreter) comes where the file first shows it.
    """
    mine: dict[int, list[dict]] = {}
    for e in events:
        mine.setdefault(e.get("proc", 0), []).append(e)
    proc_of_pid = {e.get("pid"): e.get("proc", 0) for e in events}
    last_seen: dict[int, int] = {}  # per process, the n of its latest event so far in the file
    born: dict[int, list[tuple[int, int, int]]] = {}  # parent -> [(at, nth, child)]
    for e in events:
        p = e.get("proc", 0)
        if p != 0 and e is mine[p][0]:
            parent = proc_of_pid.get(e.get("ppid"), 0) if e["k"] == "proc" else 0
            if parent == p:
                parent = 0
            at, nth = last_seen.get(parent, 0), 1 << 30
            if e["k"] == "proc" and isinstance(e.get("at"), int) and isinstance(e.get("nth", 0), int):
                at, nth = e["at"], e.get("nth", 0)
            born.setdefault(parent, []).append((at, nth, p))
        last_seen[p] = e.get("n", 0)
    out: list[dict] = []
    placed: set[int] = set()

    def emit(p: int) -> None:
        if p in placed:
            return
        placed.add(p)
        kids = sorted(k for k in born.get(p, []) if k[2] not in placed)
        for e in mine.get(p, []):
            while kids and kids[0][0] < e.get("n", 0):
                emit(kids.pop(0)[2])
            out.append(e)
        for kid in kids:
            emit(kid[2])

    emit(0)
    for p in mine:  # a cycle of parents (a forged line) or an orphan: after the rest
        if p not in placed:
            emit(p)
    return out


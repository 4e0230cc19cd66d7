"""Runs a submission's schedules in a child process and turns what it left into ``RunRecord``s.

The parent never imports or executes the submission. It prepares a scratch tree, gives the
engine's warm child (``engine_process``) its job, and talks to it in rounds: a batch
of schedules goes down its stdin, one line per finished schedule comes back; the parent reads the
events files of that batch, plans the race-directed schedules they call for (``grader.explore``)
and sends those as the next batch, until nothing new is left or the budget is spent. A wall-clock
limit covers the whole conversation; past it the process group is killed.
"""
from __future__ import annotations

import ast
import collections
import dataclasses
import marshal
import os
from dataclasses import dataclass

from ..engine import contain, instrument
from ..engine.events import EXIT_INTERNAL, decode_lines, spawn_key
from ..exercises.catalog import Exercise, course, data_file
from ..exercises.plan import data_variant
from ..explore.directed import directions_for, hold_directions
from ..verdicts.observation import RunRecord, Schedule
from .accesses import annotate, in_sequence, within_budget
from .validate import screen
from .engine_process import EngineProcess
from .stable import Stabilizer
from .workspace import Workspace, read_capped

EVENTS_CAP = 64 << 20
RAW_CAP = 256 << 10
_ENGINE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the grader package
SIMPLEST_LOSS = 2  # thread switches in "A reads, B reads, B writes, A writes"


@dataclass
class Execution:
    """Everything the runs produced."""

    runs: list[RunRecord]
    compile_error: str | None = None
    engine_error: str | None = None
    """The engine itself failed (the grader's fault, not the student's)."""
    planned: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    """Schedules that were to run, per base seed (the seeded ones and every directed one planned)."""


def cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def execute(exercise: Exercise, source: str, filename: str, schedules: list[Schedule],
            jobs: int | None = None, engine: EngineProcess | None = None) -> Execution:
    """Run the base ``schedules`` on ``source``, then the race-directed schedules their runs call
    for (within each run group's ``directed`` budget); returns every observed run.

    ``schedules`` may be the plans of several base seeds: each seed's runs get their own data and
    their own exploration, exactly as if graded alone. ``engine``: a child started early
    (``EngineProcess()``), used and discarded here.
    """
    engine = engine or EngineProcess()
    try:
        return _execute(engine, exercise, source, filename, schedules, jobs)
    finally:
        engine.discard()


def _execute(engine: EngineProcess, exercise: Exercise, source: str, filename: str,
             schedules: list[Schedule], jobs: int | None) -> Execution:
    spec = course().data
    lines = data_file().read_text(encoding=spec.encoding).splitlines()
    header, records = lines[:spec.header_lines], spec.records(lines)
    ws = engine.workspace.prepare(filename, spec)
    for name, seed in dict.fromkeys((s.variant, s.base_seed) for s in schedules):
        ws.add_variant(name, seed, header + data_variant(name, records, seed), source)
    key = os.urandom(16)  # seals the engine's event lines: a program cannot append its own
    try:
        job, sites = _job(exercise, source, ws, jobs or cpu_count())
    except (SyntaxError, ValueError) as exc:
        return Execution([], f"{type(exc).__name__}: {exc}")
    job["key"] = key.hex()
    seeds = len({s.base_seed for s in schedules})
    engine.begin(job, exercise.limits["total_seconds"] * seeds)
    explorer = _Explorer(exercise, schedules)
    runs: list[RunRecord] = []
    compile_error = uncontained = None
    batch = list(schedules)
    planned = collections.Counter(s.base_seed for s in batch)
    missing: list[Schedule] = []
    gone = False
    stopped: dict[int, int] = {}  # base seed -> index of its first run that hung, flooded or hit a limit
    while batch:
        by_key = {s.key: s for s in batch}
        # The longest first (a spawn run starts a fresh interpreter and 13 children): the others
        # then fill the other core meanwhile. The order changes no run, only when it starts.
        order = sorted(batch, key=lambda s: s.start_method != "spawn")
        engine.send({"schedules": [_spec(s, ws) for s in order]})
        explorer.warm()
        finished: list[RunRecord] = []
        gone = False
        while True:
            line = engine.read()
            if line is None:
                gone = True
                break
            if "compile_error" in line:
                compile_error = line["compile_error"]
                gone = True
                break
            if "batch" in line:
                break
            if line.get("key") in by_key:
                s = by_key.pop(line["key"])
                said = _uncontained(line, ws, s, key)
                if said:  # not a run of the program's: no record, and an engine error if none ran
                    uncontained = said
                    continue
                if line.get("stops"):  # it would again on the next schedule: that seed is done
                    stopped[s.base_seed] = min(s.index, stopped.get(s.base_seed, s.index))
                finished.append(_record(s, ws, line, key, sites))
        runs.extend(finished)
        if gone:
            missing = sorted(by_key.values(), key=lambda s: (s.base_seed, s.index))
            break
        batch = [s for s in explorer.next_batch(finished) if s.base_seed not in stopped]
        planned.update(s.base_seed for s in batch)
    # A seed's runs after the first that stopped it are left out, whether or not they ran (the
    # child starts them while it does not yet know): the same file and seed keep the same runs.
    runs = [r for r in runs if r.schedule.index <= stopped.get(r.schedule.base_seed, r.schedule.index)]
    # Its exit status matters only when runs are missing (did the program kill it?).
    err, status = engine.close(patient=bool(missing) or gone or compile_error is not None)
    # The program killed the process that ran it: its fault, not the grader's.
    runner_killed = (status != 0 and not engine.timed_out and compile_error is None and missing
                     and "Traceback (most recent call last)" not in err)
    if runner_killed:
        runs.append(_record(missing[0], ws, {"exit": None, "signal": None, "timed_out": False,
                                             "wall": 0.0}, key, sites, runner_killed=True))
    engine_error = None
    if not runs and compile_error is None:
        engine_error = uncontained or (err.strip().splitlines() or ["the engine stopped without a report"])[-1]
    runs.sort(key=lambda r: (r.schedule.base_seed, r.schedule.index))
    return Execution(runs, compile_error, engine_error, planned)


class _Explorer:
    """Plans the directed schedules of each round from the runs of the last one.

    Candidates wait in a queue, the races of earlier runs first; each round takes a few of them,
    so that a group stops being explored as soon as one of its
    runs has lost an update in the simplest way there is (two threads read, both write: two thread
    switches): its tally already fails, and no other schedule could explain the loss more plainly.
    """

    PER_ROUND = 4
    """Directed runs a seed gets per round: fixed, never the machine's core count, so that the same
    file and seed explore the same schedules everywhere."""

    def __init__(self, exercise: Exercise, base: list[Schedule]):
        seeds = {s.base_seed for s in base}
        # Everything is kept per base seed: each grading explores as if it were alone.
        self.budget = {(seed, g.name): g.directed for seed in seeds for g in exercise.groups}
        self.rounds = {g.name: g.rounds for g in exercise.groups}
        self.next_index = {seed: 1 + max(s.index for s in base if s.base_seed == seed) for seed in seeds}
        self.tried: set = set()
        self.queue: list[tuple[Schedule, object]] = []

    @staticmethod
    def warm() -> None:
        """Import what planning needs while the first runs go: before them, the child would wait."""
        from ..verdicts import analysis  # noqa: F401

    def next_batch(self, finished: list[RunRecord]) -> list[Schedule]:
        from ..verdicts.analysis import process_races, process_view, shares_between_processes, simplest_loss

        for run in sorted(finished, key=lambda r: (r.schedule.base_seed, r.schedule.index)):
            s = run.schedule
            group = (s.base_seed, s.group)
            if self.budget.get(group, 0) <= 0:
                continue
            loss = simplest_loss(run.events)
            between = shares_between_processes(run.events)
            if loss is None and between:
                loss = simplest_loss(process_view(run.events))
            if loss is not None and loss.evident and loss.switches <= SIMPLEST_LOSS and run.ended_normally:
                # (a run that crashed is judged by ``runs`` only: its loss fails no tally)
                self.budget[group] = 0
                continue
            if len(s.directions) >= self.rounds.get(s.group, 0):
                continue
            if run.timed_out or run.stop_event is not None:
                continue  # a hang or a deadlock is judged as it is; its prefix is no base to build on
            scope = (s.base_seed, s.group, s.time_mode)
            found = directions_for(run.events, s.directions, self.tried, scope)
            if between:
                found += hold_directions(process_races(run.events), s.directions, self.tried, scope)
            for key, d in found:
                self.tried.add(key)
                self.queue.append((s, d))
        out: list[Schedule] = []
        rest = []
        taken: dict[int, int] = {}
        for s, d in self.queue:
            group = (s.base_seed, s.group)
            if self.budget.get(group, 0) <= 0:
                continue
            if taken.get(s.base_seed, 0) < self.PER_ROUND:
                taken[s.base_seed] = taken.get(s.base_seed, 0) + 1
                self.budget[group] -= 1
                index = self.next_index[s.base_seed]
                self.next_index[s.base_seed] += 1
                out.append(dataclasses.replace(s, index=index, directions=s.directions + (d,), origin=s.index))
            else:
                rest.append((s, d))
        self.queue = rest
        return out


def _job(exercise: Exercise, source: str, ws: Workspace, jobs: int) -> tuple[dict, list]:
    """The child's job and the program's site table; the instrumented program is compiled here (one
    code object per script path, so that ``__file__`` is each run's own copy) and travels
    marshalled, the same interpreter on both sides. Raises SyntaxError/ValueError as ``compile``
    does."""
    traced = set(exercise.trace)
    codes = {}
    sites: list = []
    for variant, seed in ws.variants:
        script = str(ws.script(variant, seed))
        code, sites = instrument.instrument(source, script, traced)
        codes[script] = marshal.dumps(code).hex()
    return {
        "source": source,
        "codes": codes,
        "limits": exercise.limits,
        "trace": exercise.trace,
        # A traced function the program does not define (renamed, a bound method, a run()
        # override) is traced as what its threads and processes run instead.
        "trace_bodies": sorted(traced - instrument.defined_functions(ast.parse(source))),
        "pct_depth": exercise.pct_depth,
        "pct_horizon": exercise.pct_horizon,
        "jobs": jobs,
        "data": {"file": ws.spec.file},
    }, sites


def _spec(s: Schedule, ws: Workspace) -> dict:
    return {
        "key": s.key, "index": s.key, "scope": s.base_seed, "order": s.index,
        "seed": s.seed, "strategy": s.strategy, "time_mode": s.time_mode,
        "start_method": s.start_method, "options": dict(s.options),
        "directions": [d.as_json() for d in s.directions],
        "cwd": str(ws.cwd(s.variant, s.base_seed)), "script": str(ws.script(s.variant, s.base_seed)),
        "data": str(ws.data(s.variant, s.base_seed)),
        "events": str(ws.events(s.key)), "raw": str(ws.raw(s.key)),
    }


def _uncontained(line: dict, ws: Workspace, s: Schedule, key: bytes) -> str | None:
    """What a run said when its sandbox could not be set (it ended before the program's first
    line, under the job's seal): the grader's fault, not the student's. None for any other run,
    and for one whose engine had heard that the program was starting (``started``: whatever its
    process says after that is the program's)."""
    if line.get("exit") != EXIT_INTERNAL or line.get("started"):
        return None
    raw, _ = read_capped(ws.raw(s.key), 4096)
    return contain.uncontained(raw, key)


def _record(schedule: Schedule, ws: Workspace, result: dict, key: bytes, sites: list,
            runner_killed: bool = False) -> RunRecord:
    data, _ = read_capped(ws.events(schedule.key), EVENTS_CAP)
    events, forged = decode_lines(data, key, spawn_key(key))
    # Every process of a run seals its lines; the key of spawned children seals only what spawned
    # processes say (their first record says so, sealed alike).
    spawned = {e.get("pid") for e in events if e.get("spawned_seal") and e.get("k") == "proc"
               and e.get("method") == "spawn"}
    kept = [e for e in events if not e.get("unsealed") and (not e.get("spawned_seal") or e.get("pid") in spawned)]
    kept, malformed = screen(kept)  # sealed, yet not what the engine writes: the program's doing
    dropped = len(events) - len(kept)
    events, cut = within_budget(in_sequence(kept))
    for e in events:
        e.pop("spawned_seal", None)
    annotate(events, sites)
    procs: dict[int, int] = {}
    shared: dict[str, int] = {}  # what processes share, numbered as it first appears (its identity is an address)
    for e in events:
        e["proc"] = procs.setdefault(e.get("pid", 0), len(procs))
        if "x" in e:
            e["x"] = shared.setdefault(e["x"], len(shared) + 1)
    stable = Stabilizer(str(ws.root), _ENGINE_DIR)
    stable.events(events)
    raw, raw_cut = read_capped(ws.raw(schedule.key), RAW_CAP)
    lines = ws.variants[(schedule.variant, schedule.base_seed)]
    declared = course().result
    return RunRecord(
        schedule=schedule,
        data_lines=lines,
        events=events,
        exit_code=result["exit"],
        signal=result["signal"],
        timed_out=bool(result["timed_out"]),
        wall_seconds=float(result["wall"]),
        own_seconds=float(result.get("own", 0.0)),
        raw_output=stable.text(raw.decode("utf-8", "replace")),
        output_truncated=raw_cut,
        runner_killed=runner_killed,
        tampered=forged + dropped,
        types=ws.values(schedule.variant, schedule.base_seed),
        accesses_cut=cut,
        result_marker=declared.marker,
        result_records=declared.records,
    )

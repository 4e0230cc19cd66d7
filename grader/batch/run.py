"""``grade batch``: a whole class, graded in parallel, cached, shardable, written out for the LMS.

Each submission is graded in isolation (its own child processes, limits and scratch directory),
so one that crashes, hangs or floods never stops the others. Finished results are cached by
content, the exercise's files and seed: Ctrl-C keeps them, and running again grades only what changed.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..exercises import catalog
from ..exercises.fingerprint import exercise_fingerprint
from ..model import Failure, GradeResult, GraderInputError, Msg
from ..reports.terminal import pick_lang
from . import store
from .discover import discover
from .executors import make_executor
from .model import Discovery, Item
from .outputs import render_summary, write_outputs

STATE = "batch.json"


@dataclass
class BatchOutcome:
    """What a batch run did."""

    discovery: Discovery
    graded: list[tuple[Item, GradeResult]]
    fresh: int = 0
    cached: int = 0
    interrupted: bool = False
    seconds: float = 0.0
    paths: dict = field(default_factory=dict)
    summary: str = ""


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """``"2/5"`` → ``(2, 5)``; None for no sharding."""
    if not text:
        return None
    try:
        k, n = (int(x) for x in text.split("/"))
    except ValueError:
        k = n = 0
    if not 1 <= k <= n:
        raise GraderInputError(Msg(f"--shard は K/N の形で 1 ≤ K ≤ N: {text}", f"--shard must be K/N with 1 ≤ K ≤ N: {text}"))
    return k, n


def in_shard(student_key: str, shard: tuple[int, int] | None) -> bool:
    """Deterministic 1/N of the class: by a hash of the student key, stable across machines."""
    if shard is None:
        return True
    k, n = shard
    return int.from_bytes(hashlib.sha256(student_key.encode()).digest()[:8], "big") % n == k - 1


def _shard(discovery: Discovery, shard) -> Discovery:
    if shard is None:
        return discovery
    return Discovery(
        layout=discovery.layout,
        students=[s for s in discovery.students if in_shard(s.key, shard)],
        items=[i for i in discovery.items if in_shard(i.student.key, shard)],
        # Files nobody could be tied to are listed once, by the first shard.
        unmatched=[u for u in discovery.unmatched
                   if (in_shard(u.student.key, shard) if u.student else shard[0] == 1)],
    )


def grade_item(payload: dict) -> dict:
    """Grade one file; runs in a local worker process or on a Dask worker. Never raises: a failure is a result."""
    from ..grading import grade_submission
    from ..sources.submission import load_submission
    from ..verdicts.judge import judge_unrunnable

    exercise = catalog.get(payload["exercise"])
    who = {"student_key": payload["student_key"], "student_name": payload["student_name"]}
    t0 = time.perf_counter()
    try:
        sub = dataclasses.replace(load_submission(payload["path"]), path=payload["relpath"])
        result = grade_submission(sub, exercise, payload["seed"], jobs=payload["inner_jobs"],
                                  explicit_exercise=True, **who)
    except GraderInputError as exc:  # the student's file cannot be read: `runs` says why
        checks = judge_unrunnable(exercise, Failure(summary=exc.msg))
        result = _result(exercise, payload, checks, t0, **who)
    except Exception as exc:  # the grader's own fault on this file: an error, and the batch goes on
        msg = Msg(f"採点器の内部エラー: {type(exc).__name__}: {exc}", f"grader internal error: {type(exc).__name__}: {exc}")
        checks = [dataclasses.replace(c, error=True, failure=Failure(summary=msg))
                  for c in judge_unrunnable(exercise, Failure(summary=msg))]
        result = _result(exercise, payload, checks, t0, **who)
    return store.result_to_dict(result)


def _result(exercise, payload, checks, t0, **who) -> GradeResult:
    from datetime import datetime, timezone
    return GradeResult(exercise=exercise.id, exercise_title=exercise.title, submission=payload["relpath"],
                       checks=tuple(checks), seed=payload["seed"], seconds=time.perf_counter() - t0,
                       timestamp=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"), **who)


class _Progress:
    """A progress bar on a terminal (tqdm: done / total, rate, time left); in a CI log a quiet line
    every tenth, with the time left estimated from the pace so far."""

    def __init__(self, total: int, echo: Callable[[str], None], clock: Callable[[], float] = time.monotonic):
        self.total, self.done, self.echo, self.clock = total, 0, echo, clock
        self.started = clock()
        self.bar = None
        if total and sys.stderr.isatty():
            from tqdm import tqdm
            self.bar = tqdm(total=total, unit="file", desc="grading", file=sys.stderr, smoothing=0.1)

    def step(self, label: str) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.set_postfix_str(label[-40:], refresh=False)
            self.bar.update(1)
        elif self.total and (self.done == self.total or self.done % max(1, self.total // 10) == 0):
            self.echo(self.line())

    def line(self) -> str:
        """``graded 80/800 (10%), about 2 min 10 s left``."""
        text = f"graded {self.done}/{self.total} ({100 * self.done // self.total}%)"
        left = self.total - self.done
        if left and self.done:
            text += f", about {_duration((self.clock() - self.started) / self.done * left)} left"
        return text

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


def grade_batch(source: Path, out: Path, *, seed: int = 1, jobs: int = 1, lang: str | None = None,
                force: bool = False, shard: tuple[int, int] | None = None, executor: str = "local",
                scheduler: str | None = None, only: list[str] | None = None, budget=None,
                echo: Callable[[str], None] = lambda s: print(s, file=sys.stderr)) -> BatchOutcome:
    """Grade every submission under ``source`` into ``out``; feedback in ``lang`` (default: the
    course's language, as ``grade`` itself). ``budget``: what zips may hold (``archive.Budget``;
    default: its limits). An ``out`` inside ``source`` is left out of it."""
    t0 = time.perf_counter()
    lang = pick_lang(lang)
    exercises = [ex for ex in catalog.exercises().values() if not only or ex.id in only]
    if not exercises:
        raise GraderInputError(Msg("採点する課題がありません", "no exercise to grade"))
    out.mkdir(parents=True, exist_ok=True)
    discovery = _shard(discover(source, {ex.id: ex.file for ex in exercises}, out / ".work", exclude=[out], budget=budget),
                       shard)
    present = {item.exercise for item in discovery.items}
    if not only and present:  # an LMS export is one assignment: leave out exercises nobody handed in
        exercises = [ex for ex in exercises if ex.id in present]
    cache = store.Cache(out / ".cache")
    by_id = {ex.id: ex for ex in exercises}
    graded: list[tuple[Item, GradeResult]] = []
    todo: dict[str, tuple[Item, str]] = {}
    # Parallel across submissions, one core each; a lone job lets its child use every core.
    inner = 2 if executor != "local" or jobs > 1 else None
    for n, item in enumerate(discovery.items):
        key = store.cache_key(item.path.read_bytes() + f"\0{item.student.key}\0{item.relpath}".encode(),
                              item.exercise, exercise_fingerprint(by_id[item.exercise]), seed)
        hit = None if force else cache.get(key)
        if hit is not None:
            graded.append((item, hit))
            continue
        todo[str(n)] = (item, key)
    payloads = [{"id": n, "path": str(item.path), "relpath": item.relpath, "exercise": item.exercise,
                 "seed": seed, "student_key": item.student.key, "student_name": item.student.name,
                 "inner_jobs": inner} for n, (item, _) in todo.items()]
    cached = len(graded)
    progress = _Progress(len(payloads), echo)
    interrupted = False
    try:
        for payload, result in make_executor(executor, jobs, scheduler).run(grade_item, payloads):
            item, key = todo[payload["id"]]
            result = store.result_from_dict(result)
            cache.put(key, result)
            graded.append((item, result))
            progress.step(item.relpath)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        progress.close()
    order = {ex.id: i for i, ex in enumerate(exercises)}
    graded.sort(key=lambda p: (p[0].student.key, order[p[0].exercise]))
    paths = write_outputs(out, discovery, graded, exercises, lang)
    _save_state(out, discovery, graded, seed, shard, [ex.id for ex in exercises])
    summary = render_summary(discovery, graded, exercises, lang)
    return BatchOutcome(discovery, graded, len(graded) - cached, cached, interrupted,
                        time.perf_counter() - t0, paths, summary)


def _save_state(out: Path, discovery: Discovery, graded, seed: int, shard, exercises: list[str]) -> None:
    state = {
        "seed": seed, "shard": list(shard) if shard else None, "layout": discovery.layout,
        "exercises": exercises,
        "students": [store.student_to_dict(s) for s in discovery.students],
        "unmatched": [store.unmatched_to_dict(u) for u in discovery.unmatched],
        "graded": [{"item": store.item_to_dict(i), "result": store.result_to_dict(r)} for i, r in graded],
    }
    # ASCII JSON: a name of bytes that are not UTF-8 (CP932 from unzip) is kept as \\udc8e and comes back.
    (out / STATE).write_text(json.dumps(state), encoding="utf-8")


def merge(parts: list[Path], out: Path, lang: str | None = None) -> BatchOutcome:
    """Join the outputs of several shards (``grade merge``) into one ``out`` (feedback in ``lang``,
    by default the course's language)."""
    lang = pick_lang(lang)
    students, unmatched, graded, layouts, wanted = {}, {}, {}, set(), set()
    for part in parts:
        try:
            state = json.loads((part / STATE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise GraderInputError(Msg(f"{part} は grade batch の出力ではありません（{STATE} がありません）",
                                       f"{part} is not the output of grade batch (no {STATE})")) from None
        layouts.add(state["layout"])
        wanted.update(state.get("exercises") or [])
        for s in state["students"]:
            students[s["key"]] = store.student_from_dict(s)
        for u in state["unmatched"]:
            unmatched[(u["relpath"], json.dumps(u["reason"], sort_keys=True))] = store.unmatched_from_dict(u)
        for g in state["graded"]:
            item = store.item_from_dict(g["item"])
            graded[(item.student.key, item.exercise)] = (item, store.result_from_dict(g["result"]))
    if len(layouts) > 1:
        raise GraderInputError(Msg("レイアウトの異なる出力は結合できません", "cannot merge outputs of different layouts"))
    exercises = [ex for ex in catalog.exercises().values() if not wanted or ex.id in wanted]
    discovery = Discovery(layout=layouts.pop() if layouts else "folders",
                          students=sorted(students.values(), key=lambda s: s.key),
                          items=[i for i, _ in graded.values()], unmatched=list(unmatched.values()))
    order = {ex.id: i for i, ex in enumerate(exercises)}
    pairs = sorted(graded.values(), key=lambda p: (p[0].student.key, order.get(p[0].exercise, 99)))
    out.mkdir(parents=True, exist_ok=True)
    paths = write_outputs(out, discovery, pairs, exercises, lang)
    _save_state(out, discovery, pairs, 0, None, [ex.id for ex in exercises])
    summary = render_summary(discovery, pairs, exercises, lang)
    return BatchOutcome(discovery, pairs, paths=paths, summary=summary)

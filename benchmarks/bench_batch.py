#!/usr/bin/env python3
"""Time ``grade batch`` on a synthetic class, against one ``grade`` of the model counter_lck.

Each student hands in, per exercise, a file drawn (seeded) from the test corpus of correct and buggy
submissions (``tests/submissions``) and the model answers, a few hostile programs, and a few hand in
nothing. In the same run it times ``grade reference/counter_lck.py`` (median of several) before and
after the batch, so the batch's pace per submission can be compared with one file's grading on any
machine. SPEC's target: 200 students × 4 exercises in at most 3 minutes on 2 cores, and per
submission no slower than one ``grade``; the class here hands in every exercise of the course (six),
and the pace per submission is what the target is checked against.

    python benchmarks/bench_batch.py [--students 200] [--jobs 2] [--hostile-heavy] [--phases 40]

``--hostile-heavy``: every counter_lck submission is hostile (the rest as usual). ``--phases N``
also grades N of the class's files in this process and says where a grading's time goes.
``--keep DIR`` keeps the batch's outputs; ``--same-as DIR`` then says whether this run's outputs
are byte-identical to those (another build, the same seed), timestamps and times aside.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ("fizz_buzz_mt", "fizz_buzz_tmr", "fizz_buzz_mp", "counter_lck", "counter_smp", "counter_pp")
HOSTILE = {
    "spin": "while True:\n    pass\n",
    "flood": "while True:\n    print('集計中…' * 20)\n",
    "crash": "raise SystemExit(3)\n",
    "fork": "import os\nfor _ in range(300):\n    try:\n        os.fork()\n    except OSError:\n        break\n",
}
TARGET_PACE = 180 / 800  # seconds of wall per submission: 200 × 4 in 3 minutes


def pool(exercise: str) -> list[Path]:
    files = sorted((ROOT / "tests" / "submissions" / exercise).glob("*.py"))
    return files + [ROOT / "reference" / f"{exercise}.py"] * 4  # correct ones are common


def make_class(root: Path, students: int, seed: int, hostile_heavy: bool = False
               ) -> tuple[dict[str, int], dict[str, str]]:
    """Write the class under ``root``; returns the counts and the kind of each hostile file
    (by its path relative to ``root``)."""
    rng = random.Random(seed)
    counts = {"files": 0, "hostile": 0, "missing": 0}
    kinds: dict[str, str] = {}
    pools = {ex: pool(ex) for ex in EXERCISES}
    for n in range(students):
        folder = root / f"s22{n:05d}"
        folder.mkdir(parents=True)
        for ex in EXERCISES:
            roll = rng.random()
            if roll < 0.04 and not (hostile_heavy and ex == "counter_lck"):
                counts["missing"] += 1
                continue
            if roll < 0.06 or (hostile_heavy and ex == "counter_lck"):
                kind = rng.choice(sorted(HOSTILE))
                data = HOSTILE[kind].encode()
                kinds[f"{folder.name}/{ex}.py"] = kind
                counts["hostile"] += 1
            else:
                data = rng.choice(pools[ex]).read_bytes()  # some are CP932, as students' files are
            # A comment makes each file unique, as students' files are (no cache sharing).
            (folder / f"{ex}.py").write_bytes(data + f"\n# {folder.name}\n".encode())
            counts["files"] += 1
    return counts, kinds


def grade_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("grade")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("grade")
    return [found] if found else [sys.executable, "-m", "grader"]


def one_grade(repeat: int) -> list[float]:
    """Walls of ``grade reference/counter_lck.py``, the model answer."""
    walls = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([*grade_cmd(), "reference/counter_lck.py"], cwd=ROOT, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        walls.append(time.perf_counter() - t0)
    return walls


def run_batch(src: Path, out: Path, jobs: int) -> float:
    t0 = time.perf_counter()
    p = subprocess.run([*grade_cmd(), "batch", str(src), "--out", str(out), "--jobs", str(jobs)],
                       capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        print(p.stderr[-2000:], file=sys.stderr)
        raise SystemExit(f"grade batch failed with status {p.returncode}")
    return wall


def per_kind(out: Path, kinds: dict[str, str]) -> None:
    """How long the batch's workers spent on each kind of submission (from its ``batch.json``)."""
    state = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    spent: dict[str, list[float]] = {}
    for g in state["graded"]:
        kind = kinds.get(g["item"]["relpath"], "ordinary")
        spent.setdefault(kind, []).append(g["result"]["seconds"])
    print("grading time per submission inside the batch (median, as its workers measured):")
    for kind in ["ordinary", *sorted(set(spent) - {"ordinary"})]:
        if kind in spent:
            values = spent[kind]
            print(f"  {kind:<9} {1000 * statistics.median(values):7.0f} ms  "
                  f"(max {1000 * max(values):.0f} ms, {len(values)} files)")


_VOLATILE = re.compile(rb'("(?:seconds|timestamp|execution_time|time)": )("[^"]*"|[0-9.e+-]+)'
                       rb'|((?:time|timestamp)=")[^"]*"')


# Each run builds its class in a scratch folder of its own name.
_SCRATCH = re.compile(re.escape(tempfile.gettempdir().encode()) + rb"/tmp[A-Za-z0-9_]+")


def _masked(data: bytes) -> bytes:
    data = _SCRATCH.sub(b"<scratch>", data)
    return _VOLATILE.sub(lambda m: (m.group(1) or m.group(3)) + b"_", data)


def same_as(out: Path, other: Path) -> None:
    """Whether every output file under ``out`` equals the one under ``other``, times aside."""
    def outputs(root: Path) -> set[Path]:  # the batch's own scratch and cache are not outputs
        return {p.relative_to(root) for p in root.rglob("*")
                if p.is_file() and ".cache" not in p.parts and ".work" not in p.parts}

    mine, theirs = outputs(out), outputs(other)
    differ = sorted(str(p) for p in mine & theirs
                    if _masked((out / p).read_bytes()) != _masked((other / p).read_bytes()))
    only = sorted(str(p) for p in mine ^ theirs)
    if not differ and not only:
        print(f"outputs: {len(mine)} files byte-identical to {other} (timestamps and times aside)")
    else:
        print(f"outputs: {len(differ)} of {len(mine & theirs)} files differ from {other}"
              + (f", {len(only)} in only one of the two" if only else "") + ": "
              + ", ".join((differ + only)[:8]) + (" …" if len(differ) + len(only) > 8 else ""))


def phases(src: Path, n: int, seed: int) -> None:
    """Grade ``n`` of the class's files here, timing each phase of a grading."""
    sys.path.insert(0, str(ROOT))
    from grader.exercises import catalog
    from grader.grading import grade_submission
    from grader.reports.html import render_html
    from grader.reports.terminal import render_terminal
    from grader.runner import engine_process
    from grader.sources.submission import load_submission

    stamps: dict[str, float] = {}
    orig = {name: getattr(engine_process.EngineProcess, name) for name in ("begin", "read", "close")}

    def wrap(name, mark_after=None, mark_before=None):
        def fn(self, *a, **k):
            if mark_before:
                stamps.setdefault(mark_before, time.perf_counter())
            r = orig[name](self, *a, **k)
            if mark_after:
                stamps[mark_after] = time.perf_counter()
            return r
        return fn

    engine_process.EngineProcess.begin = wrap("begin", mark_before="begin")
    engine_process.EngineProcess.read = wrap("read", "last line")
    engine_process.EngineProcess.close = wrap("close", "closed")
    files = sorted(src.rglob("*.py"))
    rng = random.Random(seed)
    sample = rng.sample(files, min(n, len(files)))
    totals: dict[str, list[float]] = {k: [] for k in ("read the file", "engine ready", "runs", "close", "judge", "render")}
    engines = []
    orig_init = engine_process.EngineProcess.__init__

    def init(self, *a, **k):
        orig_init(self, *a, **k)
        engines.append(self)

    engine_process.EngineProcess.__init__ = init
    for path in sample:
        exercise = catalog.get(next(ex for ex in EXERCISES if path.name.startswith(ex)))
        stamps.clear()
        engines.clear()
        engine = engine_process.EngineProcess()  # as grade does: started first, then the file is read
        t0 = time.perf_counter()
        try:
            sub = load_submission(str(path))
        except Exception:  # noqa: BLE001 - an unreadable file costs nothing to grade
            engine.discard()
            continue
        loaded = time.perf_counter()
        result = grade_submission(sub, exercise, 1, engine=engine)
        t1 = time.perf_counter()
        render_terminal(result, "ja", False)
        render_html(result, "ja")
        t2 = time.perf_counter()
        if "begin" not in stamps:
            continue
        ready = t0 + (engine.ready - engine.started) if engine.ready else stamps["begin"]
        totals["read the file"].append(loaded - t0)
        totals["engine ready"].append(max(0.0, ready - t0))
        totals["runs"].append(stamps["last line"] - max(ready, stamps["begin"]))
        totals["close"].append(stamps["closed"] - stamps["last line"])
        totals["judge"].append(t1 - stamps["closed"])
        totals["render"].append(t2 - t1)
    whole = sum(sum(v) for v in totals.values())
    print(f"where a grading's wall time goes ({len(totals['runs'])} files graded one at a time here;"
          " the engine starts while the file is read, so those two overlap):")
    for name, values in totals.items():
        if values:
            print(f"  {name:<12} {1000 * statistics.mean(values):7.1f} ms mean  "
                  f"{1000 * statistics.median(values):7.1f} ms median  {100 * sum(values) / whole:5.1f} %")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=5, help="timed runs of one grade, before and after the batch")
    ap.add_argument("--hostile-heavy", action="store_true", help="every counter_lck submission is hostile")
    ap.add_argument("--phases", type=int, default=0, metavar="N", help="also time the phases of N gradings")
    ap.add_argument("--keep", type=Path, metavar="DIR", help="keep the batch's outputs in DIR")
    ap.add_argument("--same-as", type=Path, metavar="DIR",
                    help="compare the outputs with those kept in DIR by an earlier run (same seed)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "class"
        counts, kinds = make_class(src, args.students, args.seed, args.hostile_heavy)
        print(f"class: {args.students} students × {len(EXERCISES)} exercises = {counts['files']} files "
              f"({counts['hostile']} hostile, {counts['missing']} not handed in)")
        before = one_grade(args.repeat)
        out = Path(tmp) / "out"
        wall = run_batch(src, out, args.jobs)
        after = one_grade(args.repeat)
        single = statistics.median(before + after)
        pace = wall / counts["files"]
        print(f"grade batch --jobs {args.jobs}: {wall:.1f} s wall, {1000 * pace:.0f} ms per submission")
        print(f"grade reference/counter_lck.py, same run: median {1000 * single:.0f} ms "
              f"(min {1000 * min(before + after):.0f}, max {1000 * max(before + after):.0f}, {2 * args.repeat} runs)")
        print(f"per submission / one grade: {pace / single:.2f} (target: at most 1)")
        print(f"at this pace 200 × 4 takes {pace * 800:.0f} s (target: at most 180 s on 2 cores)")
        per_kind(out, kinds)
        if args.keep:
            shutil.rmtree(args.keep, ignore_errors=True)
            shutil.copytree(out, args.keep, ignore=shutil.ignore_patterns(".cache", ".work"))
        if args.same_as:
            same_as(out, args.same_as)
        if args.phases:
            phases(src, args.phases, args.seed)


if __name__ == "__main__":
    main()

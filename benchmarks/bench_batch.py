#!/usr/bin/env python3
"""Time ``grade batch`` on a synthetic class: N students × the four exercises.

Each student hands in, per exercise, a file drawn (seeded) from the test corpus of correct and
buggy submissions (``tests/submissions``), the model answers, and a few hostile programs; a few
hand in nothing. Prints the class size, the wall time, the time per submission and the speedup of
``--jobs 2`` over ``--jobs 1``. SPEC's target: 200 × 4 in at most 3 minutes on 2 cores.

    python benchmarks/bench_batch.py [--students 200] [--jobs 2] [--compare] [--seed 1]
"""
from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ("fizz_buzz_mt", "counter_lck", "counter_smp", "counter_pp")
HOSTILE = {
    "spin": "while True:\n    pass\n",
    "flood": "while True:\n    print('集計中…' * 20)\n",
    "crash": "raise SystemExit(3)\n",
}


def pool(exercise: str) -> list[Path]:
    files = sorted((ROOT / "tests" / "submissions" / exercise).glob("*.py"))
    return files + [ROOT / "reference" / f"{exercise}.py"] * 4  # correct ones are common


def make_class(root: Path, students: int, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    counts = {"files": 0, "hostile": 0, "missing": 0}
    pools = {ex: pool(ex) for ex in EXERCISES}
    for n in range(students):
        folder = root / f"s22{n:05d}"
        folder.mkdir(parents=True)
        for ex in EXERCISES:
            roll = rng.random()
            if roll < 0.04:
                counts["missing"] += 1
                continue
            if roll < 0.06:
                data = HOSTILE[rng.choice(sorted(HOSTILE))].encode()
                counts["hostile"] += 1
            else:
                data = rng.choice(pools[ex]).read_bytes()  # some are CP932, as students' files are
            # A comment makes each file unique, as students' files are (no cache sharing).
            (folder / f"{ex}.py").write_bytes(data + f"\n# {folder.name}\n".encode())
            counts["files"] += 1
    return counts


def grade_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("grade")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("grade")
    return [found] if found else [sys.executable, "-m", "grader"]


def run_batch(src: Path, jobs: int) -> float:
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        p = subprocess.run([*grade_cmd(), "batch", str(src), "--out", out, "--jobs", str(jobs), "--lang", "en"],
                           capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            print(p.stderr[-2000:], file=sys.stderr)
            raise SystemExit(f"grade batch failed with status {p.returncode}")
        return wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--compare", action="store_true", help="also run with --jobs 1 and print the speedup")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "class"
        counts = make_class(src, args.students, args.seed)
        print(f"class: {args.students} students × {len(EXERCISES)} exercises = {counts['files']} files "
              f"({counts['hostile']} hostile, {counts['missing']} not handed in)")
        wall = run_batch(src, args.jobs)
        print(f"--jobs {args.jobs}: {wall:.1f} s wall, {wall / counts['files'] * 1000:.0f} ms per submission "
              f"(target: 200 × 4 in ≤ 180 s on 2 cores)")
        if args.compare:
            one = run_batch(src, 1)
            print(f"--jobs 1: {one:.1f} s wall, {one / counts['files'] * 1000:.0f} ms per submission; "
                  f"speedup of --jobs {args.jobs}: {one / wall:.2f}×")


if __name__ == "__main__":
    main()

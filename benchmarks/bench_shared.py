#!/usr/bin/env python3
"""Benchmark: grading programs that touch shared state many times, against the model answer.

Issue 18's target: ``grade`` on a program whose 13 threads each update the shared dict 600 times
(``programs/many_increments.py``: 15,600 recorded accesses, a race on every key) takes at most 3x
the time of grading the model answer ``reference/counter_lck.py``, measured side by side in this one
run (the two alternate, A B A B ..., so that a shared machine's drift touches both alike). The
shapes of shared state of ``tests/submissions/counter_lck`` (lists, attributes, globals, container
methods; racy and locked) are timed the same way.

Nothing here asserts a time: the script reports. Standard library only. Usage:

    python benchmarks/bench_shared.py              # the stress program, 7 pairs of runs
    python benchmarks/bench_shared.py --shapes     # and each shape of shared state, 3 pairs each
    python benchmarks/bench_shared.py --repeat 15
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import run_timed  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "reference" / "counter_lck.py"
STRESS = ROOT / "benchmarks" / "programs" / "many_increments.py"
STEMS = ("two_lists", "counter_update", "dict_methods", "attributes", "global_rebind", "objects_attr",
         "list_concat", "update_get")
SHAPES = [ROOT / "tests" / "submissions" / "counter_lck" / f"{stem}_{kind}.py"
          for stem in STEMS for kind in ("no_lock", "lock")]
TARGET = 3.0


def _grade() -> str:
    here = shutil.which("grade", path=str(Path(sys.executable).parent)) or shutil.which("grade")
    if not here:
        sys.exit("grade is not installed next to this Python (pip install . first)")
    return here


def _time(cmd: list[str]) -> tuple[float, int]:
    return run_timed(cmd, 600)  # woken at the exit, not by polling


def pair(grade: str, program: Path, repeat: int) -> tuple[list[float], list[float], int]:
    """Wall seconds of grading ``program`` and the model answer, alternating; and the program's exit."""
    a_cmd = [grade, str(program), "--exercise", "counter_lck"]
    b_cmd = [grade, str(MODEL)]
    _time(a_cmd), _time(b_cmd)  # warm-up: caches, the course's YAML copy
    a, b, status = [], [], 0
    for _ in range(repeat):
        t, status = _time(a_cmd)
        a.append(t)
        b.append(_time(b_cmd)[0])
    return a, b, status


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--shapes", action="store_true", help="also each shape of shared state (3 pairs each)")
    args = ap.parse_args()
    grade = _grade()
    rows = [(STRESS, args.repeat)] + ([(p, 3) for p in SHAPES] if args.shapes else [])
    print(f"{'program':34} {'exit':>4} {'median s':>9} {'model s':>8} {'ratio':>6}  target")
    for program, repeat in rows:
        a, b, status = pair(grade, program, repeat)
        ma, mb = statistics.median(a), statistics.median(b)
        ratios = sorted(x / y for x, y in zip(a, b))
        ratio = statistics.median(ratios)
        target = f"<= {TARGET:g}x {'met' if ratio <= TARGET else 'NOT met'}" if program == STRESS else ""
        print(f"{program.name:34} {status:>4} {ma:>9.3f} {mb:>8.3f} {ratio:>5.2f}x  {target}")
    print(f"(ratio: median of the {args.repeat} paired ratios; the model answer is reference/counter_lck.py)")


if __name__ == "__main__":
    main()

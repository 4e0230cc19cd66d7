#!/usr/bin/env python3
"""Benchmark: what the run's own sandbox (Landlock, seccomp, the per-run mount namespace, dropped
capabilities: ``grader.engine.contain``) costs.

Two measures, each reported, never asserted (machines are shared and noisy):

* ``grade reference/counter_lck.py`` timed as a whole process with every layer, with Landlock left
  out (``GRADER_SANDBOX_SKIP=landlock``), and with the run's whole own sandbox left out
  (``GRADER_SANDBOX_SKIP=landlock,seccomp,mounts``), the three interleaved round after round so that
  a load that comes and goes weighs on each alike; medians and their differences, of the wall
  time and of the CPU time of every process (less swayed by the machine's other load);
* per run: a process in the grader's sandbox (bwrap or unshare, as ``grade`` would start it) forks
  children that each apply ``contain.enter`` (or do nothing) and exit, timed fork to reaped:
  the median cost of the layer in one run, of which ``grade counter_lck`` has 24 (on 2 cores).
  An upper bound: the first work of a freshly forked process pays its copy-on-write faults, which
  a run that is not contained pays as well, later.

Usage: ``python benchmarks/bench_sandbox.py [-n ROUNDS] [--file FILE]``.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = (("every layer", ""), ("without Landlock", "landlock"),
           ("without the run's own sandbox", "landlock,seccomp,mounts"))

PER_RUN = r'''
import json, os, statistics, sys, time
from grader.engine import contain
policy, cwd, rounds = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3])
contain.prepare(policy)  # as the warm process does
times = {"bare": [], "contained": []}
for i in range(rounds):
    for kind in times:
        t = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            if kind == "contained":
                contain.enter(policy, cwd, i)
            os._exit(0)
        os.waitpid(pid, 0)
        times[kind].append(time.perf_counter() - t)
print(json.dumps({k: statistics.median(v) * 1000 for k, v in times.items()}))
'''


def _grade_cmd() -> list[str]:
    grade = Path(sys.executable).with_name("grade")
    return [str(grade)] if grade.exists() else [sys.executable, "-m", "grader"]


def whole(file: str, rounds: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall seconds and CPU seconds (user + system, of grade and every process it waited for) per config."""
    import resource

    walls: dict[str, list[float]] = {name: [] for name, _ in CONFIGS}
    cpus: dict[str, list[float]] = {name: [] for name, _ in CONFIGS}
    for _ in range(rounds + 1):  # the first round warms the caches and is not kept
        for name, skip in CONFIGS:
            env = dict(os.environ, GRADER_SANDBOX_SKIP=skip)
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            p = subprocess.run(_grade_cmd() + [file, "--lang", "en"], capture_output=True, env=env, cwd=ROOT)
            elapsed = time.perf_counter() - t
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if p.returncode not in (0, 1):
                sys.exit(f"grade failed: {p.stderr.decode(errors='replace')[-500:]}")
            walls[name].append(elapsed)
            cpus[name].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return ({n: v[1:] for n, v in walls.items()}, {n: v[1:] for n, v in cpus.items()})


def per_run(rounds: int) -> dict:
    sys.path.insert(0, str(ROOT))
    from grader.runner import engine_process, sandbox

    with tempfile.TemporaryDirectory(prefix="grader-") as tmp:
        root = Path(tmp)
        cwd = root / "work" / "course"
        cwd.mkdir(parents=True)
        (root / "bench.py").write_text(PER_RUN, encoding="utf-8")
        confinement = sandbox.confine(root, 64)
        try:
            p = subprocess.run(confinement.command([sys.executable, "-S", str(root / "bench.py"),
                                                    json.dumps(confinement.policy), str(cwd), str(rounds)]),
                               capture_output=True, text=True, cwd=root, env=engine_process.child_env(root), timeout=600)
        finally:
            confinement.kill_all()
        if p.returncode:
            sys.exit(p.stderr[-2000:])
        result = json.loads(p.stdout)
        result["namespace"] = confinement.namespace
        result["rules"] = len((confinement.policy or {}).get("rules", []))
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--rounds", type=int, default=10)
    parser.add_argument("--file", default="reference/counter_lck.py")
    args = parser.parse_args()
    print(f"grade {args.file}: {args.rounds} interleaved rounds (+1 warm-up), wall seconds")
    walls, cpus = whole(args.file, args.rounds)
    for label, times in (("wall", walls), ("CPU (user+system, all processes)", cpus)):
        print(f" {label}:")
        base = statistics.median(times[CONFIGS[-1][0]])
        for name, values in times.items():
            med = statistics.median(values)
            print(f"  {name:<32} median {med:.3f}  min {min(values):.3f}  max {max(values):.3f}"
                  f"  ({(med - base) * 1000:+.0f} ms, x{med / base:.3f})")
    r = per_run(max(50, args.rounds * 10))
    print(f"per run, in the grader's sandbox ({r['namespace'] or 'no namespace'}, {r['rules']} Landlock rules): "
          f"fork+exit {r['bare']:.2f} ms, with contain.enter {r['contained']:.2f} ms "
          f"({r['contained'] - r['bare']:+.2f} ms per run)")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Benchmark: how long `grade` takes on each model answer, against running the model answer as written.

For each exercise (fizz_buzz_mt, fizz_buzz_tmr, fizz_buzz_mp, counter_lck, counter_smp, counter_pp)
and its model answer
``reference/<id>.py`` this script

* times ``grade reference/<id>.py --seed 1`` as a whole process, ``--repeat`` times (after one
  untimed warm-up run), and reports min / median / max wall seconds;
* reports how many schedules the grader explored (from the report's note "ran under N
  schedules", else the sum of ``schedules`` over the ``runs:`` groups of
  ``assignments/<id>/assignment.yaml``) and schedules per second;
* reports how long the model answer takes when run as written: estimated by default (quick
  mode), measured with ``--as-written`` for the three counters (they only sleep, so they are run
  side by side, ~40 s in all). The fizz_buzz exercises are always estimated: as written they burn
  30-60 s of CPU and gigabytes of memory, so ``fizz_buzz`` is run on 1/100 of the sizes (in 5
  threads; in 5 processes for fizz_buzz_mp) and the time multiplied by 100 (fizz_buzz_tmr adds its
  first timer's 1 s and takes at least its last timer's 5 s);
* compares the grade time with the SPEC's targets, stated as ratios measured in this one run
  ("Targets": counter_lck at least 100x faster than as written, counter_pp at least 40x,
  fizz_buzz_mt no slower than counter_lck; none is stated for counter_smp, 50x is assumed, nor for
  fizz_buzz_tmr and fizz_buzz_mp: no slower than counter_lck and counter_pp is assumed).

Nothing here asserts a time: the script reports, it does not fail. ``grade`` exiting 1 (a check
failed) is timed like a pass; exit 2 (the grader could not grade) is reported as "n/a".

Standard library only (PyYAML is used if importable, for the schedules fallback). Usage:

    python benchmarks/bench_grade.py                  # quick: ~10 s
    python benchmarks/bench_grade.py --as-written     # also runs the counters as written: ~45 s
    python benchmarks/bench_grade.py --json           # machine-readable results on stdout
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import run_timed  # noqa: E402
EXERCISES = ("fizz_buzz_mt", "fizz_buzz_tmr", "fizz_buzz_mp", "counter_lck", "counter_smp", "counter_pp")
FIZZ = ("fizz_buzz_mt", "fizz_buzz_tmr", "fizz_buzz_mp")
COUNTERS = ("counter_lck", "counter_smp", "counter_pp")
# SPEC.md, "Targets": ratios measured in one run (as written / grade), so that a shared or slow
# machine changes both sides alike. fizz_buzz_mt: no slower than counter_lck (SPEC: "likewise").
# counter_smp, fizz_buzz_tmr and fizz_buzz_mp have no stated target.
TARGETS = {"fizz_buzz_mt": ("like", "counter_lck", True), "fizz_buzz_tmr": ("like", "counter_lck", False),
           "fizz_buzz_mp": ("like", "counter_pp", False), "counter_lck": ("ratio", 100, True),
           "counter_pp": ("ratio", 40, True), "counter_smp": ("ratio", 50, False)}
AS_WRITTEN_TIMEOUT = 600.0   # a safety net for --as-written, not a target
GRADE_TIMEOUT = 300.0        # likewise, for one grade run


# ---------------------------------------------------------------------------------------------
# Locating things

def find_grade(explicit: str | None) -> str | None:
    """``--grade`` if given; else ``grade`` next to sys.executable; else on PATH; else the checkout's venv."""
    if explicit:
        found = shutil.which(explicit) or (explicit if Path(explicit).is_file() else None)
        return str(Path(found).resolve()) if found else None
    here = shutil.which("grade", path=str(Path(sys.executable).parent))
    if here:
        return here
    on_path = shutil.which("grade")
    if on_path:
        return on_path
    for venv_bin in (ROOT / ".venv" / "bin", ROOT / ".venv" / "Scripts"):
        found = shutil.which("grade", path=str(venv_bin))
        if found:
            return found
    return None


def data_file() -> Path:
    return ROOT / "data" / "poke_names.txt"


# ---------------------------------------------------------------------------------------------
# Schedules explored

_NOTE = re.compile(r"ran under (\d+) schedules")


def schedules_from_yaml(exercise: str) -> int | None:
    """Sum of ``schedules`` (default 1) over the ``runs:`` groups of the exercise's YAML."""
    path = ROOT / "assignments" / exercise / "assignment.yaml"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    try:
        import yaml  # optional
    except ImportError:
        yaml = None
    if yaml is not None:
        try:
            runs = (yaml.safe_load(text) or {}).get("runs") or {}
            return sum(int((g or {}).get("schedules", 1)) for g in runs.values())
        except Exception:  # noqa: BLE001 - fall through to the plain-text reading
            pass
    return _schedules_plain(text)


def _schedules_plain(text: str) -> int | None:
    """A YAML-free reading of ``runs:``: each group is a key one level in; ``schedules: N`` inside it."""
    lines = text.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if re.match(r"runs:\s*(#.*)?$", line))
    except StopIteration:
        return None
    total, group_indent, current = 0, None, None
    for line in lines[start + 1:]:
        stripped = line.split("#", 1)[0].rstrip()
        if not stripped:
            continue
        indent = len(line) - len(line.lstrip())
        if indent == 0:
            break                                   # the next top-level key
        if group_indent is None:
            group_indent = indent
        if indent == group_indent:                  # a new group
            if current is not None:
                total += current
            current = 1
            inline = re.search(r"schedules:\s*(\d+)", stripped)   # flow style {schedules: 4}
            if inline:
                current = int(inline.group(1))
        else:
            m = re.match(r"\s*schedules:\s*(\d+)", stripped)
            if m and current is not None:
                current = int(m.group(1))
    if current is not None:
        total += current
    return total or None


# ---------------------------------------------------------------------------------------------
# Timing grade

def time_grade(grade: str, exercise: str, seed: int, repeat: int) -> dict:
    reference = f"reference/{exercise}.py"
    cmd = [grade, reference, "--seed", str(seed)]
    result: dict = {"command": " ".join(cmd), "exit_status": None, "graded": False,
                    "verdict": "n/a", "reason": None, "runs": [],
                    "min": None, "median": None, "max": None,
                    "schedules": None, "schedules_source": None}
    # Warm-up (untimed): fills the bytecode caches and gives the schedule count from the report.
    try:
        warm = subprocess.run(cmd + ["--lang", "en", "--no-color"], cwd=ROOT, capture_output=True,
                              text=True, encoding="utf-8", errors="replace", timeout=GRADE_TIMEOUT)
    except subprocess.TimeoutExpired:
        result["reason"] = f"grade did not finish within {GRADE_TIMEOUT:.0f} s"
        return result
    except OSError as exc:
        result["reason"] = f"cannot run grade: {exc}"
        return result
    result["exit_status"] = warm.returncode
    if warm.returncode not in (0, 1):
        lines = [ln for ln in warm.stderr.splitlines() if ln.strip()]
        reason = lines[-1] if lines else f"grade exited with status {warm.returncode}"
        result["reason"] = re.sub(r"^grade:\s*", "", reason)
        return result
    result["graded"] = True
    result["verdict"] = "passed" if warm.returncode == 0 else "failed"
    m = _NOTE.search(warm.stdout)
    if m:
        result["schedules"], result["schedules_source"] = int(m.group(1)), "report"
    else:
        n = schedules_from_yaml(exercise)
        if n is not None:
            result["schedules"], result["schedules_source"] = n, "assignment.yaml"
    for _ in range(repeat):
        elapsed, status = run_timed(cmd, GRADE_TIMEOUT, cwd=ROOT)  # exact: no 50 ms polling
        result["runs"].append(round(elapsed, 4))
        if status != result["exit_status"]:
            result["reason"] = (f"exit status changed between runs "
                                f"({result['exit_status']} then {proc.returncode})")
    runs = result["runs"]
    result["min"], result["median"], result["max"] = min(runs), statistics.median(runs), max(runs)
    if result["schedules"] and result["median"]:
        result["schedules_per_second"] = result["schedules"] / result["median"]
    else:
        result["schedules_per_second"] = None
    return result


# ---------------------------------------------------------------------------------------------
# The model answers as written

def counter_calls() -> int:
    """Number of ``counter`` calls the exercises make: the types of the first nine lines (13)."""
    with open(data_file(), encoding="utf-8") as f:
        types = [line.rstrip("\n").split("\t")[2].split(" ") for line in f]
    return sum(len(t) for t in types[:9])


def estimate_counters(samples: int = 20000) -> dict:
    """Expected wall time of each counter as written, from its sleeps alone.

    Every call sleeps random.randint(1, 5) s. counter_lck: the Lock serialises the sleeps;
    counter_pp: main receives each child's dict before starting the next, so they are serial too;
    counter_smp: Semaphore(2) lets two sleep at once (a greedy two-server schedule). A seeded
    simulation gives the expectation (about 13 x 3 = 39 s serial, a bit over 39 / 2 with two).
    """
    calls = counter_calls()
    rng = random.Random(0)
    two = 0.0
    for _ in range(samples):
        sleeps = [rng.randint(1, 5) for _ in range(calls)]
        servers = [0, 0]
        for s in sleeps:
            servers[servers.index(min(servers))] += s
        two += max(servers)
    serial = calls * 3.0          # exact: E[randint(1, 5)] = 3
    two /= samples
    detail_serial = f"{calls} calls x E[randint(1,5)] = 3 s, serialised"
    return {
        "counter_lck": {"seconds": serial, "method": "estimated", "detail": detail_serial + " by the Lock"},
        "counter_pp": {"seconds": serial, "method": "estimated",
                       "detail": detail_serial + " by recv() before the next start"},
        "counter_smp": {"seconds": two, "method": "estimated",
                        "detail": f"{calls} calls of randint(1,5) s, two at a time (Semaphore(2)), simulated"},
    }


def measure_counters(exercises: list[str]) -> dict:
    """Run the counter model answers as written, side by side, in a scratch directory."""
    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench_grade_") as tmp:
        target = Path(tmp) / "lec11" / "data"
        target.mkdir(parents=True)
        shutil.copyfile(data_file(), target / "poke_names.txt")
        procs: dict[str, tuple[subprocess.Popen, float]] = {}
        for ex in exercises:
            script = ROOT / "reference" / f"{ex}.py"
            kwargs = {"start_new_session": True} if os.name == "posix" else {}
            t0 = time.perf_counter()
            p = subprocess.Popen([sys.executable, str(script)], cwd=tmp, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, **kwargs)
            procs[ex] = (p, t0)

        def wait(ex: str) -> None:
            p, t0 = procs[ex]
            try:
                stdout, stderr = p.communicate(timeout=AS_WRITTEN_TIMEOUT)
            except subprocess.TimeoutExpired:
                _kill(p)
                p.communicate()
                out[ex] = {"seconds": None, "method": "measured",
                           "detail": f"did not finish within {AS_WRITTEN_TIMEOUT:.0f} s"}
                return
            elapsed = time.perf_counter() - t0
            text = stdout.decode("utf-8", "replace")
            tally = next((ln for ln in text.splitlines() if "集計結果" in ln), None)
            if p.returncode != 0:
                err = [ln for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
                out[ex] = {"seconds": None, "method": "measured",
                           "detail": f"exited with status {p.returncode}: {err[-1] if err else ''}"}
            else:
                out[ex] = {"seconds": elapsed, "method": "measured",
                           "detail": f"ran as written (in parallel with the other counters); {tally or 'no tally printed'}"}

        waiters = [threading.Thread(target=wait, args=(ex,)) for ex in procs]
        for w in waiters:
            w.start()
        for w in waiters:
            w.join()
    return out


def _kill(p: subprocess.Popen) -> None:
    """Kill a process this script started (and, on POSIX, the session it leads: its children)."""
    try:
        if os.name == "posix":
            os.killpg(p.pid, signal.SIGKILL)
        else:
            p.kill()
    except (ProcessLookupError, PermissionError, OSError):
        pass


def estimate_fizz_buzz(scale: int, exercise: str = "fizz_buzz_mt") -> dict:
    """A fizz_buzz model answer as written: run its ``fizz_buzz`` on num/scale in 5 threads (5
    processes for fizz_buzz_mp), multiply by scale. fizz_buzz_tmr's first call begins 1 s late and
    its last 5 s late: 1 s is added, and the total is at least 5 s."""
    import runpy
    try:
        namespace = runpy.run_path(str(ROOT / "reference" / f"{exercise}.py"), run_name=f"bench_{exercise}")
        fizz_buzz = namespace["fizz_buzz"]
    except Exception as exc:  # noqa: BLE001
        return {"seconds": None, "method": "estimated", "detail": f"cannot load fizz_buzz: {exc}"}
    num_lst = [i * 10000000 for i in range(5, 0, -1)]     # as in the script's main
    small = [num // scale for num in num_lst]
    sink = io.StringIO()
    errors: list[BaseException] = []

    def call(num: int, bgn0: float) -> None:
        try:
            fizz_buzz(num, bgn0)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
            if processes:
                raise  # a child's list is its own: its exit code tells the parent

    processes = exercise == "fizz_buzz_mp"
    if processes:
        import multiprocessing
        try:
            make = multiprocessing.get_context("fork").Process   # its fizz_buzz need not be picklable
        except ValueError:
            return {"seconds": None, "method": "estimated", "detail": "no fork start method on this platform"}
    else:
        make = threading.Thread
    with contextlib.redirect_stdout(sink):      # its start/end lines are not ours to print
        bgn0 = time.time()
        t0 = time.perf_counter()
        workers = [make(target=call, args=(num, bgn0)) for num in small]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        elapsed = time.perf_counter() - t0
    if errors:
        return {"seconds": None, "method": "estimated", "detail": f"fizz_buzz raised {errors[0]!r}"}
    if processes and any(w.exitcode for w in workers):
        return {"seconds": None, "method": "estimated", "detail": "a fizz_buzz process failed"}
    seconds = elapsed * scale
    detail = (f"fizz_buzz on num/{scale} ({', '.join(map(str, small))}) in 5 "
              f"{'processes' if processes else 'threads'}: {elapsed:.3f} s x {scale} (linear scaling: a "
              f"lower bound, the full-size lists add memory traffic)")
    if exercise == "fizz_buzz_tmr":
        seconds = max(5.0, seconds + 1.0)
        detail += "; + 1 s before the first timer fires, at least the last timer's 5 s"
    return {"seconds": seconds, "method": "estimated", "detail": detail}


# ---------------------------------------------------------------------------------------------
# Report

def build(args: argparse.Namespace, grade: str) -> dict:
    exercises = args.exercises or list(EXERCISES)
    if not args.json:
        print(f"timing grade ({args.repeat} runs each) ...", file=sys.stderr, flush=True)
    graded = {ex: time_grade(grade, ex, args.seed, args.repeat) for ex in exercises}

    as_written: dict = {}
    for ex in exercises:
        if ex in FIZZ:
            as_written[ex] = estimate_fizz_buzz(args.fizz_scale, ex)
    counters = [ex for ex in exercises if ex in COUNTERS]
    if counters:
        if args.as_written:
            if not args.json:
                print(f"running {', '.join(counters)} as written, in parallel (~40 s) ...",
                      file=sys.stderr, flush=True)
            as_written.update(measure_counters(counters))
        else:
            estimates = estimate_counters()
            as_written.update({ex: estimates[ex] for ex in counters})

    results = []
    for ex in exercises:
        g = graded[ex]
        aw = as_written.get(ex, {"seconds": None, "method": "n/a", "detail": None})
        kind, goal, stated = TARGETS[ex]
        median = g["median"] if g["graded"] else None
        ratio = (aw["seconds"] / median) if (median and aw["seconds"]) else None
        if kind == "ratio":
            target, met = f">= {goal}x", (ratio >= goal) if ratio is not None else None
        else:
            other = graded.get(goal) or {}
            other_median = other.get("median") if other.get("graded") else None
            target = f"<= {goal}"
            met = (median <= other_median * 1.05) if (median and other_median) else None
        results.append({
            "exercise": ex,
            "reference": f"reference/{ex}.py",
            "command": g["command"],
            "exit_status": g["exit_status"],
            "verdict": g["verdict"],
            "reason": g["reason"],
            "grade_seconds": {"min": g["min"], "median": g["median"], "max": g["max"], "runs": g["runs"]}
            if g["graded"] else None,
            "schedules": g["schedules"],
            "schedules_source": g["schedules_source"],
            "schedules_per_second": g.get("schedules_per_second"),
            "as_written": aw,
            "ratio": ratio,
            "target": target,
            "target_stated_in_spec": stated,
            "target_met": met,
        })
    return {
        "mode": "as-written" if args.as_written else "quick",
        "seed": args.seed,
        "repeat": args.repeat,
        "grade": grade,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "implementation": platform.python_implementation(),
                    "platform": platform.platform()},
        "results": results,
    }


def _fmt(x: float | None, spec: str = ".3f") -> str:
    return "n/a" if x is None else format(x, spec)


def print_table(report: dict) -> None:
    m = report["machine"]
    print(f"grade benchmark: mode {report['mode']}, seed {report['seed']}, {report['repeat']} runs each, "
          f"{m['cpus']} CPUs, {m['implementation']} {m['python']}")
    print(f"grade: {report['grade']}")
    print()
    header = ("exercise", "verdict", "min s", "median s", "max s", "schedules", "sched/s",
              "as written s", "ratio", "target", "met")
    rows = []
    for r in report["results"]:
        gs = r["grade_seconds"] or {}
        aw = r["as_written"]
        aw_text = "n/a" if aw["seconds"] is None else f"{aw['seconds']:.1f} {aw['method']}"
        target = r["target"] + ("" if r["target_stated_in_spec"] else " (assumed)")
        met = {True: "yes", False: "NO", None: "n/a"}[r["target_met"]]
        rows.append((r["exercise"], r["verdict"], _fmt(gs.get("min")), _fmt(gs.get("median")),
                     _fmt(gs.get("max")), "n/a" if r["schedules"] is None else str(r["schedules"]),
                     _fmt(r["schedules_per_second"], ".1f"), aw_text,
                     "n/a" if r["ratio"] is None else f"{r['ratio']:.0f}x", target, met))
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    right = {2, 3, 4, 5, 6, 8}
    for row in (header, *rows):
        print("  ".join(c.rjust(w) if i in right else c.ljust(w)
                        for i, (c, w) in enumerate(zip(row, widths))).rstrip())
    print()
    for r in report["results"]:
        notes = []
        if r["reason"]:
            notes.append(f"grade: {r['reason']}")
        if r["exit_status"] == 1:
            notes.append("grade exit 1: a check failed on the model answer (timed all the same)")
        if r["schedules_source"] == "assignment.yaml":
            notes.append("schedules from assignment.yaml (the report did not say)")
        if r["as_written"].get("detail"):
            notes.append(f"as written: {r['as_written']['detail']}")
        for note in notes:
            print(f"  {r['exercise']}: {note}")
    print()
    print("ratio = as-written / grade median; target = SPEC.md 'Targets' (ratios in this run; "
          "'<= counter_lck': no slower than its median, 5% allowed for noise).")
    if report["mode"] == "quick":
        print("counters as written are estimated from their sleeps; --as-written runs them (~40 s).")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Time `grade` on each exercise's model answer and compare with running it as written.")
    parser.add_argument("exercises", nargs="*", metavar="EXERCISE",
                        help=f"exercises to benchmark (default: all of {', '.join(EXERCISES)})")
    parser.add_argument("--repeat", "-n", type=int, default=5, help="timed grade runs per exercise (default 5)")
    parser.add_argument("--seed", type=int, default=1, help="seed passed to grade (default 1)")
    parser.add_argument("--grade", metavar="PATH",
                        help="the grade executable (default: next to this Python, else on PATH)")
    parser.add_argument("--as-written", action="store_true",
                        help="run the counter model answers as written (~40 s) instead of estimating")
    parser.add_argument("--fizz-scale", type=int, default=100, metavar="K",
                        help="fizz_buzz estimates: run fizz_buzz on num/K and multiply by K (default 100)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    unknown = [ex for ex in args.exercises if ex not in EXERCISES]
    if unknown:
        parser.error(f"unknown exercise {', '.join(unknown)} (choose from {', '.join(EXERCISES)})")
    args.exercises = list(dict.fromkeys(args.exercises))
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.fizz_scale < 1:
        parser.error("--fizz-scale must be at least 1")
    grade = find_grade(args.grade)
    if grade is None:
        print("bench_grade: cannot find the grade executable; pass --grade PATH", file=sys.stderr)
        return 2
    report = build(args, grade)
    if args.json:
        json.dump(report, sys.stdout, ensure_ascii=False, indent=2)
        print()
    else:
        print_table(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())

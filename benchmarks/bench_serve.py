#!/usr/bin/env python3
"""Load test of ``grade serve``, as before a deadline: many students uploading at once.

Starts the real service on a free loopback port (``python -m grader serve --port 0``, workers one
per CPU, its default queue, no rate limit: every client here is 127.0.0.1), then ``--clients``
threads upload ``--submissions`` files between them over HTTP, each waiting as the thin client
does when the queue is full (503 + ``Retry-After``) and sending again. Every file is a different
one (a class's mix of the four exercises: model answers and the shapes in ``tests/submissions``,
each made a student's own by a comment), so each is graded, not answered from the store.

It then checks that every submission was answered (none lost, none refused for good), that the
service kept every result (``GET /report/{id}`` for each), and that a sample of the answers is
exactly what ``grade FILE --json`` gives for the same file run here afterwards; and prints the
latency (p50, p95, max: from the first try to the answer), the throughput, how many 503s were
waited out, and the service's memory at the end (the server and its workers, with their engine
children).

Loopback only, bounded: ``--deadline`` seconds for the whole load (default 900), after which it
stops and reports failure. Reports; asserts no time. Needs the ``[serve]`` extra. Usage:

    python benchmarks/bench_serve.py                       # 200 submissions, 50 clients
    python benchmarks/bench_serve.py -n 40 -c 10 --json
"""
from __future__ import annotations

import argparse
import json
import os
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
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
EXERCISES = ("counter_lck", "counter_smp", "counter_pp", "fizz_buzz_mt")
EXTRA = ("id", "report_url", "exit_status", "terminal", "lang", "cached")
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never a proxy


def class_files() -> list[tuple[str, str, bytes]]:
    """(exercise, shape, bytes): every model answer and test shape of the four exercises."""
    out = []
    for ex in EXERCISES:
        out.append((ex, "reference", (ROOT / "reference" / f"{ex}.py").read_bytes()))
        for path in sorted((ROOT / "tests" / "submissions" / ex).glob("*.py")):
            out.append((ex, path.stem, path.read_bytes()))
    return out


def submissions(n: int, seed: int) -> list[dict]:
    """``n`` different files, the exercises in turn, each a student's own (a comment at the end)."""
    rng = random.Random(seed)
    by_ex: dict[str, list] = {ex: [f for f in class_files() if f[0] == ex] for ex in EXERCISES}
    out = []
    for i in range(n):
        ex = EXERCISES[i % len(EXERCISES)]
        _, shape, data = rng.choice(by_ex[ex])
        student = f"s{2300000 + i}"
        own = data.rstrip(b"\n") + f"\n# {student}\n".encode()
        out.append({"i": i, "exercise": ex, "shape": shape, "name": f"{student}_{ex}.py", "data": own})
    return out


def start_server(tmp: Path, extra: list[str]) -> tuple[subprocess.Popen, str, Path]:
    log = tmp / "serve.log"
    proc = subprocess.Popen([sys.executable, "-m", "grader", "serve", "--host", "127.0.0.1", "--port", "0",
                             "--db", str(tmp / "results.sqlite3"), "--rate", "0", *extra],
                            cwd=tmp, stdout=open(log, "wb"), stderr=subprocess.STDOUT,
                            env={**os.environ, "NO_COLOR": "1"})
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        m = re.search(r"ready at (http://\S+/)", log.read_text(errors="replace"))
        if m:
            return proc, m[1].rstrip("/"), log
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    sys.exit(f"grade serve did not start:\n{log.read_text(errors='replace')}")


def post(url: str, sub: dict, timeout: float) -> tuple[int, dict, dict]:
    from grader.serve.client import _multipart
    body, ctype = _multipart({"seed": "1", "lang": "en"}, (sub["name"], sub["data"]))
    req = urllib.request.Request(url + "/api/grade", data=body, method="POST", headers={"Content-Type": ctype})
    try:
        with OPENER.open(req, timeout=timeout) as r:
            return r.status, dict(r.headers), json.loads(r.read())
    except urllib.error.HTTPError as e:
        with e:
            raw = e.read()
        try:
            return e.code, dict(e.headers), json.loads(raw)
        except ValueError:
            return e.code, dict(e.headers), {}


def memory_kib(pid: int) -> tuple[int, int, int]:
    """(server RSS, total RSS of the server and every process under it, how many processes) in KiB."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        children.setdefault(int(text[text.rindex(")") + 2:].split()[1]), []).append(int(stat.parent.name))
    tree, todo = [pid], [pid]
    while todo:
        for c in children.get(todo.pop(), ()):
            tree.append(c)
            todo.append(c)

    def rss(p: int) -> int:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0
    return rss(pid), sum(rss(p) for p in tree), len(tree)


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(q * (len(s) - 1)))))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", "--submissions", type=int, default=200)
    ap.add_argument("-c", "--clients", type=int, default=50)
    ap.add_argument("--workers", type=int, default=None, help="grade serve --workers (default: its own, one per CPU)")
    ap.add_argument("--queue", type=int, default=None, help="grade serve --queue (default: its own)")
    ap.add_argument("--deadline", type=float, default=900.0, help="seconds for the whole load, then give up")
    ap.add_argument("--sample", type=int, default=8, help="answers compared with local grade --json afterwards")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    extra = []
    if args.workers:
        extra += ["--workers", str(args.workers)]
    if args.queue is not None:
        extra += ["--queue", str(args.queue)]
    proc, url, log = start_server(tmp, extra)
    health = json.loads(OPENER.open(url + "/healthz", timeout=30).read())
    subs = submissions(args.submissions, args.seed)
    todo = list(reversed(subs))
    lock = threading.Lock()
    answers: dict[int, dict] = {}
    latency: dict[int, float] = {}
    busy = [0]
    failures: list[str] = []
    stop_at = time.monotonic() + args.deadline

    def client() -> None:
        while True:
            with lock:
                if not todo:
                    return
                sub = todo.pop()
            t0 = time.monotonic()
            while time.monotonic() < stop_at:
                try:
                    status, headers, body = post(url, sub, timeout=max(1.0, stop_at - time.monotonic()))
                except OSError as exc:
                    with lock:
                        failures.append(f"{sub['name']}: {exc}")
                    break
                if status == 503:
                    with lock:
                        busy[0] += 1
                    time.sleep(float(headers.get("retry-after") or headers.get("Retry-After") or 1))
                    continue
                if status != 200:
                    with lock:
                        failures.append(f"{sub['name']}: HTTP {status} {body.get('message', '')}")
                    break
                with lock:
                    answers[sub["i"]] = body
                    latency[sub["i"]] = time.monotonic() - t0
                break

    t_start = time.monotonic()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, stop_at - time.monotonic()) + 5)
    wall = time.monotonic() - t_start
    server_rss, total_rss, nprocs = memory_kib(proc.pid)
    end_health = json.loads(OPENER.open(url + "/healthz", timeout=30).read())

    # none lost: each answer is the file's exercise, and its report is kept
    lost = [s["name"] for s in subs if s["i"] not in answers]
    wrong = [s["name"] for s in subs if s["i"] in answers and answers[s["i"]]["extra_data"]["exercise"] != s["exercise"]]
    missing = []
    for i, body in answers.items():
        try:
            with OPENER.open(url + f"/report/{body['id']}/results.json?lang=en", timeout=60) as r:
                kept = json.loads(r.read())
            if kept != {k: v for k, v in body.items() if k not in EXTRA}:
                missing.append(subs[i]["name"] + " (differs)")
        except (OSError, ValueError) as exc:
            missing.append(f"{subs[i]['name']} ({exc})")
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=150)
    except subprocess.TimeoutExpired:
        proc.kill()

    # graded exactly as grade FILE: a sample, graded here again by the command itself
    rng = random.Random(args.seed)
    sample = rng.sample(sorted(answers), min(args.sample, len(answers)))
    unequal = []
    folder = tmp / "local"
    folder.mkdir()
    for i in sample:
        sub = subs[i]
        (folder / sub["name"]).write_bytes(sub["data"])
        out = folder / f"{i}.json"
        subprocess.run([sys.executable, "-m", "grader", sub["name"], "--lang", "en", "--json", str(out)],
                       cwd=folder, capture_output=True, timeout=300, env={**os.environ, "NO_COLOR": "1"})
        local = json.loads(out.read_text(encoding="utf-8")) if out.exists() else None
        if local != {k: v for k, v in answers[i].items() if k not in EXTRA}:
            unequal.append(sub["name"])

    lat = list(latency.values())
    report = {
        "submissions": len(subs), "clients": args.clients, "workers": health["pool"]["workers"],
        "queue": health["pool"]["queue"], "answered": len(answers), "lost": len(lost), "failed": failures,
        "wrong_exercise": wrong, "not_kept": missing, "graded_by_server": end_health["pool"]["graded"],
        "busy_503_waited_out": busy[0], "wall_s": round(wall, 1),
        "throughput_per_s": round(len(answers) / wall, 2) if wall else 0.0,
        "latency_s": {"p50": round(pct(lat, 0.5), 2), "p95": round(pct(lat, 0.95), 2), "max": round(max(lat), 2),
                      "mean": round(statistics.fmean(lat), 2)} if lat else {},
        "memory_end_mib": {"server": round(server_rss / 1024, 1), "with_workers_and_children": round(total_rss / 1024, 1),
                           "processes": nprocs},
        "failed_checks": sum(1 for b in answers.values() if b["exit_status"] == 1),
        "sample_equal_to_local_grade": f"{len(sample) - len(unequal)}/{len(sample)}", "sample_unequal": unequal,
        "cpus": os.cpu_count(), "python": sys.version.split()[0],
    }
    ok = not lost and not failures and not wrong and not missing and not unequal
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        l = report["latency_s"]
        m = report["memory_end_mib"]
        print(f"grade serve under load: {report['submissions']} submissions from {report['clients']} concurrent clients "
              f"(loopback; {report['workers']} workers, queue {report['queue']}, {report['cpus']} CPUs, Python {report['python']})")
        print(f"  answered      {report['answered']}/{report['submissions']}   lost {report['lost']}   "
              f"refused for good {len(failures)}   kept by the service {report['answered'] - len(missing)}")
        print(f"  503 waited out {report['busy_503_waited_out']} (queue full: Retry-After honoured, then sent again)")
        if l:
            print(f"  latency       p50 {l['p50']:.2f} s   p95 {l['p95']:.2f} s   max {l['max']:.2f} s   (first try to answer)")
        print(f"  throughput    {report['throughput_per_s']:.2f} submissions/s   ({report['wall_s']:.1f} s wall)")
        print(f"  memory at end server {m['server']} MiB; with workers and engine children {m['with_workers_and_children']} MiB "
              f"({m['processes']} processes)")
        print(f"  verdicts      {report['failed_checks']} with a failed check, {report['answered'] - report['failed_checks']} all passed")
        print(f"  same as local grade --json: {report['sample_equal_to_local_grade']} sampled")
        for line in failures[:10] + [f"lost: {x}" for x in lost[:10]] + [f"not kept: {x}" for x in missing[:10]] + \
                [f"differs from local grade: {x}" for x in unequal]:
            print(f"  ! {line}")
        print("OK" if ok else "FAILED")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Processes that share state: an instructor's exercise built on ``multiprocessing``.

``counter_mgr`` is the common fix of the lecture's broken counter_mp.py: one child process per
call, counting into a ``Manager().dict()`` with one ``multiprocessing.Lock``. Its checks are the
kit's building blocks over ``process_view`` (nothing in grader/ knows of it). Each twin is graded
on seeds 1-10: a lost update between processes is found and told with process names on every seed,
the locked twins pass on every seed, and the same file and seed give the same report.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.exercises import catalog
from grader.grading import grade_seeds
from grader.sources.submission import load_submission
from instructor_course import instructor_course  # noqa: E402  (tests/e2e, put on the path by pytest)

SEEDS = list(range(1, 11))
pytestmark = pytest.mark.timeout(900)

YAML = '''
id: counter_mgr
version: "1"
file: counter_mgr.py
title: {ja: "Managerの辞書とLock", en: "a Manager's dict and a Lock"}
limits: {wall_seconds: 6, total_seconds: 60, virtual_seconds: 3600, steps: 100000, output_bytes: 1048576}
trace:
  counter: {}
runs:
  explore:
    schedules: 3
    strategies: [pct, random]
    time_modes: [timed]
    data: [course, shuffled, rotated]
    directed: 4
checks:
  - {id: runs, points: 1, runs: [explore], title: {ja: "正常に終了する", en: "runs to its end"}}
  - {id: tally, points: 2, runs: [explore], title: {ja: "集計結果が正しい", en: "exact tally"}}
  - {id: lock, points: 1, runs: [explore], title: {ja: "全プロセスで1つのLock", en: "one Lock shared by all processes"}}
'''

CHECKS = '''
from grader.verdicts.analysis import process_lock_verdict
from grader.verdicts.common import check_runs  # noqa: F401
from grader.verdicts.kit import assert_exact_tallies


def check_tally(obs):
    assert_exact_tallies(obs.runs, provenance=None)


def check_lock(obs):
    for run in obs.runs:
        verdict = process_lock_verdict(run.events)
        assert verdict.ok, verdict.failure()
'''

PROGRAM = '''import multiprocessing
import threading
import time
from multiprocessing import Process


def counter(cnt_dct, type_, lck):
    {body}


if __name__ == "__main__":
    with open("../data/poke_names.txt", encoding="utf-8") as f:
        types = [line.rstrip("\\n").split("\\t")[2].split() for line in f]
    with multiprocessing.Manager() as manager:
        cnt_dct = manager.dict()
        lck = {lock}
        prs = []
        for type_lst in types[:9]:
            for type_ in type_lst:
                pr = Process(target=counter, args=(cnt_dct, type_, lck))
                pr.start()
                prs.append(pr)
        for pr in prs:
            pr.join()
        print("集計結果：", dict(cnt_dct))
'''

RMW = "now = cnt_dct.get(type_, 0)\n    {pause}cnt_dct[type_] = now + 1"
TWINS = {
    # name: (body, the lock made in the parent, racy?)
    "no_lock": (RMW.format(pause="time.sleep(0.1)\n    "), "multiprocessing.Lock()", True),
    "no_lock_no_sleep": (RMW.format(pause=""), "multiprocessing.Lock()", True),
    "lock_around_write_only": ("now = cnt_dct.get(type_, 0)\n    time.sleep(0.1)\n    with lck:\n"
                               "        cnt_dct[type_] = now + 1", "multiprocessing.Lock()", True),
    "lock_made_in_each_call": ("lck = multiprocessing.Lock()\n    with lck:\n        now = cnt_dct.get(type_, 0)\n"
                               "        time.sleep(0.1)\n        cnt_dct[type_] = now + 1", "None", True),
    "threading_lock_copied": ("with lck:\n        now = cnt_dct.get(type_, 0)\n        time.sleep(0.1)\n"
                              "        cnt_dct[type_] = now + 1", "threading.Lock()", True),
    "locked": ("with lck:\n        now = cnt_dct.get(type_, 0)\n        time.sleep(0.1)\n"
               "        cnt_dct[type_] = now + 1", "multiprocessing.Lock()", False),
    "locked_acquire_release": ("lck.acquire()\n    try:\n        cnt_dct[type_] = cnt_dct.get(type_, 0) + 1\n"
                               "    finally:\n        lck.release()", "multiprocessing.RLock()", False),
}


# A total counted by four processes in something else they share; the checks name no primitive.
TOTAL_YAML = YAML.replace("counter_mgr", "counter_total").replace("trace:\n  counter: {}\n", "").replace(
    "data: [course, shuffled, rotated]", "data: [course]")

TOTAL_CHECKS = '''
import re

from grader.model import Failure, Msg
from grader.verdicts.analysis import describe_lost_update, process_lock_verdict, shares_between_processes
from grader.verdicts.analysis.timeline import lost_update_timeline
from grader.verdicts.common import check_runs  # noqa: F401
from grader.verdicts.kit import loss_in, where


def check_tally(obs):
    for run in obs.runs:
        found = re.search(r"total: (\\d+)", run.output())
        assert found, Failure(summary=Msg("合計が表示されていません", "no total was printed"))
        total = int(found.group(1))
        if total == 20:
            continue
        loss, seen = loss_in(run)
        head, trace = describe_lost_update(loss) if loss else (Msg("", ""), ())
        assert False, Failure(
            summary=Msg(f"合計が 20 ではなく {total} です（{head.ja}）", f"the total is {total}, not 20 ({head.en})"),
            expected=Msg.same("total: 20"), observed=Msg.same(f"total: {total}"), where=where(run, None),
            trace=trace, timeline=lost_update_timeline(seen, loss) if loss else None)


def check_lock(obs):
    for run in obs.runs:
        if not shares_between_processes(run.events):
            continue  # what comes back through a Queue or a Pipe needs no lock
        verdict = process_lock_verdict(run.events)
        assert verdict.ok, verdict.failure()
'''

TOTAL = '''import multiprocessing
from multiprocessing import Process


def add(shared, lck):
    for _ in range(5):
        {body}


if __name__ == "__main__":
    {make}
    lck = {lock}
    prs = [Process(target=add, args=(shared, lck)) for _ in range(4)]
    for pr in prs:
        pr.start()
    for pr in prs:
        pr.join()
    print("total:", {total})
'''

VALUE = ("shared = multiprocessing.Value('i', 0)", "shared.value")
ARRAY = ("shared = multiprocessing.Array('i', 3)", "shared[1]")
LIST = ("manager = multiprocessing.Manager()\n    shared = manager.list([0])", "shared[0]")
TOTALS = {
    # name: (what is shared, the body, the lock, racy?)
    "value_augmented": (VALUE, "shared.value += 1", "None", True),
    "value_get_lock": (VALUE, "with shared.get_lock():\n            shared.value += 1", "None", False),
    "array_item": (ARRAY, "shared[1] = shared[1] + 1", "multiprocessing.Lock()", True),
    "array_item_locked": (ARRAY, "with lck:\n            shared[1] = shared[1] + 1", "multiprocessing.Lock()", False),
    "manager_list": (LIST, "shared[0] += 1", "None", True),
    "manager_list_locked": (LIST, "with lck:\n            shared[0] += 1", "multiprocessing.Lock()", False),
    "semaphore_of_two": (VALUE, "with lck:\n            now = shared.value\n            shared.value = now + 1",
                         "multiprocessing.Semaphore(2)", True),
    "semaphore_of_one": (VALUE, "with lck:\n            now = shared.value\n            shared.value = now + 1",
                         "multiprocessing.Semaphore(1)", False),
}


# Message passing and events: the same total, scheduled in turns across processes.
PASSING = {
    "queue_sum": '''import multiprocessing

def add(q):
    for _ in range(5):
        q.put(1)

if __name__ == "__main__":
    q = multiprocessing.Queue()
    prs = [multiprocessing.Process(target=add, args=(q,)) for _ in range(4)]
    for pr in prs:
        pr.start()
    total = sum(q.get() for _ in range(20))
    for pr in prs:
        pr.join()
    print("total:", total)
''',
    "pipe_sum": '''from multiprocessing import Pipe, Process

def add(conn):
    conn.send(5)
    conn.close()

if __name__ == "__main__":
    ends = [Pipe() for _ in range(4)]
    prs = [Process(target=add, args=(child,)) for _, child in ends]
    for pr in prs:
        pr.start()
    total = sum(parent.recv() for parent, _ in ends)
    for pr in prs:
        pr.join()
    print("total:", total)
''',
    "pool_sum": '''import multiprocessing

def five(_):
    return 5

if __name__ == "__main__":
    with multiprocessing.Pool(4) as pool:
        print("total:", sum(pool.map(five, range(4))))
''',
}
EVENT = '''import multiprocessing

def add(shared, go):
    go.wait()
    for _ in range(5):
        {body}

if __name__ == "__main__":
    shared = multiprocessing.Value("i", 0)
    go = multiprocessing.Event()
    prs = [multiprocessing.Process(target=add, args=(shared, go)) for _ in range(4)]
    for pr in prs:
        pr.start()
    go.set()
    for pr in prs:
        pr.join()
    print("total:", shared.value)
'''
PASSING["event_then_get_lock"] = EVENT.format(body="with shared.get_lock():\n            shared.value += 1")
RACY_EVENT = EVENT.format(body="shared.value += 1")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    with instructor_course(tmp_path_factory.mktemp("course"), {"counter_mgr": (YAML, CHECKS),
                                                               "counter_total": (TOTAL_YAML, TOTAL_CHECKS)}) as root:
        yield root


def _grade(root: Path, twin: str, seeds=SEEDS):
    body, lock, _ = TWINS[twin]
    folder = root / "work" / twin
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "counter_mgr.py"
    path.write_text(PROGRAM.format(body=body, lock=lock), encoding="utf-8")
    return grade_seeds(load_submission(str(path)), catalog.get("counter_mgr"), seeds)


@pytest.mark.parametrize("twin", [t for t, (_, _, racy) in TWINS.items() if racy])
def test_a_lost_update_between_processes_is_found_and_told_on_every_seed(course, twin):
    for seed, result in zip(SEEDS, _grade(course, twin)):
        checks = {c.id: c for c in result.checks}
        assert checks["runs"].passed, f"seed {seed}: {checks['runs'].failure.text('en')}"
        tally = checks["tally"]
        assert not tally.passed, f"seed {seed}: tally passed"
        text = tally.failure.text("en")
        assert tally.failure.trace, f"seed {seed}: no interleaving: {text}"
        assert "Process-" in text and "cnt_dct[" in text, text
        assert tally.failure.timeline is not None, text
        lock = checks["lock"]
        assert not lock.passed, f"seed {seed}: lock passed"
        f = lock.failure
        said = " ".join(m.en for m in (f.summary, f.expected, f.observed, f.where) if m is not None)
        assert "thread" not in said.replace("threading.Lock", ""), said
        if twin == "threading_lock_copied":
            assert "copied into each" in said, said


@pytest.mark.parametrize("twin", [t for t, (_, _, racy) in TWINS.items() if not racy])
def test_one_lock_shared_by_every_process_passes_on_every_seed(course, twin):
    for seed, result in zip(SEEDS, _grade(course, twin)):
        failed = {c.id: c.failure.text("en") for c in result.checks if not c.passed}
        assert not failed, f"seed {seed}: {failed}"


@pytest.mark.parametrize("twin", ["no_lock", "locked"])
def test_the_same_file_and_seed_give_the_same_report_with_processes(course, twin, tmp_path):
    body, lock, racy = TWINS[twin]
    path = tmp_path / "counter_mgr.py"
    path.write_text(PROGRAM.format(body=body, lock=lock), encoding="utf-8")
    outs = []
    for i in range(2):
        out = tmp_path / f"r{i}.json"
        subprocess.run([sys.executable, "-m", "grader", str(path), "--seed", "3", "--json", str(out), "--lang", "en"],
                       cwd=tmp_path, capture_output=True, check=False, env={**os.environ, "GRADER_COURSE": str(course)})
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    statuses = {t["name"].split(":")[0]: t["status"] for t in json.loads(outs[0])["tests"]}
    assert (statuses.get("tally") == "failed") == racy, statuses


def _grade_total(root: Path, twin: str):
    (make, total), body, lock, _ = TOTALS[twin]
    folder = root / "work" / twin
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "counter_total.py"
    path.write_text(TOTAL.format(make=make, total=total, body=body, lock=lock), encoding="utf-8")
    return grade_seeds(load_submission(str(path)), catalog.get("counter_total"), SEEDS)


@pytest.mark.parametrize("twin", list(TOTALS))
def test_value_array_list_and_semaphore_twins_on_every_seed(course, twin):
    racy = TOTALS[twin][3]
    for seed, result in zip(SEEDS, _grade_total(course, twin)):
        checks = {c.id: c for c in result.checks}
        assert checks["runs"].passed, f"seed {seed}: {checks['runs'].failure.text('en')}"
        if not racy:
            failed = {c.id: c.failure.text("en") for c in result.checks if not c.passed}
            if twin == "semaphore_of_one":  # exact, and told that the exercise asks for a Lock
                assert set(failed) == {"lock"} and "Semaphore(1)" in failed["lock"], f"seed {seed}: {failed}"
                continue
            assert not failed, f"seed {seed}: {failed}"
            continue
        tally = checks["tally"]
        assert not tally.passed, f"seed {seed}: the total was right"
        text = tally.failure.text("en")
        assert tally.failure.trace and "Process-" in text and "shared" in text, f"seed {seed}: {text}"
        assert "processes read" in text or "wrote over it" in text, text
        assert not checks["lock"].passed, f"seed {seed}: lock passed"


@pytest.mark.parametrize("name", [*PASSING, "event_racy"])
def test_queue_pipe_pool_and_event_in_turns_on_every_seed(course, name):
    folder = course / "work" / name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "counter_total.py"
    path.write_text(PASSING.get(name, RACY_EVENT), encoding="utf-8")
    results = grade_seeds(load_submission(str(path)), catalog.get("counter_total"), SEEDS)
    for seed, result in zip(SEEDS, results):
        failed = {c.id: c.failure.text("en") for c in result.checks if not c.passed}
        if name == "event_racy":
            assert set(failed) == {"tally", "lock"}, f"seed {seed}: {failed}"
            assert "Process-" in failed["tally"], failed["tally"]
        else:
            assert not failed, f"seed {seed}: {failed}"


def test_each_primitive_is_recorded_with_one_identity_in_every_process(course):
    from grader.grading import observe

    folder = course / "work" / "recorded"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "counter_total.py"
    path.write_text('''import multiprocessing

def add(q, ev, v, arr, lst, lck):
    ev.wait()
    with lck:
        v.value += 1
        arr[0] = arr[0] + 1
        lst[0] += 1
    q.put(1)

if __name__ == "__main__":
    q, ev, lck = multiprocessing.Queue(), multiprocessing.Event(), multiprocessing.RLock()
    v, arr = multiprocessing.Value("i", 0), multiprocessing.Array("i", 2)
    with multiprocessing.Manager() as manager:
        lst = manager.list([0])
        prs = [multiprocessing.Process(target=add, args=(q, ev, v, arr, lst, lck)) for _ in range(2)]
        for pr in prs:
            pr.start()
        ev.set()
        got = [q.get() for _ in range(2)]
        for pr in prs:
            pr.join()
        print("total:", v.value * 10)
''', encoding="utf-8")
    observations, _, _ = observe(load_submission(str(path)), catalog.get("counter_total"), [1])
    run = observations[1].runs[0]
    assert run.output().strip().endswith("total: 20"), run.output()
    seen: dict[tuple, set] = {}
    for e in run.events:
        if e["k"] in ("xmem", "xsync", "xmsg"):
            seen.setdefault((e["k"], e.get("ty") or e.get("kind"), e["op"]), set()).add((e["x"], e["proc"]))
    for what in [("xmem", "Value", "read"), ("xmem", "Value", "write"), ("xmem", "Array", "write"),
                 ("xmem", "ListProxy", "read"), ("xmem", "ListProxy", "write"), ("xsync", "RLock", "acq"),
                 ("xsync", "RLock", "rel"), ("xmsg", "Queue", "put"), ("xmsg", "Queue", "get"),
                 ("xmsg", "Event", "set"), ("xmsg", "Event", "wait")]:
        assert what in seen, (what, sorted(seen))
    for what in [("xmem", "Value", "write"), ("xsync", "RLock", "acq"), ("xmsg", "Event", "wait")]:
        identities = {x for x, _ in seen[what]}
        processes = {p for _, p in seen[what]}
        assert len(identities) == 1 and len(processes) == 2, (what, seen[what])  # one object, two processes

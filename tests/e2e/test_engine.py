"""The engine end to end: races found on every seed, correct programs never blamed, runs replayable.

Grading goes through the same pipeline as ``grade`` (child processes and all), called in-process
to keep the suite fast.
"""
import json
import subprocess
import sys
from pathlib import Path

import re

import pytest

from grader.exercises import catalog
from grader.grading import grade_submission
from grader.sources.submission import load_submission

ROOT = Path(__file__).resolve().parents[2]
SEEDS = range(1, 21)

HEAD = '''import collections
import random
import threading
import time


def read_types(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\\n").split("\\t")[2].split(" ") for line in f if line.strip()]

'''
MAIN = '''
if __name__ == "__main__":
    types = read_types("lec11/data/poke_names.txt")
    cnt_dct = collections.defaultdict(int)
    lck = {make}
    ths = []
    for type_lst in types[:9]:
        for type_ in type_lst:
            th = threading.Thread(target=counter, args=(cnt_dct, type_, {arg}))
            th.start()
            ths.append(th)
    for th in ths:
        th.join()
    print("集計結果：", cnt_dct)
'''

COUNTERS = {
    "no_lock": '''
def counter(cnt_dct, type_, lck):
    now = cnt_dct[type_]
    time.sleep(random.randint(1, 5))
    cnt_dct[type_] = now + 1
''',
    "augassign_no_sleep": '''
def counter(cnt_dct, type_, lck):
    time.sleep(random.randint(1, 5))
    cnt_dct[type_] += 1
''',
    "check_then_act": '''
def counter(cnt_dct, type_, lck):
    time.sleep(random.randint(1, 5))
    if type_ in cnt_dct:
        cnt_dct[type_] = cnt_dct[type_] + 1
    else:
        cnt_dct[type_] = 1
''',
    "lock_around_write_only": '''
def counter(cnt_dct, type_, lck):
    now = cnt_dct[type_]
    time.sleep(random.randint(1, 5))
    with lck:
        cnt_dct[type_] = now + 1
''',
    "released_between": '''
def counter(cnt_dct, type_, lck):
    lck.acquire()
    now = cnt_dct[type_]
    lck.release()
    time.sleep(random.randint(1, 5))
    lck.acquire()
    cnt_dct[type_] = now + 1
    lck.release()
''',
    "correct_with": '''
def counter(cnt_dct, type_, lck):
    with lck:
        now = cnt_dct[type_]
        time.sleep(random.randint(1, 5))
        cnt_dct[type_] = now + 1
''',
    "correct_no_sleep": '''
def counter(cnt_dct, type_, lck):
    time.sleep(random.randint(1, 5))
    with lck:
        cnt_dct[type_] = cnt_dct.get(type_, 0) + 1
''',
}
RACY = ["no_lock", "augassign_no_sleep", "check_then_act", "lock_around_write_only", "released_between"]


def program(counter: str, make: str = "threading.Lock()", arg: str = "lck") -> str:
    return HEAD + counter + MAIN.format(make=make, arg=arg)


def grade(tmp_path, source: str, exercise: str, seed: int = 1, name: str | None = None):
    path = tmp_path / (name or f"{exercise}.py")
    path.write_text(source, encoding="utf-8")
    return grade_submission(load_submission(str(path)), catalog.get(exercise), seed)


def verdicts(result) -> dict:
    return {c.id: c.passed for c in result.checks}


@pytest.mark.parametrize("variant", RACY)
def test_a_race_fails_tally_on_every_seed_with_its_interleaving(tmp_path, variant):
    source = program(COUNTERS[variant])
    for seed in SEEDS:
        result = grade(tmp_path, source, "counter_lck", seed)
        tally = next(c for c in result.checks if c.id == "tally")
        assert not tally.passed, f"seed {seed}: the race was missed"
        assert tally.failure.trace, f"seed {seed}: no interleaving explains the failure"
        assert "lost" in tally.failure.trace[-1].en
        assert verdicts(result)["runs"] and not verdicts(result)["lock"]


@pytest.mark.parametrize("variant", ["correct_with", "correct_no_sleep"])
def test_a_correct_program_passes_on_every_seed(tmp_path, variant):
    source = program(COUNTERS[variant])
    for seed in SEEDS:
        assert grade(tmp_path, source, "counter_lck", seed).passed, f"seed {seed}"


def test_a_lock_per_thread_is_named_as_such(tmp_path):
    source = program(COUNTERS["correct_with"], make="None", arg="threading.Lock()")
    result = grade(tmp_path, source, "counter_lck")
    v = verdicts(result)
    assert not v["tally"] and not v["lock"]
    lock = next(c for c in result.checks if c.id == "lock")
    assert "thread" in lock.failure.summary.en.lower()


@pytest.mark.parametrize("make, inside", [("threading.Semaphore(3)", "3 threads"), ("threading.Lock()", "at most 1")])
def test_semaphore_of_three_and_a_lock_in_place_of_the_semaphore(tmp_path, make, inside):
    source = program(COUNTERS["correct_with"], make=make)
    for seed in (1, 2, 3):
        result = grade(tmp_path, source, "counter_smp", seed)
        sem = next(c for c in result.checks if c.id == "semaphore")
        assert not sem.passed and inside in sem.failure.summary.en


def test_semaphore_of_two_passes_counter_smp(tmp_path):
    source = program(COUNTERS["correct_with"], make="threading.Semaphore(2)")
    for seed in (1, 2, 3):
        assert grade(tmp_path, source, "counter_smp", seed).passed


def test_hard_coded_answer_fails_on_hidden_data(tmp_path):
    fake = program(COUNTERS["correct_with"]).replace(
        'print("集計結果：", cnt_dct)',
        "print(\"集計結果：\", {'くさ': 3, 'どく': 3, 'ほのお': 3, 'ひこう': 1, 'みず': 3})")
    result = grade(tmp_path, fake, "counter_lck")
    tally = next(c for c in result.checks if c.id == "tally")
    assert not tally.passed and "hidden data" in tally.failure.where.en


def test_deadlock_is_reported_with_the_blocked_threads_and_lines(tmp_path):
    source = program('''
def counter(cnt_dct, type_, lck):
    with lck:
        with lck:
            cnt_dct[type_] += 1
''')
    result = grade(tmp_path, source, "counter_lck")
    runs = result.checks[0]
    assert not runs.passed and "deadlock" in runs.failure.summary.en
    # The thread that holds the Lock waits for it again at the inner `with lck:` (which thread it is
    # depends on the schedule the seed chose).
    assert any(re.fullmatch(r"(Thread-\d+) \(counter\) waits for Lock #1, held by \1 \(counter\) \(line 14\)", step.en)
               for step in runs.failure.trace), runs.failure.text("en")
    # Its holder is alive (waiting for it): an ordinary deadlock, not a forgotten release.
    assert "every thread is waiting for another" in runs.failure.observed.en


def test_a_deadlock_on_a_semaphore_never_released_names_who_took_it(tmp_path):
    source = (ROOT / "tests" / "submissions" / "counter_smp" / "release_forgotten.py").read_text(encoding="utf-8")
    runs = grade(tmp_path, source, "counter_smp").checks[0]
    assert not runs.passed and "never released" in runs.failure.summary.en
    assert re.fullmatch(r"Semaphore #1 was acquired by Thread-\d+ \(counter\) and Thread-\d+ \(counter\) \(line 14\), "
                        r"which ended without releasing it: nobody is left to release it", runs.failure.observed.en), \
        runs.failure.observed.en
    assert "release せずに終了しました" in runs.failure.observed.ja and "with" in runs.failure.expected.en


def test_an_exception_in_a_thread_fails_runs_with_its_line(tmp_path):
    source = program('''
def counter(cnt_dct, type_, lck):
    with lck:
        cnt_dct[type_] = cnt_dct["nope"] + 1
''').replace("collections.defaultdict(int)", "{}")
    runs = grade(tmp_path, source, "counter_lck").checks[0]
    assert not runs.passed and "KeyError" in runs.failure.summary.en and "line 14" in runs.failure.where.en


def test_a_program_that_sleeps_forever_is_stopped_by_the_virtual_clock(tmp_path):
    source = program(COUNTERS["correct_with"]).replace(
        "    for th in ths:\n        th.join()\n",
        "    while True:\n        time.sleep(1)\n")
    runs = grade(tmp_path, source, "counter_lck").checks[0]
    assert not runs.passed and "never ends" in runs.failure.summary.en
    assert "MainThread" in runs.failure.observed.en


def test_same_file_and_seed_give_byte_identical_json(tmp_path):
    path = tmp_path / "counter_lck.py"
    path.write_text(program(COUNTERS["no_lock"]), encoding="utf-8")
    grade_cmd = [sys.executable, "-m", "grader"]
    outs = []
    for i in range(2):
        out = tmp_path / f"r{i}.json"
        subprocess.run([*grade_cmd, str(path), "--seed", "5", "--json", str(out), "--lang", "en"],
                       cwd=tmp_path, capture_output=True, check=False)
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    assert json.loads(outs[0])["tests"][1]["status"] == "failed"


FORKED_RANDOM = """import random
from multiprocessing import Pipe, Process

def child(conn):
    conn.send(random.randint(1, 10 ** 9))

if __name__ == "__main__":
    print("main", child)
    a, b = Pipe()
    for _ in range(3):
        p = Process(target=child, args=(b,))
        p.start()
        print("from a child:", a.recv())
        p.join()
"""


@pytest.mark.parametrize("source,exercise", [
    (FORKED_RANDOM, "counter_pp"), ("print(object(), print)\n", "counter_lck"),
    ("print('before the loop')\nx = 0\nwhile True:\n    x += 1\n", "counter_lck")],
    ids=["forked_children_draw_random_numbers", "an_address", "a_hang"])
def test_what_the_machine_varies_reads_the_same_in_every_grading(tmp_path, source, exercise):
    # A forked child's random reseeds from the OS; addresses, the scratch folder, the OS thread
    # ids of a hang's stack dump and the line the kill lands on change with every process.
    first, second = (grade(tmp_path, source, exercise) for _ in range(2))
    assert first.output == second.output and "grader-" not in first.output
    assert [c.failure for c in first.checks] == [c.failure for c in second.checks]
    if "recv" in source:
        drawn = re.findall(r"from a child: (\d+)", first.output)
        assert len(set(drawn)) == 3, first.output  # each child its own stream, yet the same each time
    elif "object" in source:
        assert first.output.startswith("<object object at 0x7f0000001000> <built-in function print>")
    else:
        runs = first.checks[0]
        assert "lines it was running: 3" in runs.failure.observed.en  # the loop, wherever it was stopped
        assert "most recent call first" not in first.output
        assert first.output == "before the loop\n"  # what it printed before it was stopped is kept


def test_threads_see_only_the_students_threads(tmp_path):
    source = HEAD + '''
def worker():
    time.sleep(1)

if __name__ == "__main__":
    th = threading.Thread(target=worker)
    th.start()
    print("listed", [t.name for t in threading.enumerate()], threading.active_count())
    th.join()
    print("集計結果：", {})
'''
    result = grade(tmp_path, source, "counter_lck")
    assert "listed ['MainThread', 'Thread-1 (worker)'] 2" in result.output


LOOKS = """import pickle, threading, time, _thread
facts = [repr(threading.Lock), type(threading.Lock).__name__, repr(_thread.allocate_lock),
         type(threading.Lock()).__module__ + "." + type(threading.Lock()).__qualname__,
         repr(time.sleep), repr(time.time), repr(time.monotonic), repr(threading.get_ident),
         type(time.sleep).__name__, time.sleep.__module__, threading.Thread.start.__module__,
         pickle.loads(pickle.dumps(time.sleep)) is time.sleep,
         pickle.loads(pickle.dumps(threading.Lock)) is threading.Lock,
         isinstance(threading.Lock(), _thread.LockType), time.time() > 1.7e9]
try:
    time.sleep(-1)
except ValueError as exc:
    facts.append(str(exc))
for fact in facts:
    print(fact)
"""


def test_the_patched_runtime_looks_like_cpythons(tmp_path):
    # What one probe could tell apart reads the same under the grader as in this interpreter.
    script = tmp_path / "looks.py"
    script.write_text(LOOKS, encoding="utf-8")
    native = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert native.returncode == 0, native.stderr
    graded = grade(tmp_path, LOOKS, "counter_lck")
    assert graded.output == native.stdout


TIMER_CALLED_AT_ONCE = """import threading
import time


def fizz_buzz(num, bgn0):
    print(threading.current_thread(), threading.current_thread().name)
    return [i for i in range(1, num + 1)]


if __name__ == "__main__":
    bgn0 = time.time()
    for num in [50, 40, 30]:
        th = threading.Timer(1, fizz_buzz(num, bgn0))
        th.start()
    for th in threading.enumerate():
        print(th, th.name)
"""


def test_an_exception_inside_the_library_points_at_the_line_that_started_the_thread(tmp_path):
    runs = grade(tmp_path, TIMER_CALLED_AT_ONCE, "fizz_buzz_mt").checks[0]
    assert runs.id == "runs" and not runs.passed
    assert runs.failure.where.en.startswith("line 14 (where Thread-1 was started"), runs.failure.where.en
    assert "called at once" in runs.failure.observed.en and "その場で呼び出して" in runs.failure.observed.ja


def test_addresses_in_recorded_values_read_the_same_in_every_grading(tmp_path):
    from grader.grading import observe

    source = HEAD + """
def counter(cnt_dct, type_, lck):
    with lck:
        cnt_dct[type_] = cnt_dct.get(type_, 0) + 1

if __name__ == "__main__":
    cnt_dct, lck = {}, threading.Lock()
    ths = [threading.Thread(target=counter, args=(cnt_dct, t, lck)) for t in ["a", "b"]]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    print("集計結果：", cnt_dct)
"""
    path = tmp_path / "counter_lck.py"
    path.write_text(source, encoding="utf-8")
    args = []
    for _ in range(2):
        obs, _, _ = observe(load_submission(str(path)), catalog.get("counter_lck"), [1])
        args.append([e["args"] for e in obs[1].runs[0].events if e["k"] == "call"])
    assert args[0] == args[1] and "0x7f0000001" in repr(args[0]), args

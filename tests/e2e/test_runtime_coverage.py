"""What the engine controls, and what it does not but must survive: each program here must run to
its end under the scheduler (``runs`` passes) with the output a real run would give."""
import pytest

from grader.exercises import catalog
from grader.grading import grade_submission
from grader.sources.submission import load_submission

PROGRAMS = {
    "condition_and_event": '''
import threading, time
cond = threading.Condition()
ready = threading.Event()
items = []
def producer():
    for i in range(3):
        time.sleep(1)
        with cond:
            items.append(i)
            cond.notify()
    ready.set()
def consumer():
    got = []
    while len(got) < 3:
        with cond:
            while not items:
                cond.wait()
            got.append(items.pop(0))
    print("got", got)
threads = [threading.Thread(target=producer), threading.Thread(target=consumer)]
for t in threads: t.start()
ready.wait()
for t in threads: t.join()
print("done", round(time.time() - 1670817600))
''',
    "timer_and_barrier": '''
import threading, time
t0 = time.monotonic()
fired = []
timer = threading.Timer(5, lambda: fired.append(round(time.monotonic() - t0)))
timer.start()
barrier = threading.Barrier(3)
def worker():
    barrier.wait()
ws = [threading.Thread(target=worker) for _ in range(2)]
for w in ws: w.start()
barrier.wait()
for w in ws: w.join()
timer.join()
print("fired", fired)
''',
    "queue_and_pool": '''
import queue, threading, time
from concurrent.futures import ThreadPoolExecutor
q = queue.Queue()
def put():
    for i in range(3):
        time.sleep(0.5)
        q.put(i)
threading.Thread(target=put).start()
print("queue", [q.get(timeout=10) for _ in range(3)])
with ThreadPoolExecutor(max_workers=3) as pool:
    print("pool", list(pool.map(lambda x: x * x, range(5))))
''',
    "raw_thread_and_daemon": '''
import _thread, threading, time
done = []
_thread.start_new_thread(lambda: done.append("raw"), ())
threading.Thread(target=lambda: time.sleep(10**6), daemon=True).start()
for _ in range(200):
    if done:
        break
    time.sleep(0.01)
print("raw thread ran:", done == ["raw"])
''',
    "rlock_and_bounded": '''
import threading
r = threading.RLock()
with r:
    with r:
        pass
b = threading.BoundedSemaphore(1)
b.acquire(); b.release()
try:
    b.release()
except ValueError as e:
    print("bounded:", e)
print("ok")
''',
}

EXPECTED = {
    "condition_and_event": ["got [0, 1, 2]", "done 3"],
    "timer_and_barrier": ["fired [5]"],
    "queue_and_pool": ["queue [0, 1, 2]", "pool [0, 1, 4, 9, 16]"],
    "raw_thread_and_daemon": ["raw thread ran: True"],
    "rlock_and_bounded": ["bounded: Semaphore released too many times", "ok"],
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_program_runs_under_the_scheduler(tmp_path, name):
    path = tmp_path / "counter_lck.py"
    path.write_text(PROGRAMS[name], encoding="utf-8")
    result = grade_submission(load_submission(str(path)), catalog.get("counter_lck"), 1)
    runs = result.checks[0]
    assert runs.passed, runs.failure.text("en") if runs.failure else ""
    for line in EXPECTED[name]:
        assert line in result.output, (line, result.output)

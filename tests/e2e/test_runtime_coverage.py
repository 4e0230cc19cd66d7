"""What the engine controls, and what it does not but must survive: each program here must run to
its end under the scheduler (``runs`` passes) with the output a real run would give."""
import pytest

from grader.exercises import catalog
from grader.grading import grade_submission
from grader.sources.submission import load_submission

PROGRAMS = {
    "condition_and_event": '''
import threading, time
t_start = time.time()
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
print("done", round(time.time() - t_start))
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
    "data_by_every_opener": '''
import codecs, csv, io, os, pathlib, threading
paths = ["lec11/data/poke_names.txt", "../data/poke_names.txt", "data/poke_names.txt", "poke_names.txt",
         r"C:\\Users\\taro\\ProA2\\lec11\\data\\poke_names.txt", "/Users/hanako/lec11/data/POKE_NAMES.TXT",
         os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "poke_names.txt")]
openers = {
    "open": lambda p: open(p, encoding="utf-8").read(),
    "io.open": lambda p: io.open(p, encoding="utf-8").read(),
    "codecs.open": lambda p: codecs.open(p, "r", "utf-8").read(),
    "Path.open": lambda p: pathlib.Path(p).open(encoding="utf-8").read(),
    "Path.read_text": lambda p: pathlib.Path(p).read_text(encoding="utf-8"),
    "os.open": lambda p: os.read(os.open(p, os.O_RDONLY), 1 << 20).decode("utf-8"),
    "csv": lambda p: "".join("\\t".join(r) + "\\n" for r in csv.reader(open(p, encoding="utf-8"), delimiter="\\t")),
}
seen = set()
for name, read in openers.items():
    for p in paths:
        text = read(p)
        seen.add(len(text.splitlines()))
print("exists:", all(os.path.exists(p) and os.path.isfile(p) for p in paths))
got = []
t = threading.Thread(target=lambda: got.append(open("../data/poke_names.txt", encoding="utf-8").readline()))
t.start(); t.join()
print("lines:", sorted(seen), "thread read:", got[0].split("\\t")[0])
try:
    open("lec11/data/pokemon.txt")
except FileNotFoundError:
    print("another name: FileNotFoundError")
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
    "data_by_every_opener": ["exists: True", "lines: [151] thread read: 1", "another name: FileNotFoundError"],
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

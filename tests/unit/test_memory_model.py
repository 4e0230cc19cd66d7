"""The engine's memory model in this process: hooks under a live scheduler, what they record, and
that programs mean the same with every access recorded (no child process, no patched threading)."""
from __future__ import annotations

import os
from contextlib import contextmanager

import pytest

from grader.engine import hooks, state
from grader.engine.events import decode_lines
from grader.engine.instrument import instrument
from grader.engine.memory import Memory
from grader.engine.recorder import Recorder
from grader.engine.scheduler import Scheduler
from grader.engine.strategies import make
from grader.runner.accesses import annotate, in_sequence


@pytest.fixture(autouse=True)
def installed_hooks():
    hooks.install()


@contextmanager
def engine(tmp_path, strategy="pct", seed=1, directions=None, share_all=False):
    """A scheduler, recorder and memory for this thread (MainThread of the run)."""
    path = tmp_path / "events"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    sched = Scheduler(make(strategy, seed, directions=directions))
    rec = Recorder(fd, "s.py", state.who, 1 << 24, on_overflow=lambda: None)
    saved = state.S, state.R, state.M
    state.S, state.R, state.M = sched, rec, Memory(share_all)
    sched.on_switch = rec.before_event = state.M.bump  # as runtime.activate wires them
    try:
        yield sched, rec, path
        state.M.settle()  # as the run's end does
        rec.flush()
    finally:
        state.S, state.R, state.M = saved
        os.close(fd)


def run_in_threads(tmp_path, src: str, bodies, strategy="pct", seed=1, directions=None):
    """Run ``src``'s module code, then each of ``bodies(ns)`` in a thread of its own; returns
    (namespace, accesses as the parent sees them)."""
    code, sites = instrument(src, "s.py")
    ns: dict = {}
    with engine(tmp_path, strategy, seed, directions) as (sched, rec, path):
        exec(code, ns)
        threads = [sched.spawn(body(ns), daemon=False) for body in bodies]
        for ts in threads:
            sched.join(ts, None)
        rec.flush()
    events, forged = decode_lines(path.read_bytes())
    assert forged == 0
    events = in_sequence(events)
    annotate(events, sites)
    return ns, [e for e in events if e["k"] in ("read", "write")]


def test_state_one_thread_keeps_to_itself_costs_no_event(tmp_path):
    # A list the function builds and returns: no other thread can reach it, so no hook at all.
    src = ("def work(i):\n"
           "    mine = []\n"
           "    for j in range(200):\n"
           "        mine.append(j)\n"
           "    return mine\n")
    _, accesses = run_in_threads(tmp_path, src, [lambda ns, i=i: (lambda: ns["work"](i)) for i in range(3)])
    assert accesses == []


def test_state_one_thread_keeps_to_itself_through_a_helper_costs_one_event(tmp_path):
    # Handed to a helper, the list is hooked; only one thread touches it: no scheduling point, and
    # its last write is written down as the thread ends.
    src = ("def add(lst, j):\n"
           "    lst.append(j)\n"
           "def work(i):\n"
           "    mine = []\n"
           "    for j in range(200):\n"
           "        add(mine, j)\n")
    _, accesses = run_in_threads(tmp_path, src, [lambda ns, i=i: (lambda: ns["work"](i)) for i in range(3)])
    assert sorted((e["th"], e["k"], e.get("sp"), e["val"]) for e in accesses) == [
        (1, "write", "c", 199), (2, "write", "c", 199), (3, "write", "c", 199)]


def test_a_shared_item_is_written_down_from_the_second_thread_with_the_firsts_last_accesses(tmp_path):
    src = ("cnt = {'くさ': 0}\n"
           "def work():\n"
           "    for _ in range(50):\n"
           "        cnt['くさ'] += 1\n")
    ns, accesses = run_in_threads(tmp_path, src, [lambda ns: ns["work"]] * 2)
    assert ns["cnt"] == {"くさ": 100}  # PCT without a change point: no preemption here
    first = [e for e in accesses if e["th"] == 1]
    # thread 1 ran alone: only its last read and write are written down, in sequence order
    assert [(e["k"], e["val"]) for e in first] == [("read", 49), ("write", 50)]
    # thread 2 ran its 50 updates without a switch: its last read and write of the stretch
    second = [e for e in accesses if e["th"] == 2]
    assert [(e["k"], e["val"]) for e in second] == [("read", 99), ("write", 100)]
    assert all(e["lbl"] == "cnt" and e["ln"] == 4 and e.get("sp") is None for e in accesses)
    assert [e["n"] for e in accesses] == sorted(e["n"] for e in accesses)


@pytest.mark.parametrize("src, sp, label, key", [
    ("class A:\n    pass\nacc = A()\nacc.balance = 10\ndef work():\n    acc.balance -= 1\n", "a", "acc", "balance"),
    ("n = 0\ndef work():\n    global n\n    n += 1\n", "g", "n", "n"),
    ("import collections\nc = collections.Counter()\ndef work():\n    collections.Counter.update(c, ['くさ'])\n",
     None, "c", "くさ"),
    ("d = {}\ndef work():\n    dict.__setitem__(d, 'k', dict.get(d, 'k', 0) + 1)\n", None, "d", "k"),
    ("o = type('O', (), {})()\ndef work():\n    setattr(o, 'くさ', getattr(o, 'くさ', 0) + 1)\n", "a", "o", "くさ"),
    ("COUNTS = [0, 0, 0]\ndef work():\n    COUNTS[2] += 1\n", None, "COUNTS", 2),
    ("NAMES = []\ndef work():\n    if 'x' not in NAMES:\n        NAMES.append('x')\n", "c", "NAMES", None),
])
def test_each_kind_of_access_is_a_read_and_a_write_of_one_named_location(tmp_path, src, sp, label, key):
    _, accesses = run_in_threads(tmp_path, src, [lambda ns: ns["work"]] * 2, strategy="random", seed=3)
    kinds = {(e["k"], e.get("sp"), e["lbl"], e["key"]) for e in accesses}
    assert ("read", sp, label, key) in kinds and ("write", sp, label, key) in kinds
    assert {e["th"] for e in accesses} == {1, 2}


def test_counter_update_is_a_read_then_a_write_that_a_direction_can_split(tmp_path):
    """The first thread alone updates its count in one go; held right before its write until the
    other has read (what a race-directed run does), both read the same count: one update is lost."""
    src = "import collections\nc = collections.Counter()\ndef work():\n    c.update(['くさ'])\n"
    ns, accesses = run_in_threads(tmp_path, src, [lambda ns: ns["work"]] * 2)
    assert ns["c"]["くさ"] == 2
    write = next(e for e in accesses if e["th"] == 1 and e["k"] == "write")
    read = next(e for e in accesses if e["th"] == 2 and e["k"] == "read")
    from grader.explore.directed import Direction
    d = Direction(write["st"], 1, 2, "read", read["key"], read["si"], write["sb"])
    ns, accesses = run_in_threads(tmp_path, src, [lambda ns: ns["work"]] * 2, directions=[d.as_json()])
    assert ns["c"]["くさ"] == 1
    assert [(e["th"], e["k"], e["val"]) for e in accesses] == [
        (1, "read", 0), (2, "read", 0), (2, "write", 1), (1, "write", 1)]


# Programs whose meaning the hooks must keep on their recording path: each runs plainly, then in a
# thread of a run while another thread lives (so every access is modelled), with the same result.
SHAPES = {
    "tuple, for and with targets": (
        "class O:\n    pass\n"
        "o, d, lst = O(), {}, [0, 0, 0]\n"
        "o.a, d['k'], lst[0] = 1, 2, 3\n"
        "for d['i'] in range(3):\n    lst[1] += d['i']\n"
        "import contextlib\n"
        "with contextlib.nullcontext(5) as o.b:\n    pass\n"
        "(lst[2], *rest), o.c = [7, 8, 9], 4\n"
        "result = (o.a, o.b, o.c, d, lst, rest)\n"),
    "negative indices and slices": (
        "lst = list(range(6))\n"
        "lst[-1] += 10\nlst[1:3] = ['a', 'b', 'c']\ndel lst[0]\ndel lst[-2:]\n"
        "result = (lst, lst[::-1], lst[-1])\n"),
    "globals rebound, read in a comprehension, deleted": (
        "n = 0\ncnt = {}\ntmp = 1\n"
        "def f(t):\n    global n, cnt, tmp\n    n += 1\n    cnt = {**cnt, t: cnt.get(t, 0) + 1}\n"
        "    del tmp\n    tmp = [n for _ in range(2)]\n"
        "f('a'); f('a')\n"
        "result = (n, cnt, tmp)\n"),
    "a name error from a global is the same NameError": (
        "def f():\n    global ghost\n    try:\n        return ghost\n    except NameError as e:\n        return str(e)\n"
        "result = f()\n"),
    "class attributes through the class and an instance; properties; slots": (
        "class C:\n    total = 0\n    __slots__ = ()\n"
        "class D:\n    total = 0\n    def __init__(self):\n        self._v = 1\n"
        "    @property\n    def v(self):\n        return self._v * 10\n"
        "    @v.setter\n    def v(self, x):\n        self._v = x\n"
        "d = D()\nD.total += 2\nd.v = 3\nd.total += 5\n"
        "result = (D.total, d.total, d.v, C.total)\n"),
    "getattr, setattr, hasattr, delattr with defaults and missing names": (
        "class O:\n    pass\no = O()\n"
        "setattr(o, 'x', getattr(o, 'x', 0) + 1)\nh = (hasattr(o, 'x'), hasattr(o, 'y'))\n"
        "delattr(o, 'x')\n"
        "try:\n    getattr(o, 'x')\n    err = None\nexcept AttributeError as e:\n    err = type(e).__name__\n"
        "result = (h, err, getattr(o, 'x', 'gone'))\n"),
    "container methods of every kind, and methods that only share a name": (
        "import collections, queue\n"
        "d = collections.defaultdict(list)\nd['a'].append(1)\nd.setdefault('b', []).append(2)\n"
        "c = collections.Counter('abca')\nc.update(['a']); c.update({'b': 2}); c.subtract('c')\n"
        "collections.Counter.update(c, 'zz')\n"
        "od = collections.OrderedDict(x=1)\nod.update([('y', 2)], z=3)\nv = od.pop('x')\n"
        "s = {1}\ns.add(2); s.discard(1); s.update([3, 4], [5])\n"
        "dq = collections.deque([1])\ndq.appendleft(0); dq.extend([2, 3]); dq.rotate(1)\n"
        "lst = [3, 1, 2]\nlst.sort(); lst.insert(0, 9); lst.remove(1); lst.extend(iter([7]))\n"
        "i = lst.index(9)\nk = 'banana'.count('a')\nq = queue.Queue()\nq.put(1)\ngot = q.get()\n"
        "e = {}\ne.update(a=1)\nf = {}\nf.update(iter([('p', 1)]))\n"
        "result = (dict(d), sorted(c.items()), list(od.items()), v, s, list(dq), lst, i, k, got, e, f)\n"),
    "a dict subclass that overrides its methods": (
        "class Tally(dict):\n"
        "    def __setitem__(self, k, v):\n        super().__setitem__(k, v * 2)\n"
        "    def get(self, k, default=None):\n        return dict.get(self, k, default)\n"
        "t = Tally()\nt['a'] = 1\nt['a'] = t.get('a', 0) + 1\nt['b'] += 0 if False else 0\n"
        if False else
        "class Tally(dict):\n"
        "    def __setitem__(self, k, v):\n        super().__setitem__(k, v * 2)\n"
        "    def get(self, k, default=None):\n        return dict.get(self, k, default)\n"
        "t = Tally()\nt['a'] = 1\nt['a'] = t.get('a', 0) + 1\n"
        "result = dict(t)\n"),
    "in-place operators on names and attributes": (
        "class O:\n    pass\no = O()\no.items = [1]\nalias = o.items\no.items += [2]\n"
        "lst = [0]\nsame = lst\nlst += [1]\nn = 1\nn += 2\ns = 'a'\ns *= 3\n"
        "result = (o.items, alias is o.items, same, n, s)\n"),
    "private names in a class body": (
        "class CountThread:\n"
        "    def __init__(self, d, t):\n"
        "        self.__d, self.__t = d, t\n"
        "    def run(self):\n"
        "        self.__d[self.__t] = self.__d.get(self.__t, 0) + 1\n"
        "        self.__d[self.__t] += 1\n"
        "        return self.__t in self.__d\n"
        "d = {}\n"
        "result = (CountThread(d, 'a').run(), d)\n"),
    "annotated assignments": (
        "class O:\n    pass\no = O()\no.x: int = 3\nd = {}\nd['k']: int = 4\ny: int\n"
        "result = (o.x, d)\n"),
    "the order in which Python evaluates an assignment": (
        "log = []\nd = {}\n"
        "def key(k):\n    log.append('key')\n    return k\n"
        "def val(v):\n    log.append('val')\n    return v\n"
        "d[key('a')] = val(1)\n"
        "result = (log, d)\n"),
}


@pytest.mark.parametrize("share_all", [False, True], ids=["exclusive", "shared"])
@pytest.mark.parametrize("name", sorted(SHAPES))
def test_recorded_programs_mean_what_they_mean(tmp_path, name, share_all):
    src = SHAPES[name]
    plain: dict = {}
    exec(compile(src, "s.py", "exec"), plain)
    code, _ = instrument(src, "s.py")
    hooked: dict = {}
    with engine(tmp_path, share_all=share_all) as (sched, rec, path):
        helper = sched.spawn(lambda: sched.sleep(1000.0), daemon=False)  # keeps two threads alive
        runner = sched.spawn(lambda: exec(code, hooked), daemon=False)
        sched.join(runner, None)
        sched.join(helper, None)
        rec.flush()
    assert hooked["result"] == plain["result"]
    if share_all:  # every access was a point and an event, and the events are well formed
        events, forged = decode_lines(path.read_bytes())
        assert forged == 0 and (any(e["k"] in ("read", "write") for e in events) or "NameError" in name)

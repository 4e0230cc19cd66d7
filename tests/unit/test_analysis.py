"""Pure analysis helpers on hand-built event lists (no processes)."""
from __future__ import annotations

import pytest

from grader.verdicts.analysis import (
    all_started_before, calls, describe_lost_update, expected_tally, final_dict_state, find_tally,
    first_join_n, held_locks, lock_verdict, lost_updates, parse_printed_dict, peak_inside, rmw_windows,
    semaphore_holders_peak, concurrent_locations, thread_timeline,
)

TYPES = [["くさ", "どく"], ["くさ", "どく"], ["くさ", "どく"], ["ほのお"], ["ほのお"], ["ほのお", "ひこう"],
         ["みず"], ["みず"], ["みず"], ["でんき"]]
KEYS = [t for row in TYPES[:9] for t in row]  # the 13 counter calls
EXACT = {"くさ": 3, "どく": 3, "ほのお": 3, "ひこう": 1, "みず": 3}
DICT = 1  # obj id of the shared dict
READ_LN, WRITE_LN = 19, 23


class Log:
    """Builds an event list as the parent sees it: increasing ``n`` per process, ``proc`` added."""

    def __init__(self):
        self.events: list[dict] = []
        self.n: dict[int, int] = {}

    def ev(self, k, th=0, proc=0, tn=None, **fields):
        self.n[proc] = self.n.get(proc, -1) + 1
        name = tn or ("MainThread" if th == 0 else f"Thread-{th} (counter)")
        e = {"k": k, "n": self.n[proc], "pid": 1000 + proc, "th": th, "tn": name, "t": 0.0, "proc": proc}
        e.update(fields)
        self.events.append(e)
        return e

    # shorthands
    def new(self, obj, kind="Lock", value=1, th=0, ln=30):
        return self.ev("new", th, obj=obj, kind=kind, value=value, ln=ln)

    def spawn(self, child, th=0):
        self.ev("spawn", th, child=child, cn=f"Thread-{child} (counter)", ln=35)
        self.ev("begin", child, cls="Thread", daemon=False, ident=child)

    def acq(self, th, obj, kind="Lock", ln=18):
        return self.ev("acq", th, obj=obj, kind=kind, ln=ln)

    def rel(self, th, obj, kind="Lock", ln=25):
        return self.ev("rel", th, obj=obj, kind=kind, ln=ln)

    def read(self, th, key, val, obj=DICT, ln=READ_LN, missing=False):
        fields = {"missing": True} if missing else {}
        return self.ev("read", th, obj=obj, key=key, val=val, ln=ln, **fields)

    def write(self, th, key, val, obj=DICT, ln=WRITE_LN):
        return self.ev("write", th, obj=obj, key=key, val=val, ln=ln)

    def join_all(self, threads):
        for th in threads:
            self.ev("join", 0, target=th, timeout=None, ln=40)
            self.ev("joined", 0, target=th, done=True, ln=40)

    def out(self, text, th=0):
        return self.ev("out", th, stream="out", s=text)

    def output(self):
        return "".join(e["s"] for e in self.events if e["k"] == "out" and e["proc"] == 0)


def tally_line(d):
    return f"集計結果： defaultdict(<class 'int'>, {d!r})\n"


# -- scenarios ------------------------------------------------------------------------------------

def no_lock_race():
    """13 threads all read their type (0, absent) before any writes 1: the lecture's counter_mt."""
    log = Log()
    threads = range(1, len(KEYS) + 1)
    for th in threads:
        log.spawn(th)
    for th, key in zip(threads, KEYS):
        log.read(th, key, 0, missing=True)
        log.ev("sleep", th, d=3, ln=21)
    for th, key in zip(threads, KEYS):
        log.write(th, key, 1)
        log.ev("end", th)
    log.join_all(threads)
    log.out(tally_line({k: 1 for k in EXACT}))
    return log


def correct_lock(lock_kind="Lock"):
    """One lock made in main, each thread holds it from read to write; others block meanwhile."""
    log = Log()
    log.new(7, lock_kind, ln=31)
    threads = list(range(1, len(KEYS) + 1))
    for th in threads:
        log.spawn(th)
    counts: dict[str, int] = {}
    for th, key in zip(threads, KEYS):
        log.acq(th, 7, lock_kind)
        nxt = th + 1 if th + 1 in threads else None
        now = counts.get(key, 0)
        log.read(th, key, now, missing=key not in counts)
        if nxt:
            log.ev("block", nxt, obj=7, ln=18)  # the next thread waits for the lock
        counts[key] = now + 1
        log.write(th, key, now + 1)
        log.rel(th, 7, lock_kind)
        log.ev("end", th)
    log.join_all(threads)
    log.out(tally_line(counts))
    return log


def lock_per_thread():
    """``lk = threading.Lock()`` inside the start loop: 13 Locks, each used by one thread."""
    log = Log()
    threads = list(range(1, len(KEYS) + 1))
    for th in threads:
        log.new(100 + th, "Lock", ln=33)
        log.spawn(th)
    for th, key in zip(threads, KEYS):
        log.acq(th, 100 + th)
        log.read(th, key, 0, missing=True)
    for th, key in zip(threads, KEYS):
        log.write(th, key, 1)
        log.rel(th, 100 + th)
        log.ev("end", th)
    log.join_all(threads)
    log.out(tally_line({k: 1 for k in EXACT}))
    return log


# -- tally --------------------------------------------------------------------------------------

def test_expected_tally_counts_the_first_nine_lines_in_order():
    exp = expected_tally(TYPES)
    assert exp == EXACT
    assert list(exp) == ["くさ", "どく", "ほのお", "ひこう", "みず"]
    assert "でんき" not in exp  # line 10 is outside types[:9]
    assert expected_tally(TYPES, first=10)["でんき"] == 1
    assert expected_tally([]) == {}


@pytest.mark.parametrize("line, expected", [
    ("集計結果： defaultdict(<class 'int'>, {'くさ': 3, 'どく': 3})", {"くさ": 3, "どく": 3}),
    ("集計結果: {'くさ': 3}", {"くさ": 3}),
    ("集計結果： Counter({'くさ': 3, 'みず': 1})", {"くさ": 3, "みず": 1}),
    ("集計結果： {}", {}),
    ("集計結果： defaultdict(<class 'int'>, {})", {}),
    ("集計結果： Counter()", {}),
    ("集計結果： OrderedDict([('くさ', 2), ('どく', 1)])", {"くさ": 2, "どく": 1}),
    ("集計結果： {'a}': 1, '{b': 2, \"c'}\": 3}", {"a}": 1, "{b": 2, "c'}": 3}),
    ("what's this { not a dict {'くさ': 1}", {"くさ": 1}),
])
def test_parse_printed_dict_variants(line, expected):
    got = parse_printed_dict(line)
    assert got == expected
    assert isinstance(got, dict)


@pytest.mark.parametrize("line", ["集計結果： くさ 3 どく 3", "no braces here", "集計結果： {'くさ': 3",
                                  "集計結果： {x: 1}", "集計結果： {1, 2}", ""])
def test_parse_printed_dict_none_when_no_dict(line):
    assert parse_printed_dict(line) is None


def test_find_tally_takes_the_last_marker_line():
    text = ("3秒sleep\n集計結果を出します\nくさを追加 defaultdict(<class 'int'>, {'くさ': 1})\n"
            "集計結果： defaultdict(<class 'int'>, {'くさ': 1, 'どく': 2})\n")
    d, idx, line = find_tally(text)
    assert d == {"くさ": 1, "どく": 2}
    assert idx == 3
    assert line.startswith("集計結果：")


def test_find_tally_accepts_colons_and_interleaved_prefix():
    assert find_tally("集計結果: {'くさ': 3}\n")[0] == {"くさ": 3}
    assert find_tally("どくを追加集計結果： {'みず': 3}\n")[0] == {"みず": 3}
    # a thread's dict printed before the marker on the same line is not the tally
    assert find_tally("{'くさ': 9} 集計結果： {'くさ': 1}")[0] == {"くさ": 1}


def test_find_tally_dict_on_next_line_and_multiline():
    d, idx, line = find_tally("集計結果：\n\ndefaultdict(<class 'int'>, {'くさ': 3})\nおわり\n")
    assert (d, idx) == ({"くさ": 3}, 2)
    assert line.startswith("defaultdict")
    d, idx, _ = find_tally("集計結果： {'くさ': 3,\n 'どく': 3,\n 'みず': 3}\n")
    assert (d, idx) == ({"くさ": 3, "どく": 3, "みず": 3}, 0)


def test_find_tally_missing_marker_or_dict():
    assert find_tally("くさを追加 {'くさ': 1}\n") == (None, None, None)
    assert find_tally("") == (None, None, None)
    d, idx, line = find_tally("x\n集計結果： くさ=3\n")
    assert d is None and idx == 1 and line == "集計結果： くさ=3"
    # the marker alone, followed by something that is not a dict
    assert find_tally("集計結果：\nくさを追加 {'くさ': 1}\n")[0] is None


# -- the no-lock race -------------------------------------------------------------------------------

def test_no_lock_race_tally_is_wrong_and_final_state_matches_print():
    log = no_lock_race()
    printed, _, _ = find_tally(log.output())
    assert printed == {k: 1 for k in EXACT}
    assert printed != expected_tally(TYPES)
    assert final_dict_state(log.events) == printed
    # threads update the dict unordered by start or join: it is the state a lock must guard
    assert concurrent_locations(log.events) == {(0, DICT)}


def test_no_lock_race_first_lost_update_and_its_trace():
    log = no_lock_race()
    found = lost_updates(log.events)
    assert found, "a lost update must be found"
    lu = found[0]
    assert lu.key == "くさ" and lu.obj == DICT and lu.proc == 0
    assert [(s.tn, s.op, s.val) for s in lu.steps] == [
        ("Thread-1 (counter)", "read", 0), ("Thread-3 (counter)", "read", 0),
        ("Thread-1 (counter)", "write", 1), ("Thread-3 (counter)", "write", 1)]
    assert lu.lost_threads == ("Thread-1 (counter)",)
    assert lu.thread == "Thread-3 (counter)"
    assert [s.at for s in lu.steps] == sorted(s.at for s in lu.steps)
    # every later writer of a key lost someone's update: 13 writes, 5 keys -> 8 stale writes
    assert len(found) == 8
    assert [x.write.at for x in found] == sorted(x.write.at for x in found)


def test_no_lock_race_description():
    summary, trace = describe_lost_update(lost_updates(no_lock_race().events)[0])
    assert summary.en == "one update was lost: two threads read くさ=0 before either wrote"
    assert summary.ja == "更新が1回失われました: 2つのスレッドが同じ値 くさ=0 を読んでから書き込みました"
    assert len(trace) == 4
    assert trace[0].en == "Thread-1 (counter) read くさ = 0 (not in the dict yet: the default) (line 19)"
    assert trace[2].en == "Thread-1 (counter) wrote くさ = 1 (line 23)"
    assert trace[3].en == "Thread-3 (counter) wrote くさ = 1 (line 23) — Thread-1 (counter)'s update is lost"
    assert trace[1].ja.startswith("Thread-3 (counter) が くさ = 0 を読む")
    assert trace[1].ja.endswith("(19行目)")
    assert trace[3].ja == "Thread-3 (counter) が くさ = 1 を書く (23行目) — Thread-1 (counter) の更新が失われた"


def test_no_lock_race_lock_verdict_and_peak():
    log = no_lock_race()
    v = lock_verdict(log.events)
    assert not v.ok and v.reason == "unguarded"
    assert v.rmw.tn == "Thread-1 (counter)" and v.rmw.key == "くさ"
    assert "line 19" in v.where.en and "line 23" in v.where.en and "Thread-1 (counter)" in v.where.en
    assert "19行目" in v.where.ja
    f = v.failure()
    assert f is not None and f.summary == v.summary and f.expected.en.startswith("one Lock")
    peak, names = peak_inside(log.events)
    assert peak == 13
    assert names[0] == "Thread-1 (counter)" and names[-1] == "Thread-13 (counter)"
    assert semaphore_holders_peak(log.events) == (0, [])


# -- a correct lock ---------------------------------------------------------------------------------

def test_correct_lock_passes():
    log = correct_lock()
    assert lost_updates(log.events) == []
    v = lock_verdict(log.events)
    assert v.ok and v.reason == "one_lock" and v.lock == (0, 7)
    assert v.failure() is None
    assert "line 31" in v.summary.en
    assert peak_inside(log.events) == (1, ["Thread-1 (counter)"])
    assert find_tally(log.output())[0] == EXACT
    assert final_dict_state(log.events) == EXACT
    windows = rmw_windows(log.events)
    assert len(windows) == 13
    assert all({h.key for h in w.held} == {(0, 7)} for w in windows)


def test_main_threads_update_after_all_joined_needs_no_lock():
    log = correct_lock()
    log.read(0, "くさ", 3, ln=45)
    log.write(0, "くさ", 4, ln=45)
    assert lock_verdict(log.events).ok
    # the same unguarded update while a thread is still running does count
    log2 = Log()
    log2.new(7)
    log2.spawn(1)
    log2.spawn(2)
    for th in (1, 2):
        log2.acq(th, 7)
        log2.read(th, "くさ", th - 1)
        log2.write(th, "くさ", th)
        log2.rel(th, 7)
    log2.ev("end", 1)
    log2.read(0, "くさ", 2, ln=45)
    log2.write(0, "くさ", 3, ln=45)
    v = lock_verdict(log2.events)
    assert not v.ok and v.reason == "unguarded" and v.rmw.tn == "MainThread"


# -- lock per thread ------------------------------------------------------------------------------

def test_lock_per_thread_fails_with_reason():
    log = lock_per_thread()
    v = lock_verdict(log.events)
    assert not v.ok and v.reason == "lock_per_thread"
    assert len(v.locks) == 13
    assert "13" in v.summary.en and "own Lock" in v.summary.en
    assert "line 33" in v.where.en and "33行目" in v.where.ja
    a_and_b = v.observed.en
    assert "Thread-1 (counter)" in a_and_b and "Thread-3 (counter)" in a_and_b  # same key くさ
    assert lost_updates(log.events)[0].key == "くさ"
    assert find_tally(log.output())[0] != EXACT


def test_different_shared_locks_are_not_one_lock():
    """Two locks, each shared by several threads (one per key): not ONE lock; per_key_ok accepts."""
    log = Log()
    log.new(7, ln=31)
    log.new(8, ln=32)
    lock_of = {"くさ": 7, "どく": 8}
    plan = [(1, "くさ"), (2, "どく"), (3, "くさ"), (4, "どく")]
    for th, _ in plan:
        log.spawn(th)
    counts: dict[str, int] = {}
    for th, key in plan:
        log.acq(th, lock_of[key])
        log.read(th, key, counts.get(key, 0))
        counts[key] = counts.get(key, 0) + 1
        log.write(th, key, counts[key])
        log.rel(th, lock_of[key])
    v = lock_verdict(log.events)
    assert not v.ok and v.reason == "different_locks"
    assert set(v.locks) == {(0, 7), (0, 8)}
    assert "line 31" in v.observed.en and "line 32" in v.observed.en
    assert lock_verdict(log.events, per_key_ok=True).reason == "per_key"
    assert lock_verdict(log.events, per_key_ok=True).ok


# -- released between read and write -------------------------------------------------------------------

def released_between():
    log = Log()
    log.new(7, ln=31)
    log.spawn(1)
    log.spawn(2)
    log.acq(1, 7)
    log.read(1, "くさ", 0, missing=True)
    log.rel(1, 7, ln=20)            # released before the sleep
    log.acq(2, 7)
    log.read(2, "くさ", 0, missing=True)
    log.rel(2, 7, ln=20)
    log.acq(1, 7, ln=22)
    log.write(1, "くさ", 1)
    log.rel(1, 7)
    log.acq(2, 7, ln=22)
    log.write(2, "くさ", 1)
    log.rel(2, 7)
    return log


def test_lock_released_between_read_and_write_fails():
    log = released_between()
    v = lock_verdict(log.events)
    assert not v.ok and v.reason == "released_between"
    assert v.rmw.tn == "Thread-1 (counter)"
    assert "line 20" in v.observed.en and "20行目" in v.observed.ja
    assert v.locks == ((0, 7),)
    # the lock is held at the read and at the write, but not continuously
    holds = held_locks(log.events)
    w = rmw_windows(log.events)[0]
    assert {h.key for h in holds[w.read_at]} == {(0, 7)} == {h.key for h in holds[w.write_at]}
    assert w.held == frozenset()
    lu = lost_updates(log.events)[0]
    assert [s.tn for s in lu.steps] == ["Thread-1 (counter)", "Thread-2 (counter)"] * 2


def test_lock_taken_only_after_the_read_fails():
    log = Log()
    log.new(7, ln=31)
    log.spawn(1)
    log.spawn(2)
    for th in (1, 2):
        log.read(th, "くさ", th - 1, ln=19)
        log.acq(th, 7, ln=22)
        log.write(th, "くさ", th)
        log.rel(th, 7)
    v = lock_verdict(log.events)
    assert not v.ok and v.reason == "acquired_after_read"
    assert "line 22" in v.observed.en


# -- semaphore ------------------------------------------------------------------------------------------

def semaphore_two():
    log = Log()
    log.new(5, "Semaphore", value=2, ln=36)
    for th in (1, 2, 3):
        log.spawn(th)
    S = "Semaphore"
    log.acq(1, 5, S)
    log.read(1, "くさ", 0, missing=True)
    log.acq(2, 5, S)
    log.read(2, "どく", 0, missing=True)
    log.ev("block", 3, obj=5, ln=18)
    log.write(1, "くさ", 1)
    log.rel(1, 5, S)
    log.acq(3, 5, S)
    log.read(3, "くさ", 1)
    log.write(2, "どく", 1)
    log.rel(2, 5, S)
    log.write(3, "くさ", 2)
    log.rel(3, 5, S)
    return log


def test_semaphore_of_two_peaks_at_two():
    log = semaphore_two()
    assert peak_inside(log.events) == (2, ["Thread-1 (counter)", "Thread-2 (counter)"])
    assert semaphore_holders_peak(log.events) == (2, ["Thread-1 (counter)", "Thread-2 (counter)"])
    assert semaphore_holders_peak(log.events, obj=5, proc=0)[0] == 2
    assert semaphore_holders_peak(log.events, obj=99)[0] == 0
    assert lost_updates(log.events) == []  # different keys, then a fresh read
    assert final_dict_state(log.events) == {"くさ": 2, "どく": 1}
    v = lock_verdict(log.events)
    assert not v.ok and v.reason == "semaphore"
    assert "Semaphore(2)" in v.summary.en and "2 threads" in v.observed.en


def test_semaphore_of_one_never_two_inside():
    log = Log()
    log.new(5, "Semaphore", value=1, ln=36)
    for th in (1, 2):
        log.spawn(th)
    for th in (1, 2):
        log.acq(th, 5, "Semaphore")
        log.read(th, "くさ", th - 1)
        log.write(th, "くさ", th)
        log.rel(th, 5, "Semaphore")
    assert peak_inside(log.events)[0] == 1
    assert semaphore_holders_peak(log.events)[0] == 1
    v = lock_verdict(log.events)
    assert v.reason == "semaphore" and "threading.Lock" in v.observed.en


# -- RLock recursion -----------------------------------------------------------------------------------

def test_rlock_recursion_keeps_one_continuous_hold():
    log = Log()
    log.new(9, "RLock", ln=31)
    log.spawn(1)
    log.spawn(2)
    counts = 0
    for th in (1, 2):
        log.acq(th, 9, "RLock", ln=18)
        log.acq(th, 9, "RLock", ln=19)     # recursive
        log.read(th, "くさ", counts)
        log.rel(th, 9, "RLock", ln=21)     # depth back to 1: still held
        counts += 1
        log.write(th, "くさ", counts)
        log.rel(th, 9, "RLock", ln=24)     # depth 0
    holds = held_locks(log.events)
    w = rmw_windows(log.events)
    assert len(w) == 2
    assert {(h.key, h.kind) for h in w[0].held} == {((0, 9), "RLock")}
    assert holds[w[0].read_at] == holds[w[0].write_at]
    last_rel = max(i for i, e in enumerate(log.events) if e["k"] == "rel" and e["th"] == 1)
    assert holds[last_rel] == frozenset()
    v = lock_verdict(log.events)
    assert v.ok and v.lock == (0, 9)
    # the same with a single release before the write does break the hold
    log2 = Log()
    log2.new(9, "RLock")
    log2.spawn(1)
    log2.spawn(2)
    for th in (1, 2):
        log2.acq(th, 9, "RLock")
        log2.read(th, "くさ", th - 1)
        log2.rel(th, 9, "RLock", ln=21)
        log2.write(th, "くさ", th)
    assert lock_verdict(log2.events).reason == "released_between"


# -- a write-only thread --------------------------------------------------------------------------------

def test_write_only_thread_is_no_rmw_but_its_update_can_be_lost():
    log = Log()
    log.spawn(1)
    log.spawn(2)
    log.read(1, "くさ", 0, missing=True)
    log.write(2, "くさ", 5, ln=30)       # blind write: cnt_dct[type_] = 5
    log.write(1, "くさ", 1)
    windows = rmw_windows(log.events)
    assert [(w.tn, w.key) for w in windows] == [("Thread-1 (counter)", "くさ")]
    lu = lost_updates(log.events)[0]
    assert [(s.tn, s.op) for s in lu.steps] == [
        ("Thread-1 (counter)", "read"), ("Thread-2 (counter)", "write"), ("Thread-1 (counter)", "write")]
    assert lu.lost_reads == (None,)
    summary, trace = describe_lost_update(lu)
    assert "Thread-2 (counter)" in summary.en and "くさ=5" in summary.en and "two threads" not in summary.en
    assert "Thread-2 (counter)" in summary.ja
    assert trace[-1].en.endswith("Thread-2 (counter)'s update is lost")
    assert final_dict_state(log.events) == {"くさ": 1}
    # the writer alone makes no read-modify-write, so no lock can be judged from it
    only_writer = Log()
    only_writer.spawn(1)
    only_writer.spawn(2)
    only_writer.write(1, "くさ", 1)
    only_writer.write(2, "くさ", 1)
    assert lock_verdict(only_writer.events).reason == "no_rmw"
    assert peak_inside(only_writer.events) == (0, [])


def test_lost_updates_stay_within_one_process():
    log = Log()
    log.ev("read", 0, proc=1, obj=DICT, key="くさ", val=0, ln=19)
    log.ev("read", 0, proc=2, obj=DICT, key="くさ", val=0, ln=19)
    log.ev("write", 0, proc=1, obj=DICT, key="くさ", val=1, ln=23)
    log.ev("write", 0, proc=2, obj=DICT, key="くさ", val=1, ln=23)
    assert lost_updates(log.events) == []
    assert concurrent_locations(log.events) == set()
    assert final_dict_state(log.events, obj=DICT, proc=2) == {"くさ": 1}


def test_three_threads_lose_two_updates():
    log = Log()
    for th in (1, 2, 3):
        log.spawn(th)
        log.read(th, "みず", 0)
    for th in (1, 2, 3):
        log.write(th, "みず", 1)
    found = lost_updates(log.events)
    assert [len(x.lost) for x in found] == [1, 2]
    summary, trace = describe_lost_update(found[1])
    assert summary.en == "2 updates were lost: three threads read みず=0 before any of them wrote"
    assert trace[-1].en.endswith("the updates of Thread-1 (counter) and Thread-2 (counter) are lost")


# -- threads and calls ------------------------------------------------------------------------------------

def test_thread_timeline_and_join_order():
    log = correct_lock()
    tl = thread_timeline(log.events)
    assert list(tl) == list(range(0, 14))
    t1 = tl[1]
    assert t1.name == "Thread-1 (counter)" and t1.parent == 0
    assert t1.start_n < t1.begin_n < t1.end_n
    assert len(t1.joins) == 1 and t1.joins[0]["target"] == 1 and len(t1.joined) == 1
    assert tl[0].name == "MainThread" and tl[0].start_n is None
    first = first_join_n(log.events)
    assert first == t1.joins[0]["n"]
    assert all_started_before(log.events, first)


def test_join_inside_the_start_loop_is_caught():
    log = Log()
    for th in (1, 2):
        log.spawn(th)
        log.ev("end", th)
        log.join_all([th])
    first = first_join_n(log.events)
    assert first is not None
    assert not all_started_before(log.events, first)
    assert all_started_before(log.events, None)
    assert first_join_n(Log().events) is None


def test_calls_pair_call_and_ret_by_cid():
    log = Log()
    log.spawn(1)
    log.spawn(2)
    log.ev("call", 1, fn="fizz_buzz", cid=1, args=[15, 0.0], ln=5)
    log.ev("call", 2, fn="fizz_buzz", cid=2, args=[30, 0.0], ln=5)
    log.ev("call", 2, fn="helper", cid=3, args=[], ln=9)
    log.ev("ret", 2, fn="helper", cid=3)
    log.ev("ret", 1, fn="fizz_buzz", cid=1, val=["1", "2", "Fizz"])
    got = calls(log.events, "fizz_buzz")
    assert [(c.tn, c.args) for c in got] == [("Thread-1 (counter)", [15, 0.0]), ("Thread-2 (counter)", [30, 0.0])]
    assert got[0].returned and got[0].has_val and got[0].val == ["1", "2", "Fizz"]
    assert got[0].enter_n < got[0].exit_n
    assert not got[1].returned and got[1].exit_n is None
    helper = calls(log.events, "helper")[0]
    assert helper.returned and not helper.has_val
    assert len(calls(log.events)) == 3


def test_a_write_closes_the_window():
    """After its write, a thread's next write without a new read is blind, not a stale update."""
    log = Log()
    log.spawn(1)
    log.spawn(2)
    log.read(1, "くさ", 0)
    log.write(1, "くさ", 1)
    log.write(2, "くさ", 7, ln=30)
    log.write(1, "くさ", 2, ln=31)
    assert [(w.read_at, w.write_at) for w in rmw_windows(log.events)] == [(4, 5)]
    assert lost_updates(log.events) == []
    # a fresh read reopens it: now Thread-2's write in between is lost
    log.read(1, "くさ", 2)
    log.write(2, "くさ", 8, ln=30)
    log.write(1, "くさ", 3)
    assert [x.lost_threads for x in lost_updates(log.events)] == [("Thread-2 (counter)",)]


# -- provenance: a tally is the threads' work only if they wrote something -------------------------

def test_threads_wrote_needs_a_write_by_a_thread_other_than_main():
    from grader.verdicts.analysis import threads_wrote
    log = Log()
    lock = 9
    log.new(lock)
    for th in (1, 2):
        log.spawn(th)
        log.acq(th, lock)
        log.rel(th, lock)
    log.write(0, "くさ", 3)  # MainThread's own count is no evidence
    assert not threads_wrote(log.events)
    log.write(2, "n", 1, obj=5)  # a thread's own attribute is (its result, summed later)
    assert threads_wrote(log.events)
    assert not threads_wrote(log.events, proc=1)


def test_unseen_channels_name_the_hand_overs_runs_do_not_record():
    import ast

    from grader.verdicts.kit import unseen_channels
    src = ("import queue\nfrom concurrent.futures import ThreadPoolExecutor\n"
           "def f():\n    x = 0\n    def g():\n        nonlocal x\n    q.put(1)\n")
    assert unseen_channels(ast.parse(src)) == ["queue", "ThreadPoolExecutor", "futures", "nonlocal", "put"]
    plain = "import threading\ncnt = {}\ndef counter(t, lck):\n    with lck:\n        cnt[t] = cnt.get(t, 0) + 1\n"
    assert unseen_channels(ast.parse(plain)) == []
    assert unseen_channels(None) == []

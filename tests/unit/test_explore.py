"""Race-directed exploration, pure: happens-before from events, candidate races, the directions they
call for, and the simplest telling of a lost update (hand-built event lists, no processes)."""
from __future__ import annotations

from grader.explore.directed import Direction, directions_for, races
from grader.explore.happens_before import accesses
from grader.verdicts.analysis import lost_updates, simplest, simplest_loss

DICT, LOCK = 1, 7


class Log:
    """An event list as the parent sees it: ``n`` per process, ``st`` on accesses, ``proc`` added."""

    def __init__(self):
        self.events: list[dict] = []
        self.step = 0

    def ev(self, k, th=0, **fields):
        name = "MainThread" if th == 0 else f"Thread-{th} (counter)"
        e = {"k": k, "n": len(self.events), "th": th, "tn": name, "t": 0.0, "proc": 0, **fields}
        self.events.append(e)
        return e

    def spawn(self, child, th=0):
        self.ev("spawn", th, child=child, cn=f"Thread-{child} (counter)")
        self.ev("begin", child)

    def end(self, th):
        self.ev("end", th)

    def joined(self, target):
        self.ev("join", 0, target=target)
        self.ev("joined", 0, target=target, done=True)

    def acc(self, k, th, key, val, ln, **extra):
        self.step += 1
        # the site of the program: one per line here; position (st, sb) as the engine writes it
        return self.ev(k, th, obj=DICT, key=key, val=val, ln=ln, si=ln, st=self.step, sb=0, **extra)

    def read(self, th, key, val, ln=16, op="[]"):
        return self.acc("read", th, key, val, ln, op=op)

    def write(self, th, key, val, ln=20):
        return self.acc("write", th, key, val, ln)


def serial_no_lock() -> Log:
    """Two threads of one type, no lock, run one after the other: the race is there, unseen."""
    log = Log()
    log.spawn(1)
    log.spawn(2)
    log.read(1, "くさ", 0)
    log.write(1, "くさ", 1)
    log.end(1)
    log.read(2, "くさ", 1)
    log.write(2, "くさ", 2)
    log.end(2)
    log.joined(1)
    log.joined(2)
    return log


def serial_with_lock() -> Log:
    log = Log()
    log.ev("new", 0, obj=LOCK, kind="Lock", value=1)
    log.spawn(1)
    log.spawn(2)
    for th, before in ((1, 0), (2, 1)):
        log.ev("acq", th, obj=LOCK, kind="Lock")
        log.read(th, "くさ", before)
        log.write(th, "くさ", before + 1)
        log.ev("rel", th, obj=LOCK, kind="Lock")
        log.end(th)
    return log


def test_accesses_carry_vector_clocks_that_order_what_a_lock_orders():
    locked = accesses(serial_with_lock().events)
    assert [a.op for a in locked] == ["read", "write", "read", "write"]
    assert locked[1].before(locked[2])  # thread 1's write, released, then thread 2's read after acquiring
    bare = accesses(serial_no_lock().events)
    assert not bare[1].before(bare[2])  # no lock: nothing orders them


def test_start_and_join_order_accesses():
    log = Log()
    log.write(0, "くさ", 0)      # MainThread before start
    log.spawn(1)
    log.read(1, "くさ", 0)
    log.write(1, "くさ", 1)
    log.end(1)
    log.joined(1)
    log.read(0, "くさ", 1)       # MainThread after join
    a = accesses(log.events)
    assert a[0].before(a[1]) and a[2].before(a[3])
    assert races(log.events) == []


def test_a_race_is_found_in_a_run_that_did_not_lose_the_update():
    log = serial_no_lock()
    assert lost_updates(log.events) == []
    found = races(log.events)
    # write->read comes first: turning it around is what loses an update
    assert (found[0].first.op, found[0].second.op) == ("write", "read")
    # FastTrack's checks: each access against the last write and the reads since it. Thread 1's
    # read comes before its own write, so against thread 2's write it is that write that races.
    assert {r.signature for r in found} == {(20, "write", 16, "read"), (20, "write", 20, "write")}


def test_no_race_where_one_lock_guards_every_access():
    assert races(serial_with_lock().events) == []
    assert directions_for(serial_with_lock().events) == []


def test_a_counting_semaphore_orders_nothing():
    log = Log()
    log.ev("new", 0, obj=LOCK, kind="Semaphore", value=2)
    log.spawn(1)
    log.spawn(2)
    for th, before in ((1, 0), (2, 1)):
        log.ev("acq", th, obj=LOCK, kind="Semaphore")
        log.read(th, "くさ", before)
        log.write(th, "くさ", before + 1)
        log.ev("rel", th, obj=LOCK, kind="Semaphore")
    assert races(log.events)


def test_the_direction_holds_the_first_thread_before_its_write_until_the_other_has_read():
    log = serial_no_lock()
    key, d = directions_for(log.events)[0]
    first_write = next(e for e in log.events if e["k"] == "write" and e["th"] == 1)
    assert d == Direction(step=first_write["st"], hold=1, th=2, op="read", key="くさ", site=16, sub=0)
    assert d.as_json() == {"step": first_write["st"], "sub": 0, "hold": 1, "th": 2, "op": "read", "key": "くさ",
                           "site": 16}


def test_directions_are_deduplicated_by_lines_and_kinds_per_scope():
    log = serial_no_lock()
    tried: set = set()
    first = directions_for(log.events, (), tried, scope=("explore", "timed"))
    tried.update(k for k, _ in first)
    assert directions_for(log.events, (), tried, scope=("explore", "timed")) == []
    assert len(directions_for(log.events, (), tried, scope=("explore", "yield"))) == len(first)


def test_a_race_before_the_runs_own_direction_is_left_to_the_run_it_came_from():
    log = serial_no_lock()
    late = Direction(step=10_000, hold=1, th=2, op="read", key="くさ", site=16)
    assert directions_for(log.events, (late,)) == []


def test_the_simplest_lost_update_has_the_fewest_thread_switches():
    # Three threads read 0 before anyone writes; thread 3's write overwrites both others.
    log = Log()
    for th in (1, 2, 3):
        log.spawn(th)
    log.read(1, "くさ", 0)
    log.read(2, "くさ", 0)
    log.read(3, "くさ", 0)
    log.write(1, "くさ", 1)
    log.write(2, "くさ", 1)
    log.write(3, "くさ", 1)
    lu = lost_updates(log.events)[-1]
    assert len(lu.lost) == 2
    one = simplest(lu)
    assert len(one.lost) == 1 and len(one.steps) == 4
    # Either lost write is told in three switches; the earlier one is taken.
    assert [s.th for s in one.steps] == [1, 3, 1, 3] and one.switches == 3
    best = simplest_loss(log.events)
    assert best.switches == min(simplest(x).switches for x in lost_updates(log.events))


def test_a_directed_telling_needs_two_switches():
    log = Log()
    log.spawn(1)
    log.spawn(2)
    log.read(1, "くさ", 0)
    log.read(2, "くさ", 0)   # thread 1 held before its write until thread 2 read
    log.write(2, "くさ", 1)
    log.write(1, "くさ", 1)
    best = simplest_loss(log.events)
    assert [s.th for s in best.steps] == [1, 2, 2, 1] and best.switches == 2


def test_a_split_check_is_told_as_one():
    from grader.verdicts.analysis import describe_lost_update
    log = Log()
    log.spawn(1)
    log.spawn(2)
    log.read(1, "みず", None, ln=12, op="in")
    log.events[-1]["missing"] = True
    log.read(2, "みず", None, ln=12, op="in")
    log.events[-1]["missing"] = True
    log.write(2, "みず", 1, ln=13)
    log.write(1, "みず", 1, ln=13)
    best = simplest_loss(log.events)
    assert best.split_check
    summary, trace = describe_lost_update(best)
    assert "the check and the write were split" in summary.en and "確認と書き込みが分かれて" in summary.ja
    assert trace[0].en.startswith("Thread-1 (counter) checked: みず not in the dict")

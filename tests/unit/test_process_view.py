"""State shared between processes (``xmem``/``xsync`` records), analysed as threads are: pure, on
hand-built event lists in the global order the board gives them."""
from __future__ import annotations

from grader.explore.directed import HoldAfterRead, hold_directions
from grader.verdicts.analysis import (describe_lost_update, process_lock_verdict, process_races, process_view,
                                      shares_between_processes, simplest_loss)

DICT = 7   # the Manager dict's identity (the parent numbers them)
LOCK = 3   # a multiprocessing.Lock's


class Run:
    """Events as the parent sees them: ``proc`` numbered, ``pid`` per process, ``n`` per process."""

    def __init__(self, children: int = 2):
        self.events: list[dict] = []
        self.n: dict[int, int] = {}
        self.ev(0, "proc", method="main")
        for p in range(1, children + 1):
            self.ev(p, "proc", method="fork", ppid=1000)

    def ev(self, proc: int, k: str, **fields) -> dict:
        self.n[proc] = self.n.get(proc, -1) + 1
        e = {"k": k, "n": self.n[proc], "pid": 1000 + proc, "th": 0, "tn": "MainThread", "t": 0.0, "proc": proc}
        e.update(fields)
        self.events.append(e)
        return e

    def mem(self, proc: int, op: str, key="くさ", val=0, ln=8, how=None, x=DICT, ty="DictProxy"):
        how = how or ("get" if op == "read" else "__setitem__")
        return self.ev(proc, "xmem", x=x, ty=ty, op=op, how=how, key=key, val=val, ln=ln,
                       pn=f"Process-{proc}", lbl="cnt_dct")

    def sync(self, proc: int, op: str, x=LOCK, kind="Lock", ln=7):
        return self.ev(proc, "xsync", x=x, kind=kind, op=op, ln=ln, pn=f"Process-{proc}", value=1)

    def exit(self, proc: int):
        return self.ev(proc, "exit", code=0)


def _interleaved(locked: bool) -> Run:
    r = Run()
    for p in (1, 2):
        if locked:
            r.sync(p, "acq")
        r.mem(p, "read", val=0)
        if not locked:
            continue
        r.mem(p, "write", val=1 if p == 1 else 2, ln=9)
        r.sync(p, "rel")
    if not locked:
        r.mem(2, "write", val=1, ln=9)
        r.mem(1, "write", val=1, ln=9)
    for p in (1, 2):
        r.exit(p)
    r.mem(0, "read", how="copy", key=None, val={"くさ": 1})
    return r


def test_the_view_makes_processes_the_threads_of_one_process():
    r = _interleaved(locked=True)
    view = process_view(r.events)
    assert {e["proc"] for e in view} == {0}
    assert [e["th"] for e in view if e["k"] in ("read", "write")] == [1, 1, 2, 2, 0]
    first = next(e for e in view if e["k"] == "read")
    assert (first["obj"], first["key"], first["op"], first["tn"], first["lbl"]) == (DICT, "くさ", "get", "Process-1",
                                                                                   "cnt_dct")
    assert [e["k"] for e in view if e["obj"] == LOCK] == ["new", "acq", "rel", "acq", "rel"]


def test_a_lost_update_between_processes_is_told_with_their_names():
    r = _interleaved(locked=False)
    assert shares_between_processes(r.events)
    loss = simplest_loss(process_view(r.events))
    assert loss is not None and loss.read.tn == "Process-1" and loss.lost[0].tn == "Process-2"
    head, trace = describe_lost_update(loss)
    assert "two processes read cnt_dct['くさ']=0" in head.en, head.en
    assert "2つのプロセス" in head.ja
    assert [m.en.split()[0] for m in trace] == ["Process-1", "Process-2", "Process-2", "Process-1"]


def test_races_need_two_processes_without_a_common_lock_and_no_fork_or_end_between():
    racy, locked = _interleaved(locked=False), _interleaved(locked=True)
    pairs = process_races(racy.events)
    assert pairs and {(a["proc"], b["proc"]) for a, b in pairs} <= {(1, 2), (2, 1)}
    assert process_races(locked.events) == []  # the parent's read after both ended is ordered
    [(key, direction)] = hold_directions(pairs, (), set(), ("scope",))
    assert direction == HoldAfterRead("くさ") and direction.as_json() == {"readers_of": "くさ"}
    assert hold_directions(pairs, (direction,), set(), ("scope",)) == []  # a held run is not held again


def test_one_shared_lock_passes_and_a_copy_per_process_is_named():
    assert process_lock_verdict(_interleaved(locked=True).events).ok
    r = Run()
    for p in (1, 2):  # a threading.Lock passed to each child: each has its own copy (same obj number)
        r.ev(p, "acq", obj=1, kind="Lock", ln=7)
        r.mem(p, "read", val=0)
        r.mem(p, "write", val=1, ln=9)
        r.ev(p, "rel", obj=1, kind="Lock", ln=10)
    verdict = process_lock_verdict(r.events)
    assert not verdict.ok and verdict.reason == "lock_per_thread"
    assert "copied into each" in verdict.summary.en and "multiprocessing.Lock()" in verdict.where.en
    assert "プロセス" in verdict.summary.ja


def test_a_value_is_named_as_the_program_names_it():
    r = Run()
    r.mem(1, "read", key=None, val=4, how="value", ty="Value", x=2)
    r.mem(2, "read", key=None, val=4, how="value", ty="Value", x=2)
    r.mem(2, "write", key=None, val=5, how="value", ty="Value", x=2)
    r.mem(1, "write", key=None, val=5, how="value", ty="Value", x=2)
    for e in r.events:
        if e["k"] == "xmem":
            e["lbl"] = "total"
    loss = simplest_loss(process_view(r.events))
    assert loss is not None and loss.write.place == "total.value"

"""Shared state: the locations threads race on, their read-modify-write windows, a dict's final state."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Sequence

from grader.explore.happens_before import hashable, racy_locations
from grader.memo import by_events

from ._common import place, proc_of, thread_label
from .holds import Hold, held_locks

# Objects whose items are not a tally's counts.
_NOT_A_DICT = frozenset({"list", "deque", "set", "globals", "class"})


def location(e: dict) -> tuple:
    """``(proc, obj, sp, key)``: the identity of the location an access event touched."""
    return proc_of(e), e.get("obj"), e.get("sp"), hashable(e.get("key"))


def scope(loc: tuple) -> tuple:
    """What is shared as one: an object (a dict, a list, an ``Account``: all of its items and
    attributes), or one global variable (a module's globals are independent variables)."""
    p, obj, sp, key = loc
    return (p, obj, key) if sp == "g" else (p, obj)


@by_events
def concurrent_locations(events: Sequence[dict]) -> set[tuple]:
    """The shared state a lock must guard, as ``scope`` gives it: the objects (and globals) that two
    threads other than MainThread write, or of which two threads write one location with no thread
    start or join ordering them. Process by process. Not shared: a thread's own object that
    MainThread set up before starting it, or only reads meanwhile (one writer loses nothing)."""
    out: set[tuple] = set()
    writers: dict[tuple, set] = {}
    procs = set()
    for e in events:
        k = e["k"]
        if k == "read" or k == "write":
            procs.add(proc_of(e))
            th = e.get("th", 0)
            if k == "write" and th != 0:
                writers.setdefault(scope(location(e)), set()).add(th)
    out.update(s for s, ths in writers.items() if len(ths) >= 2)
    for p in sorted(procs):
        out.update(scope((p, *loc)) for loc in racy_locations(events, p, writes_only=True))
    return out


@dataclass(frozen=True)
class RMW:
    """A read-modify-write: thread ``th`` read a location, then wrote it.

    ``read`` is the thread's last read of that location before ``write`` (its next write of it).
    """

    proc: int
    th: int
    tn: str
    obj: int
    key: object
    read: dict
    write: dict
    read_at: int
    """Index of ``read`` in the event list (the global order)."""
    write_at: int
    held: frozenset[Hold]
    """Sync objects the thread held continuously from the read through the write."""

    @property
    def thread(self) -> tuple[int, int]:
        return self.proc, self.th

    @property
    def location(self) -> tuple:
        return location(self.read)

    @property
    def place(self) -> str:
        """The location as the program names it (``cnt['くさ']``, ``src.balance``)."""
        return place(self.write)

    @property
    def read_line(self) -> int | None:
        return self.read.get("ln")

    @property
    def write_line(self) -> int | None:
        return self.write.get("ln")

    @property
    def lock_guards(self) -> frozenset[Hold]:
        """The Locks and RLocks among ``held``."""
        return frozenset(h for h in self.held if h.is_lock)


def writes_with_basis(events: Sequence[dict]):
    """``(index, event, location, read index or None)`` for every write, in order: the read is the
    writing thread's last read of that location since its own previous write of it (the value the
    write was computed from, in a read-modify-write), None for a blind write."""
    pending: dict[tuple, int] = {}
    for i, e in enumerate(events):
        k = e["k"]
        if k != "read" and k != "write":
            continue
        loc = location(e)
        th = e.get("th", 0)
        if k == "read":
            pending[(loc, th)] = i
        else:
            yield i, e, loc, pending.pop((loc, th), None)


@by_events
def rmw_windows(events: Sequence[dict], only_shared: bool = False,
                holds: Sequence[frozenset[Hold]] | None = None) -> list[RMW]:
    """Every read-modify-write of a location, in the order of their reads.

    A read of a location by thread T followed by T's next write of it is one window (the last such
    read counts when T read it several times). A write with no read before it (a blind write) opens
    no window. ``only_shared`` keeps the windows on shared state (``concurrent_locations``). ``holds`` is ``held_locks(events)`` when the caller already has it.
    """
    if holds is None:
        holds = held_locks(events)
    shared = concurrent_locations(events) if only_shared else None
    out: list[RMW] = []
    for i, e, loc, r in writes_with_basis(events):
        if r is None or (shared is not None and scope(loc) not in shared):
            continue
        read = events[r]
        out.append(RMW(loc[0], e.get("th", 0), thread_label(read), e.get("obj"), e.get("key"), read, e, r, i,
                       holds[r] & holds[i]))
    out.sort(key=lambda w: w.read_at)
    return out


def final_dict_state(events: Sequence[dict], obj: int | None = None, proc: int = 0) -> dict:
    """The last value written to each key of dict ``obj`` of process ``proc``.

    Keys come in the order of their first write (the order a plain dict prints them). When
    ``obj`` is None: the dict whose items threads other than MainThread wrote most (the shared
    tally); ``{}`` when no dict item was written.
    """
    def counts_as_item(e: dict) -> bool:
        return (e["k"] == "write" and proc_of(e) == proc and e.get("sp") is None
                and e.get("ty") not in _NOT_A_DICT)

    if obj is None:
        counts = Counter(e.get("obj") for e in events if counts_as_item(e) and e.get("th", 0) != 0)
        if not counts:
            return {}
        obj = min(counts, key=lambda o: (-counts[o], o if isinstance(o, int) else 0))
    state: dict = {}
    for e in events:
        if counts_as_item(e) and e.get("obj") == obj:
            if e.get("op") in ("del", "pop"):
                state.pop(hashable(e.get("key")), None)
            else:
                state[hashable(e.get("key"))] = e.get("val")
    return state




@by_events
def shared_tallies(events: Sequence[dict], proc: int = 0) -> list[dict]:
    """What the threads of process ``proc`` left in the state they shared, read as mappings: the
    final items of each shared dict, the final attributes of each shared object, the last dict
    each shared global was rebound to (when its value was recorded whole). A tally a program
    prints should be one of them, unless it counted its own way (then this says nothing)."""
    shared = concurrent_locations(events)
    items: dict[object, dict] = {}
    attrs: dict[object, dict] = {}
    rebound: dict[object, object] = {}
    for e in events:
        if e["k"] != "write" or proc_of(e) != proc:
            continue
        loc = location(e)
        if scope(loc) not in shared:
            continue
        sp, key = e.get("sp"), hashable(e.get("key"))
        if sp is None and e.get("ty") not in _NOT_A_DICT:
            box = items.setdefault(e.get("obj"), {})
        elif sp == "a":
            box = attrs.setdefault(e.get("obj"), {})
        elif sp == "g":
            rebound[key] = e.get("val")
            continue
        else:
            continue
        if e.get("op") in ("del", "pop", "delattr"):
            box.pop(key, None)
        else:
            box[key] = e.get("val")
    out = list(items.values()) + list(attrs.values())
    for val in rebound.values():
        parsed = _literal_dict(val)
        if parsed is not None:
            out.append(parsed)
    return out


def _literal_dict(val) -> dict | None:
    """A recorded value that is a whole dict as Python prints it (not cut short)."""
    if not isinstance(val, str) or not val.startswith("{") or val.endswith("…"):
        return None
    import ast
    try:
        parsed = ast.literal_eval(val)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None


def agrees(state: dict, printed: dict, expected: dict) -> bool | None:
    """Does a shared state agree with the printed tally, on the keys the tally should have?
    None when it is not a tally at all (no such key, or counts that are not numbers)."""
    common = [k for k in expected if k in state]
    if not common or not all(isinstance(state[k], int) for k in common):
        return None
    return all(printed.get(k) == state[k] for k in common)


def threads_wrote(events: Sequence[dict], proc: int = 0) -> bool:
    """Did threads of ``proc`` other than MainThread write any state (an item, an attribute, a
    global, a container's contents: what outlives a call, never a local variable)? Without that,
    a tally printed beside them was counted elsewhere. (MainThread's accesses while it runs alone
    are not recorded, so what it reads back after the joins cannot be asked for.)"""
    return any(e["k"] == "write" and e.get("th") and proc_of(e) == proc for e in events)

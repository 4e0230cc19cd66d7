"""The happens-before order a run established, as vector clocks over its recorded events.

Edges: program order within a thread; ``Thread.start`` (the parent's ``spawn``) before the child's
first event; a thread's ``end`` before the ``joined`` that saw it finish; with ``locks``, every
``rel`` of a Lock, RLock or binary Semaphore before each later ``acq`` of the same object (a
counting semaphore lets several threads in without waiting for a release, so it orders nothing).
What the engine does not record (the standard library's own Conditions, Events and queues) adds no
edge, so two accesses may look unordered when they are not: for exploration that only costs a
directed schedule that turns out the same, never a verdict, since verdicts are judged on what the
runs did.

One pass, each event costing at most one join of two clocks: linear in the events for a fixed
number of threads.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ..memo import by_events

ACCESS_KINDS = ("read", "write")


@dataclass(frozen=True)
class Access:
    """One recorded access of a location, with the clock it happened at."""

    at: int
    """Index in the run's event list."""
    th: int
    op: str
    """``read`` or ``write``."""
    obj: int
    key: object
    ln: int | None
    st: int | None
    """The scheduler's decision count when the access came (its position, with ``sb``)."""
    clock: tuple[int, ...]
    """What the thread knew of the others when it made the access (its own entry may be older:
    ``epoch`` is the thread's own count)."""
    epoch: int = 0
    sp: str | None = None
    """The kind of location: None (an item), ``a`` (attribute), ``g`` (global), ``c`` (contents)."""
    sb: int = 0
    """The access's index among those since decision ``st``."""
    site: int | None = None
    """The site of the program that made it (the instrumenter's table)."""
    col: int = 0
    """The thread's column in the clocks (threads numbered in order of appearance)."""

    @property
    def location(self) -> tuple:
        return (self.obj, self.sp, self.key)

    def before(self, other: "Access") -> bool:
        """Does this access happen before ``other`` (which comes later in the run)?"""
        return self.th == other.th or (self.col < len(other.clock) and self.epoch <= other.clock[self.col])


def _join(a: list[int], b: Sequence[int]) -> None:
    if len(a) < len(b):
        a.extend([0] * (len(b) - len(a)))
    for i, v in enumerate(b):
        if v > a[i]:
            a[i] = v


@by_events
def accesses(events: Sequence[dict], proc: int = 0, locks: bool = True) -> list[Access]:
    """Every access of process ``proc``, each with its vector clock (``locks``: lock edges too).

    A thread's clock changes for the others only at a sync event, so its accesses between two of
    them share one snapshot of it (their own counts are each access's ``epoch``)."""
    clocks: dict[int, list[int]] = {}
    snaps: dict[int, tuple] = {}         # thread -> snapshot of its clock since its last sync event
    dense: dict[int, int] = {}           # thread number -> its column, in order of appearance
    started: dict[int, list[int]] = {}   # child vid -> parent's clock at spawn
    ended: dict[int, list[int]] = {}
    released: dict[int, list[int]] = {}  # sync object -> join of its releases
    counting: set = set()                # semaphores created with a value above 1
    out: list[Access] = []
    for i, e in enumerate(events):
        if e.get("proc", 0) != proc:
            continue
        raw = e.get("th", 0)
        if type(raw) is not int or raw < 0:
            continue
        # Columns in order of appearance: a clock is as long as the threads seen, whatever their numbers.
        th = dense.setdefault(raw, len(dense))
        vc = clocks.get(th)
        if vc is None:
            vc = clocks[th] = [0] * (th + 1)
            if th in started:
                _join(vc, started.pop(th))
        if len(vc) <= th:
            vc.extend([0] * (th + 1 - len(vc)))
        vc[th] += 1
        k = e["k"]
        if k in ACCESS_KINDS:
            sb = e.get("sb")
            snap = snaps.get(th)
            if snap is None:
                snap = snaps[th] = tuple(vc)
            out.append(Access(i, raw, k, e.get("obj"), hashable(e.get("key")), e.get("ln"), e.get("st"),
                              snap, vc[th], e.get("sp"), sb if type(sb) is int else 0, e.get("si"), th))
            continue
        snaps.pop(th, None)
        if k == "spawn" and e.get("child") is not None:
            started[e["child"]] = list(vc)
        elif k == "end":
            ended[th] = list(vc)
        elif k == "joined" and e.get("done") and e.get("target") in ended:
            _join(vc, ended[e["target"]])
        elif not locks:
            continue
        elif k == "new" and (e.get("value") or 0) > 1:
            counting.add(e.get("obj"))
        elif k == "rel" and e.get("obj") not in counting:
            _join(released.setdefault(e.get("obj"), []), vc)
        elif k == "acq" and e.get("obj") in released:
            _join(vc, released[e["obj"]])
    return out


READS_KEPT = 4
"""Reads of one location kept unordered with its last write, to pair with a later write: the most
recent few (each access then meets at most this many others: linear in the accesses, whatever the
number of threads)."""


def unordered_pairs(accs: Sequence[Access], settled: set | None = None):
    """Pairs ``(a, b)`` of accesses of one location by two threads, one a write, ``a`` first and not
    happening before ``b`` (FastTrack's checks: each access against the location's last write and
    the reads made since it), in the order of ``b``. Locations in ``settled`` are not checked."""
    last_write: dict[tuple, Access] = {}
    reads: dict[tuple, list[Access]] = {}
    for b in accs:
        loc = b.location
        if settled is not None and loc in settled:
            continue
        w = last_write.get(loc)
        if w is not None and w.th != b.th and not w.before(b):
            yield w, b
        since = reads.get(loc)
        if b.op == "read":
            if since is None:
                reads[loc] = [b]
            else:
                since[:] = [r for r in since if r.th != b.th][-(READS_KEPT - 1):] + [b]
            continue
        kept = []
        if since:
            for r in since:
                if r.th != b.th and not r.before(b):
                    yield r, b
                    kept.append(r)  # still unordered: it may race with a later write too
        last_write[loc] = b
        reads[loc] = kept


@by_events
def racy_locations(events: Sequence[dict], proc: int = 0, writes_only: bool = False) -> set[tuple]:
    """Locations ``(obj, sp, key)`` of process ``proc`` that two threads access, one writing (with
    ``writes_only``: both writing), with no thread start or join between them: the state a lock has
    to guard (lock edges are left out on purpose: with them, a correct program's accesses are all
    ordered)."""
    found: set[tuple] = set()
    for a, b in unordered_pairs(accesses(events, proc, locks=False), found):
        if not writes_only or (a.op == "write" and b.op == "write"):
            found.add(a.location)  # settled: its other pairs are not looked at
    return found


def hashable(key):
    """JSON turns tuple keys into lists; make them hashable again."""
    if isinstance(key, list):
        return tuple(hashable(k) for k in key)
    if isinstance(key, dict):
        return repr(key)
    return key

"""Which synchronisation objects each thread holds, event by event (from ``acq``/``rel``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from grader.memo import by_events

from ._common import LOCK_KINDS, SYNC_KINDS, proc_of, thread_label, tid

_NONE: frozenset = frozenset()


@dataclass(frozen=True)
class Hold:
    """One continuous holding of a sync object by one thread.

    A thread that releases an object and takes it again gets a new ``Hold`` (another
    ``since``), so a ``Hold`` present at two events means the object was held all along.
    An RLock taken recursively stays one ``Hold`` until its depth falls back to zero.
    """

    proc: int
    obj: int
    kind: str
    since: int
    """Index in the event list of the ``acq`` that took it."""
    ln: int | None
    """Line of that acquire."""

    @property
    def key(self) -> tuple[int, int]:
        """``(proc, obj)``: the object's identity across the whole run."""
        return self.proc, self.obj

    @property
    def is_lock(self) -> bool:
        return self.kind in LOCK_KINDS


def sync_objects(events: Sequence[dict]) -> dict[tuple[int, int], dict]:
    """The ``new`` event of each sync object, by ``(proc, obj)``."""
    return {(proc_of(e), e.get("obj")): e for e in events if e["k"] == "new"}


class HoldTracker:
    """Replays ``acq``/``rel`` events. ``step(i, e)`` for each event in order.

    Semantics: an ``acq`` by a thread already holding the object deepens it (RLock recursion, a
    semaphore taken twice); a ``rel`` undoes the releasing thread's own holding first. A plain
    Lock may be released by another thread than its owner: then the owner loses it. A semaphore
    released by a thread that does not hold it only raises its count (no holder is dropped).
    """

    def __init__(self) -> None:
        self.kinds: dict[tuple[int, int], str] = {}
        self.by_thread: dict[tuple[int, int], dict[int, list]] = {}
        """``(proc, th)`` -> obj -> ``[Hold, depth]``."""
        self.names: dict[tuple[int, int], str] = {}

    def step(self, i: int, e: dict) -> None:
        t = tid(e)
        if "tn" in e:
            self.names[t] = thread_label(e)
        k = e["k"]
        if k == "new":
            self.kinds[(t[0], e.get("obj"))] = e.get("kind", "")
            return
        if k not in ("acq", "rel"):
            return
        obj = e.get("obj")
        kind = e.get("kind") or self.kinds.get((t[0], obj), "")
        if kind not in SYNC_KINDS:
            return
        mine = self.by_thread.setdefault(t, {})
        if k == "acq":
            if obj in mine:
                mine[obj][1] += 1
            else:
                mine[obj] = [Hold(t[0], obj, kind, i, e.get("ln")), 1]
            return
        owner = mine if obj in mine else None
        if owner is None and kind == "Lock":
            owner = next((h for (p, _), h in self.by_thread.items() if p == t[0] and obj in h), None)
        if owner is not None:
            owner[obj][1] -= 1
            if owner[obj][1] <= 0:
                del owner[obj]

    def held(self, t: tuple[int, int]) -> frozenset[Hold]:
        mine = self.by_thread.get(t)
        return frozenset(h for h, _ in mine.values()) if mine else _NONE

    def holders(self, proc: int, obj: int) -> list[tuple[int, int]]:
        """Threads holding ``obj`` now, in the order they took it."""
        found = [(h[obj][0].since, t) for t, h in self.by_thread.items() if t[0] == proc and obj in h]
        return [t for _, t in sorted(found)]


@by_events
def held_locks(events: Sequence[dict]) -> list[frozenset[Hold]]:
    """For each event (same index), the sync objects its thread holds just after it.

    Only Lock, RLock, Semaphore and BoundedSemaphore count. Compare the sets at two events of
    the same thread: a ``Hold`` in both was held continuously in between.
    """
    tracker = HoldTracker()
    out: list[frozenset[Hold]] = []
    for i, e in enumerate(events):
        tracker.step(i, e)
        out.append(tracker.held(tid(e)))
    return out

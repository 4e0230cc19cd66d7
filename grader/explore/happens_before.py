"""The happens-before order a run established, as vector clocks over its recorded events.

Edges: program order within a thread; ``Thread.start`` (the parent's ``spawn``) before the child's
first event; a thread's ``end`` before the ``joined`` that saw it finish; every ``rel`` of a Lock,
RLock or binary Semaphore before each later ``acq`` of the same object (a counting semaphore lets
several threads in without waiting for a release, so it orders nothing). What the engine does not record
(the standard library's own Conditions, Events and queues) adds no edge, so two accesses may look
unordered when they are not: that only costs a directed schedule that turns out the same, never a
verdict, since verdicts are judged on what the runs did.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

ACCESS_KINDS = ("read", "write")


@dataclass(frozen=True)
class Access:
    """One recorded access of a shared dict, with the clock it happened at."""

    at: int
    """Index in the run's event list."""
    th: int
    op: str
    """``read`` (``d[k]``, ``in``, ``get``) or ``write``."""
    obj: int
    key: object
    ln: int | None
    st: int | None
    """The scheduling decision that let it happen (``Scheduler.steps``)."""
    clock: tuple[int, ...]

    def before(self, other: "Access") -> bool:
        """Does this access happen before ``other`` (which comes later in the run)?"""
        return self.th == other.th or (self.th < len(other.clock) and self.clock[self.th] <= other.clock[self.th])


def _join(a: list[int], b: Sequence[int]) -> None:
    if len(a) < len(b):
        a.extend([0] * (len(b) - len(a)))
    for i, v in enumerate(b):
        if v > a[i]:
            a[i] = v


def accesses(events: Sequence[dict], proc: int = 0) -> list[Access]:
    """Every shared-dict access of process ``proc``, each with its vector clock."""
    clocks: dict[int, list[int]] = {}
    started: dict[int, list[int]] = {}   # child vid -> parent's clock at spawn
    ended: dict[int, list[int]] = {}
    released: dict[int, list[int]] = {}  # sync object -> join of its releases
    counting: set = set()                # semaphores created with a value above 1
    out: list[Access] = []
    for i, e in enumerate(events):
        if e.get("proc", 0) != proc:
            continue
        th = e.get("th", 0)
        if th is None or th < 0:
            continue
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
            out.append(Access(i, th, k, e.get("obj"), _key(e.get("key")), e.get("ln"), e.get("st"), tuple(vc)))
        elif k == "spawn" and e.get("child") is not None:
            started[e["child"]] = list(vc)
        elif k == "end":
            ended[th] = list(vc)
        elif k == "joined" and e.get("done") and e.get("target") in ended:
            _join(vc, ended[e["target"]])
        elif k == "new" and (e.get("value") or 0) > 1:
            counting.add(e.get("obj"))
        elif k == "rel" and e.get("obj") not in counting:
            _join(released.setdefault(e.get("obj"), []), vc)
        elif k == "acq" and e.get("obj") in released:
            _join(vc, released[e["obj"]])
    return out


def _key(key):
    """JSON turns tuple keys into lists; make them hashable again."""
    if isinstance(key, list):
        return tuple(_key(k) for k in key)
    return key

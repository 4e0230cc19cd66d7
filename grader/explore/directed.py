"""Race-directed schedules: every race a run shows is driven to its other order in a run of its own.

A *candidate race* is two accesses of the same dict item by two threads, one a write, that the
run's happens-before order does not order (no common lock, no start/join between them). A lost
update needs exactly such a pair in the order "one thread's write, then the other's read" to be
turned around: the reader then reads the value from before the write, and one update is
overwritten. So for each race, the run's schedule is replayed up to the decision that let the first
access happen; from there its thread is held back until the other thread has made its access, and
then the run goes on without preemption (Sen, PLDI 2008; Flanagan & Godefroid, POPL 2005). One
run per race, deduplicated by the pair of source lines and access kinds: whether a reachable
lost update is found no longer depends on the seed, only which schedules surround it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from .happens_before import Access, accesses

# Reversing write->read loses an update directly; the others can set one up.
_PRIORITY = {("write", "read"): 0, ("write", "write"): 1, ("read", "write"): 2}


@dataclass(frozen=True)
class Direction:
    """From scheduling decision ``step`` on, hold thread ``hold`` back until thread ``th`` has made
    its ``op`` of ``key`` at line ``ln`` (the other side of the race), then run on without preemption."""

    step: int
    hold: int
    th: int
    op: str
    key: object
    ln: int | None

    def as_json(self) -> dict:
        return {"step": self.step, "hold": self.hold, "th": self.th, "op": self.op,
                "key": list(self.key) if isinstance(self.key, tuple) else self.key, "ln": self.ln}


@dataclass(frozen=True)
class Race:
    """Two accesses of one dict item from two threads, one a write, not ordered by happens-before."""

    first: Access
    second: Access

    @property
    def signature(self) -> tuple:
        """What makes two races the same for exploration: the source lines and access kinds."""
        return (self.first.ln, self.first.op, self.second.ln, self.second.op)

    def direction(self) -> Direction:
        """The direction that makes ``second`` happen before ``first``."""
        s = self.second
        return Direction(self.first.st, self.first.th, s.th, s.op, s.key, s.ln)


def races(events: Sequence[dict], proc: int = 0) -> list[Race]:
    """The first race of each signature in process ``proc``, write-then-read races first."""
    by_item: dict[tuple, list[Access]] = {}
    for a in accesses(events, proc):
        by_item.setdefault((a.obj, a.key), []).append(a)
    first: dict[tuple, Race] = {}
    for group in by_item.values():
        if len({a.th for a in group}) < 2:
            continue
        for j, b in enumerate(group):
            for a in group[:j]:
                if a.th == b.th or (a.op != "write" and b.op != "write") or a.st is None:
                    continue
                if a.before(b):
                    continue
                race = Race(a, b)
                sig = race.signature
                if sig not in first or (a.at, b.at) < (first[sig].first.at, first[sig].second.at):
                    first[sig] = race
    return sorted(first.values(), key=lambda r: (_PRIORITY.get((r.first.op, r.second.op), 3), r.first.at, r.second.at))


def directions_for(events: Sequence[dict], after: Iterable[Direction] = (), tried: set | None = None,
                   scope: tuple = ()) -> list[tuple[tuple, Direction]]:
    """New directions for a run whose schedule already applied ``after``: one per race not yet
    ``tried`` (signatures are kept per ``scope``, e.g. the run group and time mode), each as
    ``(key for tried, direction)``. A race that starts before the run's own last direction would
    change the prefix that direction relies on, so it is left to the run it came from."""
    floor = max((d.step for d in after), default=-1)
    out = []
    seen = tried if tried is not None else set()
    for race in races(events):
        key = (scope, race.signature)
        if key in seen or race.first.st is None or race.first.st < floor:
            continue
        out.append((key, race.direction()))
    return out

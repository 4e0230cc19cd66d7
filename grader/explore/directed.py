"""Race-directed schedules: every race a run shows is driven to its other order in a run of its own.

A *candidate race* is two accesses of one location by two threads, one a write, that the run's
happens-before order does not order (no common lock, no start/join between them). A lost update
needs exactly such a pair in the order "one thread's write, then the other's read" to be turned
around: the reader then reads the value from before the write, and one update is overwritten. So
for each race, the run's schedule is replayed up to the first access; there its thread is held back
until the other thread has made its access, and then the run goes on without preemption (Sen, PLDI
2008; Flanagan & Godefroid, POPL 2005). One run per race, deduplicated by the pair of source lines
and access kinds: whether a reachable lost update is found no longer depends on the seed, only which
schedules surround it.

Candidates come from one linear pass (``happens_before.unordered_pairs``), so a run of many
thousand accesses is planned from in time proportional to them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from .happens_before import Access, accesses, unordered_pairs

# Reversing write->read loses an update directly; the others can set one up.
_PRIORITY = {("write", "read"): 0, ("write", "write"): 1, ("read", "write"): 2}


@dataclass(frozen=True)
class Direction:
    """Hold thread ``hold`` right before its access at position ``(step, sub)`` until thread ``th``
    has made its ``op`` of ``key`` at site ``site`` (the other side of the race), then run on
    without preemption."""

    step: int
    hold: int
    th: int
    op: str
    key: object
    site: int | None
    sub: int = 0

    def as_json(self) -> dict:
        return {"step": self.step, "sub": self.sub, "hold": self.hold, "th": self.th, "op": self.op,
                "key": _jsonable(self.key), "site": self.site}


@dataclass(frozen=True)
class HoldAfterRead:
    """Across processes: every process that reads ``key`` of state they share is held until
    another process has written it (or none can run), so that the reads of two processes both
    come before their writes: a lost update between them, whenever one is possible."""

    key: object

    def as_json(self) -> dict:
        return {"readers_of": _jsonable(self.key)}


def hold_directions(races: Sequence[tuple[dict, dict]], after: Iterable = (), tried: set | None = None,
                    scope: tuple = ()) -> list[tuple[tuple, HoldAfterRead]]:
    """One direction per key of the races between processes (``analysis.process_races``) not yet
    ``tried``; none for a run that was itself held (its order is already the reads first)."""
    if any(isinstance(d, HoldAfterRead) for d in after):
        return []
    seen = tried if tried is not None else set()
    out = []
    for read, _write in races:
        key = (scope, "hold", repr(read.get("key")))
        if key in seen:
            continue
        seen.add(key)
        out.append((key, HoldAfterRead(read.get("key"))))
    return out


def _jsonable(key):
    return [_jsonable(k) for k in key] if isinstance(key, tuple) else key


@dataclass(frozen=True)
class Race:
    """Two accesses of one location from two threads, one a write, not ordered by happens-before."""

    first: Access
    second: Access

    @property
    def signature(self) -> tuple:
        """What makes two races the same for exploration: the source lines and access kinds."""
        return (self.first.ln, self.first.op, self.second.ln, self.second.op)

    def direction(self) -> Direction:
        """The direction that makes ``second`` happen before ``first``."""
        s = self.second
        return Direction(self.first.st, self.first.th, s.th, s.op, s.key, s.site, self.first.sb)


def races(events: Sequence[dict], proc: int = 0) -> list[Race]:
    """The first race of each signature in process ``proc``, write-then-read races first."""
    first: dict[tuple, Race] = {}
    for a, b in unordered_pairs(accesses(events, proc)):
        if a.st is None:
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
    floor = max(((d.step, d.sub) for d in after if isinstance(d, Direction)), default=(-1, -1))
    out = []
    seen = tried if tried is not None else set()
    for race in races(events):
        key = (scope, race.signature)
        if key in seen or race.first.st is None or (race.first.st, race.first.sb) < floor:
            continue
        out.append((key, race.direction()))
    return out

"""The submission's state as the engine sees it: locations, who has touched them, their events.

A *location* is one place a value lives that two threads could reach: an item of a container
(``cnt['くさ']``, ``COUNTS[2]``), an attribute (``src.balance``), a module global (``cnt``), or the
contents of a container as a whole (what ``x in lst`` reads and ``lst.append(x)`` changes).

Sharing is decided cheaply, per location. While only one thread has touched a location it is
*exclusive*: its accesses are neither scheduling points nor events; the engine keeps only that
thread's last read and last write of it, each with the sequence number it would have had. The first
access from another thread makes the location *shared* for good: the two kept accesses are written
down then (the parent puts them back in their place by sequence number), and from then on every
access is a scheduling point and an event. So state one thread keeps to itself (a list it builds, its
own ``self.x``) costs a dictionary lookup, while a race needs nothing more than it had: a lost update
needs two threads on one location, and the location is shared from the second thread's first access.

A shared location's accesses are compressed the same way within a *stretch*: while one thread runs
on without a switch and without any event of its own but accesses, only its last read and last
write of each location are kept, and written down when the stretch ends (a switch, any other event).
Nothing another thread did lies inside a stretch, and the locks the thread holds cannot change in
it, so no race, lost update, lock window or overlap of two threads is lost: a thread adding 1 to a
shared count 600 times in a row writes down two events, not 1,200.

Every access has a *position*: the scheduler's decision count and its index among the accesses
since that decision (``st``, ``sb``). A race-directed run stops a thread right before the access at
a position (``Scheduler.trap``), whether the location was exclusive there or not.
"""
from __future__ import annotations

import math
import sys
from collections import Counter, OrderedDict, defaultdict, deque

from . import state

SHARED = "shared"

# Kinds of location (the ``sp`` field of an access event; an item has none).
ITEM, ATTR, GLOBAL, CONTENTS = None, "a", "g", "c"

_TRACKED_MAX = 200_000
"""Exclusive locations kept at once; past it they are forgotten (a thread making throwaway dicts
in a loop), which only costs the history of state no other thread had touched."""

_SCALARS = (str, int, float, bool, type(None))
_SAFE_REPRS = frozenset({dict.__repr__, list.__repr__, tuple.__repr__, set.__repr__, frozenset.__repr__,
                         Counter.__repr__, defaultdict.__repr__, OrderedDict.__repr__, deque.__repr__})


class Location:
    """One location of one run: its object (kept alive, so its id is not reused), its kind and
    key, its owner (the ThreadState that alone touched it, or ``SHARED``) and, while exclusive,
    the owner's last read and write (not yet written down)."""

    __slots__ = ("obj", "sp", "key", "owner", "read", "write", "pend")

    def __init__(self, obj, sp, key, owner):
        self.obj = obj
        self.sp = sp
        self.key = key
        self.owner = owner
        self.read = None
        self.write = None
        self.pend = None  # shared, with read/write kept for a stretch: (thread, epoch)


class Memory:
    """The locations of one process's run (a forked child starts a table of its own)."""

    def __init__(self, share_all: bool = False) -> None:
        self.table: dict[tuple, Location] = {}
        self.declared: set[int] = set()
        self.share_all = share_all
        """Every location shared from its first access (to exercise that path; never in a run)."""
        self.owned: dict = {}
        """ThreadState -> the locations it was first to touch (written down when it ends)."""
        self.epoch = 0
        """Bumped when a stretch ends: a thread switch, an event that is not an access."""
        self.stretch: list[Location] = []
        """Shared locations whose accesses of this stretch are kept, not yet written down."""
        self._flushing = False

    def enter(self, obj, sp, key):
        """Before an access of ``(obj, sp, key)`` by the running thread: its position, and a
        scheduling point when the location is shared. Returns ``(location, st, sb)``."""
        S = state.S
        st, sb = S.steps, S.sub
        S.sub = sb + 1
        if S.directing:
            S.trap(st, sb)
        me = S.current
        try:
            lk = (id(obj), sp, key)
            loc = self.table.get(lk)
        except TypeError:  # an unhashable key: the access itself raises it
            return None, st, sb
        if loc is None:
            if len(self.table) >= _TRACKED_MAX:
                self._forget()
            self.table[lk] = loc = Location(obj, sp, key, SHARED if self.share_all else me)
            if not self.share_all:
                self._own(me, loc)
        elif loc.owner is not me:
            if loc.owner is not SHARED:
                self._share(loc)
            S.point()
        return loc, st, sb

    def _own(self, me, loc: Location) -> None:
        mine = self.owned.get(me)
        if mine is None:
            self.owned[me] = [loc]
        else:
            mine.append(loc)

    def locate(self, obj, sp, key):
        """The location of a further access made in the same step as the last ``enter`` (a
        ``dict.update``'s other keys): shared when another thread touched it, never a point."""
        me = state.S.current
        try:
            lk = (id(obj), sp, key)
            loc = self.table.get(lk)
        except TypeError:
            return None
        if loc is None:
            self.table[lk] = loc = Location(obj, sp, key, me)
            self._own(me, loc)
        elif loc.owner is not me and loc.owner is not SHARED:
            self._share(loc)
        return loc

    def leave(self, loc, st: int, sb: int, kind: str, sp, key, val, site: int, op: str,
              missing: bool = False) -> None:
        """After the access: kept as the location's last (exclusive), or its last of this stretch."""
        S = state.S
        if loc is not None:
            me = S.current
            if loc.owner is SHARED:
                pend = loc.pend
                if pend is None or pend[0] is not me or pend[1] != self.epoch:
                    if pend is not None:
                        self._write_down(loc)
                    loc.pend = (me, self.epoch)
                    self.stretch.append(loc)
            R = state.R
            R.n += 1
            past = (R.n, me, S.now, val, site, st, sb, op, missing)
            if kind == "read":
                loc.read = past
            else:
                loc.write = past
        if S.directing:
            S.accessed(kind, key, site)

    def _share(self, loc: Location) -> None:
        """A second thread arrived: write down what the owner did last, in its order."""
        loc.owner = SHARED
        self._write_down(loc)

    def _write_down(self, loc: Location) -> None:
        kept = sorted((p[0], kind, p) for kind, p in (("read", loc.read), ("write", loc.write)) if p is not None)
        loc.read = loc.write = loc.pend = None
        for _, kind, (n, ts, now, val, site, st, sb, op, missing) in kept:
            self._emit(kind, n, ts, now, loc.obj, loc.sp, loc.key, val, site, st, sb, op, missing)

    def bump(self) -> None:
        """A stretch ends (the scheduler switched threads, or an event that is not an access is
        about to be written): what it kept is written down."""
        self.epoch += 1
        if self.stretch and not self._flushing:
            self._flushing = True
            try:
                stretch, self.stretch = self.stretch, []
                for loc in stretch:
                    if loc.pend is not None:
                        self._write_down(loc)
            finally:
                self._flushing = False

    def settle(self, ts=None) -> None:
        """Thread ``ts`` ends (None: the process does): write down the last accesses of the
        locations it kept to itself, so that the state it left is in the events (what the program
        prints at the end is traced to it). Bounded by the locations, not the accesses."""
        if state.R is None:
            return
        self.bump()
        for owner in ([ts] if ts is not None else list(self.owned)):
            for loc in self.owned.pop(owner, ()):
                if loc.owner is owner and (loc.read is not None or loc.write is not None):
                    self._write_down(loc)

    def _emit(self, kind, n, ts, now, obj, sp, key, val, site, st, sb, op, missing) -> None:
        R = state.R
        oid = R.oid(obj)
        if oid not in self.declared:
            self.declared.add(oid)
            R.emit("obj", obj=oid, ty=self._type(obj))
        R.access(kind, n, ts, now, oid, sp, _key(key), val, site, st, sb, op, missing)

    @staticmethod
    def _type(obj) -> str:
        """``dict``, ``Account``...; ``globals`` for the program's module namespace; ``class``."""
        for name in ("__main__", "__mp_main__"):
            mod = sys.modules.get(name)
            if mod is not None and obj is mod.__dict__:
                return "globals"
        return "class" if isinstance(obj, type) else type(obj).__name__

    def _forget(self) -> None:
        self.table = {k: v for k, v in self.table.items() if v.owner is SHARED}
        self.owned = {}


def _key(key):
    """A key as event data: scalars as they are, a tuple of them as a list, anything else by a
    name that keeps two distinct keys apart (``<Point#3>``)."""
    if type(key) in _SCALARS:
        if type(key) is float and not math.isfinite(key):
            return repr(key)
        return key if type(key) is not str or len(key) <= 80 else key[:80] + "…"
    if type(key) is tuple and all(type(k) in _SCALARS for k in key):
        return [_key(k) for k in key]
    return f"<{type(key).__name__}#{state.oid(key)}>"


def summary(value):
    """A recorded value, bounded and safe to make: scalars as they are, small built-in containers
    of scalars as Python prints them, anything else by its type (never the program's ``__repr__``)."""
    t = type(value)
    if value is None or t is bool or t is int:
        return value
    if t is float:
        return value if math.isfinite(value) else repr(value)
    if t is str:
        return value if len(value) <= 60 else value[:60] + "…"
    if t.__repr__ in _SAFE_REPRS:
        try:
            n = len(value)
            items = value.items() if isinstance(value, dict) else value
            if n <= 8 and all(type(x) in _SCALARS for pair in (items if isinstance(value, dict) else ((x,) for x in items))
                              for x in pair):
                text = repr(value)
                return text if len(text) <= 80 else text[:80] + "…"
        except Exception:
            pass
        return f"<{t.__name__} ×{len(value)}>" if hasattr(value, "__len__") else f"<{t.__name__}>"
    if isinstance(value, type):
        return f"<class {value.__name__}>"
    return f"<{t.__name__}>"



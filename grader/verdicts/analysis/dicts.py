"""The shared dict: who writes it, its read-modify-write windows, its final state."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Sequence

from ._common import proc_of, thread_label, tid
from .holds import Hold, held_locks


def shared_dicts(events: Sequence[dict]) -> set[tuple[int, int]]:
    """Dicts, as ``(proc, obj)``, written by at least two different threads of one process."""
    writers: dict[tuple[int, int], set[int]] = {}
    for e in events:
        if e["k"] == "write":
            writers.setdefault((proc_of(e), e.get("obj")), set()).add(e.get("th", 0))
    return {d for d, ths in writers.items() if len(ths) >= 2}


@dataclass(frozen=True)
class RMW:
    """A read-modify-write: thread ``th`` read ``key`` of dict ``obj``, then wrote it.

    ``read`` is the thread's last read of that item before ``write`` (its next write of it).
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
    def read_line(self) -> int | None:
        return self.read.get("ln")

    @property
    def write_line(self) -> int | None:
        return self.write.get("ln")

    @property
    def lock_guards(self) -> frozenset[Hold]:
        """The Locks and RLocks among ``held``."""
        return frozenset(h for h in self.held if h.is_lock)


def rmw_windows(events: Sequence[dict], only_shared: bool = False,
                holds: Sequence[frozenset[Hold]] | None = None) -> list[RMW]:
    """Every read-modify-write of a dict item, in the order of their reads.

    A read of ``(obj, key)`` by thread T followed by T's next write of the same item is one
    window (the last such read counts when T read it several times). A write with no read
    before it (a blind write) opens no window. ``only_shared`` keeps the dicts written by two
    threads or more. ``holds`` is ``held_locks(events)`` when the caller already has it.
    """
    if holds is None:
        holds = held_locks(events)
    shared = shared_dicts(events) if only_shared else None
    pending: dict[tuple, int] = {}
    out: list[RMW] = []
    for i, e in enumerate(events):
        k = e["k"]
        if k not in ("read", "write"):
            continue
        p, th = tid(e)
        item = (p, th, e.get("obj"), _hashable(e.get("key")))
        if k == "read":
            pending[item] = i
            continue
        r = pending.pop(item, None)
        if r is None or (shared is not None and (p, e.get("obj")) not in shared):
            continue
        read = events[r]
        out.append(RMW(p, th, thread_label(read), e.get("obj"), e.get("key"), read, e, r, i,
                       holds[r] & holds[i]))
    out.sort(key=lambda w: w.read_at)
    return out


def final_dict_state(events: Sequence[dict], obj: int | None = None, proc: int = 0) -> dict:
    """The last value written to each key of dict ``obj`` of process ``proc``.

    Keys come in the order of their first write (the order a plain dict prints them). When
    ``obj`` is None: the dict that threads other than MainThread wrote most (the shared tally);
    ``{}`` when nothing was written.
    """
    if obj is None:
        counts = Counter(e.get("obj") for e in events
                         if e["k"] == "write" and proc_of(e) == proc and e.get("th", 0) != 0)
        if not counts:
            return {}
        obj = min(counts, key=lambda o: (-counts[o], o if isinstance(o, int) else 0))
    state: dict = {}
    for e in events:
        if e["k"] == "write" and proc_of(e) == proc and e.get("obj") == obj:
            state[_hashable(e.get("key"))] = e.get("val")
    return state


def _hashable(key):
    """JSON turns tuple keys into lists; make them usable as dict keys again."""
    if isinstance(key, list):
        return tuple(_hashable(k) for k in key)
    return key

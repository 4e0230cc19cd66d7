"""A run's access events made whole in the parent: in their order, named from the parent's own table.

The child writes an exclusive location's last read and write only when a second thread arrives
(``grader.engine.memory``), so within a process the events file is not always in sequence order:
each process's events are put back in the order of their sequence numbers (``n``), in the slots the
process has in the file. Then each access gets its line and the name of its object (``ln``,
``lbl``) from the site table the parent made when it instrumented the program (the child only says
which site), and the type of its object (``ty``) from the ``obj`` event that declared it.
Pure: no I/O.
"""
from __future__ import annotations

from typing import Sequence

ACCESS = frozenset({"read", "write"})
_BUDGETED = ACCESS | {"xmem", "xsync", "xmsg"}  # what processes share counts against the same budget

BUDGET = 250_000
"""Accesses of one run that are analysed. The scheduler's step limit keeps a run's shared accesses
below it; a run past it (a program that writes down a vast thread-local state at its end) is
analysed up to it, and the report says so, so that the grader's time and memory stay bounded."""


def within_budget(events: list[dict], budget: int = BUDGET) -> tuple[list[dict], int]:
    """``events`` with the accesses past the first ``budget`` left out, and how many were."""
    seen = 0
    for i, e in enumerate(events):
        if e.get("k") in _BUDGETED:
            seen += 1
            if seen > budget:
                kept = events[:i] + [x for x in events[i:] if x.get("k") not in _BUDGETED]
                return kept, len(events) - len(kept)
    return events, 0


def in_sequence(events: list[dict]) -> list[dict]:
    """``events`` with each process's own in the order of ``n`` (a stable sort, only when needed)."""
    last: dict[object, int] = {}
    late = set()
    for e in events:
        p = e.get("pid")
        n = e.get("n")
        if not isinstance(n, int):
            continue
        if n < last.get(p, -1):
            late.add(p)
        else:
            last[p] = n
    if not late:
        return events
    out = list(events)
    for p in late:
        slots = [i for i, e in enumerate(events) if e.get("pid") == p]
        mine = sorted((events[i] for i in slots), key=lambda e: e.get("n") if isinstance(e.get("n"), int) else 0)
        for i, e in zip(slots, mine):
            out[i] = e
    return out


def annotate(events: Sequence[dict], sites: Sequence) -> None:
    """Give each access its line, its object's name and type (in place). ``sites``: the table of
    ``grader.engine.instrument.Site`` (or their JSON lists)."""
    table = [s.as_json() if hasattr(s, "as_json") else s for s in sites]
    types: dict[tuple, str] = {}
    todo = []
    for e in events:
        k = e.get("k")
        if k == "read" or k == "write":
            todo.append(e)
        elif k == "obj":
            types[(e.get("pid"), e.get("obj"))] = str(e.get("ty", ""))[:40]
    n = len(table)
    for e in todo:
        si = e.get("si")
        if type(si) is int and 0 <= si < n:
            site = table[si]
            e["ln"], e["lbl"] = site[0], site[3]
        else:
            e["ln"], e["lbl"] = None, None
        e["ty"] = types.get((e.get("pid"), e.get("obj")), "")

"""Threads of the main process (start, begin, end, joins) and traced function calls."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from ._common import proc_of, thread_label, tid


@dataclass
class ThreadSpan:
    """The life of one thread of process 0, by event sequence numbers ``n``."""

    vid: int
    """Virtual thread id: 0 is MainThread, then 1, 2... in start order."""
    name: str
    parent: int | None = None
    """The thread that started it (None for MainThread)."""
    start_n: int | None = None
    """``n`` of the parent's ``spawn`` (``Thread.start()``)."""
    begin_n: int | None = None
    end_n: int | None = None
    joins: list[dict] = field(default_factory=list)
    """``join`` events of threads waiting for this one, in order."""
    joined: list[dict] = field(default_factory=list)
    """``joined`` events (the waits on this one that returned)."""


def thread_timeline(events: Sequence[dict]) -> dict[int, ThreadSpan]:
    """Every thread of process 0 by vid (in vid order): name, start, begin, end and joins.

    The name is the thread's latest name seen on its own events (``spawn``'s ``cn`` before it
    ran). MainThread appears when it has events.
    """
    spans: dict[int, ThreadSpan] = {}

    def span(vid: int, name: str | None = None) -> ThreadSpan:
        if vid not in spans:
            spans[vid] = ThreadSpan(vid, name or ("MainThread" if vid == 0 else f"thread {vid}"))
        return spans[vid]

    for e in events:
        k = e["k"]
        if k == "read" or k == "write" or proc_of(e) != 0:
            continue  # accesses, the bulk of a run, say nothing of a thread's life
        th = e.get("th", 0)
        if k == "spawn" and e.get("child") is not None:
            s = span(e["child"], e.get("cn"))
            s.parent = th
            if s.start_n is None:
                s.start_n = e.get("n")
        me = span(th, e.get("tn"))
        if e.get("tn"):
            me.name = thread_label(e)
        if k == "begin" and me.begin_n is None:
            me.begin_n = e.get("n")
        elif k == "end":
            me.end_n = e.get("n")
        elif k == "join" and e.get("target") is not None:
            span(e["target"]).joins.append(e)
        elif k == "joined" and e.get("target") is not None:
            span(e["target"]).joined.append(e)
    return dict(sorted(spans.items()))


def first_join_n(events: Sequence[dict]) -> int | None:
    """``n`` of the first ``join`` in process 0 (any thread waiting for another), or None."""
    return next((e.get("n") for e in events if e["k"] == "join" and proc_of(e) == 0), None)


def all_started_before(events: Sequence[dict], n: int | None) -> bool:
    """True when every thread process 0 started was started (``spawn``) before event ``n``.

    ``n`` None (e.g. no join at all) means "ever": true. No thread started: true.
    """
    if n is None:
        return True
    return all(e.get("n", 0) < n for e in events if e["k"] == "spawn" and proc_of(e) == 0)


@dataclass(frozen=True)
class Call:
    """One call of a traced function, from its ``call`` to its ``ret`` (paired by ``cid``)."""

    fn: str
    cid: object
    proc: int
    th: int
    tn: str
    args: object
    enter_n: int | None
    exit_n: int | None
    """None when the call never returned (thread killed, deadlock, still running)."""
    has_val: bool = False
    """The ``ret`` recorded a return value (the assignment asked for it)."""
    val: object = None
    exc: object = None
    """The exception that ended the call, as the ``ret`` event gives it."""
    ln: int | None = None

    @property
    def returned(self) -> bool:
        return self.exit_n is not None


def calls(events: Sequence[dict], fn: str | None = None) -> list[Call]:
    """Calls of ``fn`` (every traced function when None) in all processes, in order of entry."""
    open_: dict[tuple[int, object], dict] = {}
    done: dict[tuple[int, object], dict] = {}
    order: list[tuple[int, object]] = []
    for e in events:
        if e["k"] not in ("call", "ret") or (fn is not None and e.get("fn") != fn):
            continue
        key = (proc_of(e), e.get("cid"))
        if e["k"] == "call":
            open_[key] = e
            order.append(key)
        elif key in open_ and key not in done:
            done[key] = e
    out = []
    for key in order:
        c, r = open_[key], done.get(key)
        p, th = tid(c)
        out.append(Call(c.get("fn", ""), c.get("cid"), p, th, thread_label(c), c.get("args"),
                        c.get("n"), r.get("n") if r else None, bool(r and "val" in r),
                        r.get("val") if r else None, r.get("exc") if r else None, c.get("ln")))
    return out

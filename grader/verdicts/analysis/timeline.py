"""Failures as pictures: a run's events turned into a ``Timeline`` (lanes, marks, bars, arrows).

Pure functions of one run's event list, like the rest of ``analysis``: the HTML report draws what
these return and computes nothing itself. Each builder shows only what its check's text already
explains (the same interleaving as the trace, the same threads), plus the lock and semaphore holds
of those threads while it happened, so that the picture and the words never disagree.

Time is schedule order. Only the moments that carry a mark become rows, numbered 0, 1, 2... (the
``at`` of marks and spans), so a picture stays short however many events the run had; the virtual
clock at each row is kept in ``Timeline.times``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

from grader.model import Msg, Timeline, TimelineLink, TimelineMark, TimelineSpan

from ._common import SEMAPHORE_KINDS, SYNC_KINDS, fmt, place, proc_of, thread_label, tid
from .shared import RMW, rmw_windows
from .holds import Hold, HoldTracker
from .races import LostUpdate, describe_lost_update

__all__ = [
    "MAX_LANES", "deadlock_timeline", "join_timeline", "lock_timeline", "lost_update_timeline",
    "semaphore_timeline",
]

MAX_LANES = 3
"""Most lanes in a picture of many threads (a deadlock, a print before the threads ended, a crowd
in a semaphore): more do not fit a phone's width beside the words. Those left out are counted in
``Timeline.notes``; a lost update always shows every thread of its trace."""

_VALUE_CHARS = 24
"""Values and keys longer than this are cut in labels (the text report keeps them whole)."""

Thread = tuple[int, int]


def _short(value) -> str:
    text = fmt(value)
    text = text if isinstance(text, str) else str(text)
    return text if len(text) <= _VALUE_CHARS else text[: _VALUE_CHARS - 1] + "…"


def _obj_name(kind: str | None, obj) -> str:
    """``Lock #1``: the name the deadlock text uses for a sync object."""
    return f"{kind or 'Lock'} #{obj}"


def _read_label(key, val) -> Msg:
    k, v = _short(key), _short(val)
    return Msg(f"{k} = {v} を読む", f"read {k} = {v}")


def _write_label(key, val) -> Msg:
    k, v = _short(key), _short(val)
    return Msg(f"{k} = {v} を書く", f"wrote {k} = {v}")


_DEFAULT_NOTE = Msg("キーがまだなく既定値", "not in the dict yet: the default")  # as the text trace says


@dataclass
class _Mark:
    index: int
    """Position of the event in the run's event list."""
    lane: int
    kind: str
    label: Msg
    line: int | None = None
    key: str | None = None
    value: str | None = None
    lost: bool = False
    note: Msg | None = None


@dataclass
class _Span:
    lane: int
    start: int | None
    """Event index, or None: from before the picture."""
    end: int | None
    """Event index, or None: on after the picture."""
    kind: str
    label: Msg


@dataclass
class _Builder:
    """Collects marks and bars by event index, then numbers the moments in schedule order."""

    events: Sequence[dict]
    lanes: list[Thread] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    marks: list[_Mark] = field(default_factory=list)
    spans: list[_Span] = field(default_factory=list)
    links: list[tuple[int, int, str, Msg]] = field(default_factory=list)
    _seen: dict[tuple, int] = field(default_factory=dict)

    def lane(self, thread: Thread, name: str) -> int:
        if thread not in self.lanes:
            self.lanes.append(thread)
            self.names.append(name)
        return self.lanes.index(thread)

    def mark(self, index: int, thread: Thread, kind: str, label: Msg, **kw) -> int:
        """Add a mark (once per event and kind: a second call returns the first) and return its number."""
        e = self.events[index]
        lane = self.lane(thread, thread_label(e))
        seen = self._seen.get((index, lane, kind))
        if seen is not None:
            return seen
        kw.setdefault("line", e.get("ln"))
        self.marks.append(_Mark(index, lane, kind, label, **kw))
        self._seen[(index, lane, kind)] = len(self.marks) - 1
        return len(self.marks) - 1

    def flag(self, index: int, thread: Thread, kind: str, note: Msg) -> None:
        """Highlight the mark already drawn for this event, with ``note`` under it: where it goes wrong."""
        seen = self._seen.get((index, self.lanes.index(thread), kind)) if thread in self.lanes else None
        if seen is not None:
            self.marks[seen].lost = True
            self.marks[seen].note = note

    def span(self, thread: Thread, start: int | None, end: int | None, kind: str, label: Msg) -> None:
        if thread in self.lanes:
            self.spans.append(_Span(self.lanes.index(thread), start, end, kind, label))

    def link(self, src: int, dst: int, kind: str, label: Msg) -> None:
        if src != dst:
            self.links.append((src, dst, kind, label))

    def build(self, kind: str, caption: Msg, *, counts: Sequence[tuple[int, int]] = (),
              limit: int | None = None, notes: Iterable[Msg] = ()) -> Timeline:
        """The ``Timeline``: ``counts`` are ``(event index, n)`` pairs, renumbered like the marks."""
        moments = sorted({m.index for m in self.marks}
                         | {i for s in self.spans for i in (s.start, s.end) if i is not None})
        at = {i: n for n, i in enumerate(moments)}
        last = max(len(moments) - 1, 0)

        def row(i: int | None, default: int) -> int:
            if i is None:
                return default
            return at.get(i, default)

        order = sorted(range(len(self.marks)), key=lambda k: (self.marks[k].index, self.marks[k].lane, k))
        renumber = {old: new for new, old in enumerate(order)}
        marks = tuple(TimelineMark(lane=m.lane, at=at[m.index], kind=m.kind, label=m.label, line=m.line,
                                   key=m.key, value=m.value, lost=m.lost, note=m.note)
                      for m in (self.marks[k] for k in order))
        spans = tuple(sorted(
            (TimelineSpan(lane=s.lane, start=row(s.start, 0), end=row(s.end, last), kind=s.kind, label=s.label,
                          open_start=s.start is None, open_end=s.end is None) for s in self.spans),
            key=lambda s: (s.lane, s.start, s.end, s.kind)))
        links = tuple(TimelineLink(renumber[a], renumber[b], k, label) for a, b, k, label in self.links)
        rows: list[tuple[int, int]] = []
        for i, n in counts:
            r = _row_at_or_after(moments, i)
            if r is None:
                continue
            if rows and rows[-1][0] == r:
                rows[-1] = (r, n)
            elif not rows or rows[-1][1] != n:
                rows.append((r, n))
        times = tuple(float(self.events[i].get("t") or 0.0) for i in moments)
        return Timeline(kind=kind, lanes=tuple(self.names), marks=marks, caption=caption, spans=spans,
                        counts=tuple(rows), limit=limit, links=links, times=times, notes=tuple(notes))


def _row_at_or_after(moments: list[int], index: int) -> int | None:
    """The row of event ``index``, or of the first moment drawn after it; None past the end."""
    for n, i in enumerate(moments):
        if i >= index:
            return n
    return None


# ------------------------------------------------------------------------------------ holds


@dataclass(frozen=True)
class _Held:
    thread: Thread
    hold: Hold
    end: int | None
    """Index of the event that ended the holding (a ``rel``), None when it never ended."""


def _holdings(events: Sequence[dict], upto: int | None = None) -> list[_Held]:
    """Every continuous holding of a sync object, with the thread that held it and when it ended."""
    tracker = HoldTracker()
    open_: dict[Hold, Thread] = {}
    done: list[_Held] = []
    stop = len(events) if upto is None else min(upto + 1, len(events))
    for i in range(stop):
        e = events[i]
        tracker.step(i, e)
        if e["k"] not in ("acq", "rel"):
            continue
        now: dict[Hold, Thread] = {}
        for t, mine in tracker.by_thread.items():
            for hold, _depth in mine.values():
                now[hold] = t
        for hold, t in list(open_.items()):
            if hold not in now:
                done.append(_Held(t, hold, i))
                del open_[hold]
        for hold, t in now.items():
            open_.setdefault(hold, t)
    done.extend(_Held(t, h, None) for h, t in open_.items())
    return sorted(done, key=lambda h: (h.hold.since, h.thread))


def _add_holds(b: _Builder, holdings: list[_Held], lo: int, hi: int, objects: dict,
               kinds: frozenset[str] = SYNC_KINDS) -> dict[Hold, int]:
    """Bars for the holdings of the picture's threads that overlap events ``lo..hi``, with a mark
    where each was taken or given back inside that stretch. Returns the acquire mark of each."""
    acquired: dict[Hold, int] = {}
    for h in holdings:
        if h.thread not in b.lanes or h.hold.kind not in kinds:
            continue
        if h.hold.since > hi or (h.end is not None and h.end < lo):
            continue
        name = _obj_name(h.hold.kind, h.hold.obj)
        made = (objects.get(h.hold.key) or {}).get("ln")
        label = Msg(f"{name} を保持" + (f"（{made}行目で作成）" if made else ""),
                    f"{name} held" + (f" (made at line {made})" if made else ""))
        start = h.hold.since if h.hold.since >= lo else None
        end = h.end if h.end is not None and h.end <= hi else None
        if start is not None:
            acquired[h.hold] = b.mark(start, h.thread, "acquire", Msg(f"{name} を取得", f"acquire {name}"))
        if end is not None:
            releaser = tid(b.events[end])
            if releaser == h.thread:
                b.mark(end, h.thread, "release", Msg(f"{name} を解放", f"release {name}"))
        b.span(h.thread, start, end, "hold", label)
    return acquired


def _objects(events: Sequence[dict]) -> dict[tuple[int, int], dict]:
    return {(proc_of(e), e.get("obj")): e for e in events if e["k"] == "new"}


# ------------------------------------------------------------------------------ lost update


def lost_update_timeline(events: Sequence[dict], lu: LostUpdate, caption: Msg | None = None) -> Timeline | None:
    """The lost update ``lu`` drawn: one lane per thread of its trace, its reads and writes of the
    key (the lost write highlighted, an arrow from the write that overwrote it), and the locks or
    semaphores those threads held meanwhile. ``caption`` defaults to the summary of
    ``describe_lost_update`` (the text the report gives). None when ``lu`` is not from ``events``."""
    if not lu.steps or not all(0 <= s.at < len(events) and events[s.at]["k"] == s.op
                               and tid(events[s.at]) == (s.proc, s.th) for s in lu.steps):
        return None
    if caption is None:
        caption = describe_lost_update(lu)[0]
    b = _Builder(events)
    lost_at = {s.at for s in lu.lost}
    for s in lu.steps:  # lanes in the order the trace names the threads
        b.lane((s.proc, s.th), s.tn)
    ids: dict[int, int] = {}
    for s in lu.steps:
        thread = (s.proc, s.th)
        name = _short(s.place or fmt(s.key))
        if s.op == "read" and s.via == "in":  # a check (``k in d``), not a read of a value
            what = _short(s.val if s.sp == "c" else s.key)
            box = f" {s.label}" if s.label else ""
            label = (Msg(f"{what} が{box}にないと確かめる", f"checked: {what} not in{box or ' the dict'}")
                     if s.missing else Msg(f"{what} が{box}にあると確かめる", f"checked: {what} in{box or ' the dict'}"))
            ids[s.at] = b.mark(s.at, thread, "check", label, line=s.ln, key=name)
        elif s.op == "read":
            note = _DEFAULT_NOTE if s.missing else None
            ids[s.at] = b.mark(s.at, thread, "read", _read_label(name, s.val), line=s.ln, key=name,
                               value=_short(s.val), note=note)
        else:
            note = None
            if s.at in lost_at:
                note = Msg("この更新が失われる", "this update is lost")
            elif s.at == lu.write.at and lu.split_check:
                note = Msg("確かめた後に書き込んで上書き", "overwrites it, after its check")
            elif s.at == lu.write.at:
                stale = _short(lu.read.val)
                note = Msg(f"古い値 {stale} をもとに上書き", f"overwrites it, from the stale {stale}")
            ids[s.at] = b.mark(s.at, thread, "write", _write_label(name, s.val), line=s.ln, key=name,
                               value=_short(s.val), lost=s.at in lost_at, note=note)
    lo, hi = min(s.at for s in lu.steps), max(s.at for s in lu.steps)
    _add_holds(b, _holdings(events, hi), lo, hi, _objects(events))
    for s in lu.lost:
        if lu.write.at in ids and s.at in ids:
            b.link(ids[lu.write.at], ids[s.at], "overwrites", Msg("上書き", "overwrites"))
    return b.build("lost_update", caption)


# ------------------------------------------------------------------------------------- lock


def _partner(rmws: list[RMW], r: RMW) -> RMW | None:
    """Another thread's read-modify-write overlapping ``r`` (the same item first, then the earliest)."""
    overlapping = [w for w in rmws if w.proc == r.proc and w.th != r.th
                   and w.read_at < r.write_at and w.write_at > r.read_at]
    if not overlapping:
        return None
    same = [w for w in overlapping if w.location == r.location]
    return min(same or overlapping, key=lambda w: w.read_at)


def lock_timeline(events: Sequence[dict], verdict) -> Timeline | None:
    """A failed ``lock`` verdict drawn: the read-modify-write it names and, beside it, another
    thread's that overlapped it, with every lock both held (or did not hold) meanwhile.

    ``verdict`` is a ``LockVerdict``; None when it names no read-modify-write to draw.
    """
    r: RMW | None = getattr(verdict, "rmw", None)
    if r is None or verdict.ok or not (0 <= r.read_at < len(events) and r.write_at < len(events)):
        return None
    rmws = rmw_windows(events, only_shared=True)
    other = _partner(rmws, r)
    b = _Builder(events)
    pair = [r] if other is None else sorted([r, other], key=lambda w: w.read_at)
    for w in pair:
        b.lane(w.thread, w.tn)
    marks: dict[tuple[int, str], int] = {}
    for w in pair:
        name = _short(w.place)
        marks[(w.read_at, "read")] = b.mark(w.read_at, w.thread, "read", _read_label(name, w.read.get("val")),
                                            key=name, value=_short(w.read.get("val")))
        marks[(w.write_at, "write")] = b.mark(w.write_at, w.thread, "write",
                                              _write_label(name, w.write.get("val")),
                                              key=name, value=_short(w.write.get("val")))
    lo, hi = min(w.read_at for w in pair), max(w.write_at for w in pair)
    _add_holds(b, _holdings(events, hi), lo, hi, _objects(events))
    no_lock = Msg("Lock を持っていない", "no Lock held")
    reason = verdict.reason
    if reason == "unguarded":
        b.flag(r.read_at, r.thread, "read", no_lock)
        b.flag(r.write_at, r.thread, "write", no_lock)
    elif reason == "released_between":
        rel = next((i for i in range(r.read_at + 1, r.write_at)
                    if events[i]["k"] == "rel" and tid(events[i]) == r.thread
                    and any(events[i].get("obj") == obj for _, obj in verdict.locks)), None)
        if rel is not None:
            name = _obj_name(events[rel].get("kind"), events[rel].get("obj"))
            b.mark(rel, r.thread, "release", Msg(f"{name} を解放", f"release {name}"))
            b.flag(rel, r.thread, "release", Msg("書き込む前に解放", "released before the write"))
        b.flag(r.write_at, r.thread, "write", no_lock)
    elif reason == "acquired_after_read":
        b.flag(r.read_at, r.thread, "read", Msg("Lock を取る前に読む", "read before the Lock is taken"))
    elif reason == "semaphore":
        b.flag(r.read_at, r.thread, "read",
               Msg("Lock ではなく Semaphore の中", "inside a Semaphore, not a Lock"))
    elif other is not None:  # lock_per_thread, different_locks: both inside at once
        second = pair[1]
        b.flag(second.read_at, second.thread, "read",
               Msg("別の Lock を持って同時に入る", "gets in too, with another Lock"))
    return b.build("lock", _lock_caption(reason, r, other) or verdict.summary)


def _lock_caption(reason: str, r: RMW, other: RMW | None) -> Msg | None:
    """What the lock picture shows, in one line: the named update and the one overlapping it."""
    if other is None:
        return None
    a, b, key = r.tn, other.tn, _short(r.place)
    first, second = (a, b) if r.read_at <= other.read_at else (b, a)  # in lane order where both are alike
    if reason == "unguarded":
        return Msg(f"{a} は Lock を持たずに {key} を読み書きし、{b} の読み書きと重なっています",
                   f"{a} reads and writes {key} holding no Lock, while {b}'s update overlaps it")
    if reason == "released_between":
        return Msg(f"{a} は {key} を書く前に Lock を解放し、{b} の読み書きと重なっています",
                   f"{a} releases the Lock before writing {key}, while {b}'s update overlaps it")
    if reason == "acquired_after_read":
        return Msg(f"{a} は Lock を取る前に {key} を読み、{b} の読み書きと重なっています",
                   f"{a} reads {key} before taking the Lock, while {b}'s update overlaps it")
    if reason == "semaphore":
        return Msg(f"{first} と {second} が Semaphore の中で同時に {key} を読み書きしています",
                   f"{first} and {second} update {key} at the same time inside the Semaphore")
    return Msg(f"{first} と {second} は別々の Lock を持ったまま、同時に {key} を読み書きしています",
               f"{first} and {second} each hold a different Lock and update {key} at the same time")


# -------------------------------------------------------------------------------- semaphore


def _inside(rmws: list[RMW]) -> list[tuple[int, list[Thread], dict[Thread, RMW]]]:
    """After each event that opens or closes a read-modify-write: the threads inside, in the
    order they entered, and the window each is in."""
    opens: dict[int, list[RMW]] = {}
    closes: dict[int, list[RMW]] = {}
    for r in rmws:
        opens.setdefault(r.read_at, []).append(r)
        closes.setdefault(r.write_at, []).append(r)
    inside: dict[Thread, list[RMW]] = {}
    out = []
    for pos in sorted(set(opens) | set(closes)):
        for r in opens.get(pos, ()):
            inside.setdefault(r.thread, []).append(r)
        out.append((pos, list(inside), {t: ws[-1] for t, ws in inside.items()}))
        for r in closes.get(pos, ()):
            ws = inside.get(r.thread, [])
            if r in ws:
                ws.remove(r)
            if not ws:
                inside.pop(r.thread, None)
    return out


def _counts(rmws: list[RMW]) -> list[tuple[int, int]]:
    """``(event index, threads inside just after it)`` at every change."""
    out = []
    opens: dict[int, list[RMW]] = {}
    closes: dict[int, list[RMW]] = {}
    for r in rmws:
        opens.setdefault(r.read_at, []).append(r)
        closes.setdefault(r.write_at, []).append(r)
    depth: dict[Thread, int] = {}
    for pos in sorted(set(opens) | set(closes)):
        for r in opens.get(pos, ()):
            depth[r.thread] = depth.get(r.thread, 0) + 1
        for r in closes.get(pos, ()):
            depth[r.thread] = depth.get(r.thread, 0) - 1
            if depth[r.thread] <= 0:
                del depth[r.thread]
        out.append((pos, len(depth)))
    return out


def semaphore_timeline(events: Sequence[dict], limit: int = 2) -> Timeline | None:
    """The ``semaphore`` check's failure drawn, with how many threads were inside at each moment.

    Inside means between a thread's read of the shared dict and its write (as the check counts).
    When more than ``limit`` were inside at once: the threads inside at the first such moment,
    from the first of them entering until the first leaves. When fewer than ``limit`` ever were:
    the first two threads to go in, one after the other, and the second one's wait. None when no
    thread read and wrote the shared dict, or when exactly ``limit`` were inside at most.
    """
    rmws = rmw_windows(events, only_shared=True)
    if not rmws:
        return None
    peak, at_peak = 0, None
    for pos, threads, windows in _inside(rmws):
        if len(threads) > peak:
            peak, at_peak = len(threads), (pos, threads, windows)
    if peak == limit:  # nothing went wrong here
        return None
    objects = _objects(events)
    b = _Builder(events)
    entering: RMW | None = None
    if peak > limit:
        pos, threads, windows = at_peak
        # the first to get in, and the one that went over the limit
        chosen = threads[: MAX_LANES - 1] + [threads[-1]] if len(threads) > MAX_LANES else threads
        pair = [windows[t] for t in chosen]
        entering = windows[threads[-1]]
        lo = min(w.read_at for w in pair)
        hi = min(w.write_at for w in pair)
        left_out = len(threads) - len(chosen)
    else:
        first = rmws[0]
        second = next((w for w in rmws if w.thread != first.thread), None)
        pair = [first] if second is None else [first, second]
        lo = first.read_at
        hi = max(w.write_at for w in pair)
        left_out = 0
    for w in pair:
        b.lane(w.thread, w.tn)
    holdings = _holdings(events, hi)
    # the picture starts where the first thread took its semaphore (or lock), when that was before
    starts = [h.hold.since for h in holdings if h.thread in b.lanes and h.hold.kind in SYNC_KINDS
              and h.hold.since <= lo and (h.end is None or h.end >= lo)]
    lo = min([lo, *starts])
    for w in pair:
        if lo <= w.read_at <= hi:
            b.mark(w.read_at, w.thread, "read", _read_label(_short(w.place), w.read.get("val")),
                   key=_short(w.place), value=_short(w.read.get("val")))
        if lo <= w.write_at <= hi:
            b.mark(w.write_at, w.thread, "write", _write_label(_short(w.place), w.write.get("val")),
                   key=_short(w.place), value=_short(w.write.get("val")))
    _add_holds(b, holdings, lo, hi, objects, SEMAPHORE_KINDS | frozenset({"Lock", "RLock"}))
    _add_waits(b, events, lo, hi)
    notes = []
    if peak > limit:
        b.flag(entering.read_at, entering.thread, "read",
               Msg(f"{peak} スレッド目が入る（上限 {limit}）", f"thread number {peak} gets in (limit {limit})"))
        caption = Msg(f"保護区間に同時に {peak} スレッドが入りました（上限は {limit}）",
                      f"{peak} threads were inside the guarded section at once (the limit is {limit})")
        if left_out:
            notes.append(Msg(f"ほかに {left_out} スレッドが同時に中にいました（図では省略）",
                             f"{left_out} more thread(s) were inside at the same time (not drawn)"))
    else:
        caption = Msg(f"保護区間に同時に入ったのは最大 {peak} スレッドでした（{limit} スレッドが同時に入れるはず）",
                      f"at most {peak} thread(s) were ever inside the guarded section at once"
                      f" ({limit} should be able to)")
    return b.build("semaphore", caption, counts=_counts(rmws), limit=limit, notes=notes)


def _add_waits(b: _Builder, events: Sequence[dict], lo: int, hi: int) -> None:
    """For each lane, its first wait for a sync object in ``lo..hi`` and the acquire that ended it."""
    for thread in list(b.lanes):
        block = next((i for i in range(lo, hi + 1) if events[i]["k"] == "block" and tid(events[i]) == thread), None)
        if block is None:
            continue
        e = events[block]
        name = _obj_name(e.get("kind"), e.get("obj"))
        got = next((i for i in range(block + 1, len(events)) if events[i]["k"] == "acq"
                    and tid(events[i]) == thread and events[i].get("obj") == e.get("obj")), None)
        b.mark(block, thread, "wait", Msg(f"{name} を待つ", f"waits for {name}"))
        if got is not None and got <= hi:
            b.mark(got, thread, "acquire", Msg(f"{name} を取得", f"acquire {name}"))
        b.span(thread, block, got if got is not None and got <= hi else None, "wait",
               Msg(f"{name} を待っている", f"waiting for {name}"))


# --------------------------------------------------------------------------------- deadlock


def deadlock_timeline(events: Sequence[dict], stop: dict) -> Timeline | None:
    """A deadlock drawn: who holds which lock since when, who waits for what, arrows from each
    waiting thread to the one it waits for. ``stop`` is the run's ``deadlock`` event.

    Lanes: the threads of a cycle of waits first (a thread waiting for a lock it holds itself is a
    cycle of one), then the threads waiting for them, at most ``MAX_LANES``; the others are
    counted in ``notes``. None when no thread of the main process is blocked.
    """
    blocked = [b for b in stop.get("blocked", []) if isinstance(b, dict) and "th" in b]
    if not blocked:
        return None
    proc = proc_of(stop)
    end = next((i for i, e in enumerate(events) if e is stop), len(events) - 1)
    holdings = [h for h in _holdings(events, end) if h.end is None and h.thread[0] == proc]
    holders: dict[int, list[Thread]] = {}
    for h in holdings:
        holders.setdefault(h.hold.obj, []).append(h.thread)
    names = {(proc, b["th"]): b.get("tn") or f"thread {b['th']}" for b in blocked}
    waits: dict[Thread, tuple[int, str, object]] = {}
    """thread -> (event index of its wait, ``lock`` or ``join`` or ``other``, obj / target vid)"""
    for b in blocked:
        t = (proc, b["th"])
        on = str(b.get("on", ""))
        kinds = ("join",) if on.startswith("join ") else ("block",)
        i = next((j for j in range(end, -1, -1) if events[j]["k"] in kinds and tid(events[j]) == t), None)
        if i is None:
            continue
        e = events[i]
        waits[t] = (i, "join", e.get("target")) if e["k"] == "join" else (i, "lock", e.get("obj"))
    edges: dict[Thread, list[Thread]] = {}
    for t, (_, how, what) in waits.items():
        edges[t] = [(proc, what)] if how == "join" else list(holders.get(what, []))
    order = [(proc, b["th"]) for b in blocked]
    cycle = _cycle(order, edges)
    lanes = list(cycle)
    for t in order:  # then who waits for the threads already drawn
        if len(lanes) >= MAX_LANES:
            break
        if t not in lanes and any(d in lanes for d in edges.get(t, ())):
            lanes.append(t)
    for t in order:
        if len(lanes) >= MAX_LANES:
            break
        if t not in lanes:
            lanes.append(t)
    bld = _Builder(events)
    for t in lanes:
        bld.lane(t, names.get(t, f"thread {t[1]}"))
    objects = _objects(events)
    acquired: dict[tuple[Thread, int], int] = {}
    for h in holdings:
        if h.thread not in lanes:
            continue
        name = _obj_name(h.hold.kind, h.hold.obj)
        acquired[(h.thread, h.hold.obj)] = bld.mark(h.hold.since, h.thread, "acquire",
                                                    Msg(f"{name} を取得", f"acquire {name}"))
        made = (objects.get(h.hold.key) or {}).get("ln")
        bld.span(h.thread, h.hold.since, None, "hold",
                 Msg(f"{name} を保持" + (f"（{made}行目で作成）" if made else ""),
                     f"{name} held" + (f" (made at line {made})" if made else "")))
    waiting: dict[Thread, int] = {}
    for t in lanes:
        if t not in waits:
            continue
        i, how, what = waits[t]
        e = events[i]
        if how == "join":
            target = names.get((proc, what)) or f"thread {what}"
            label = Msg(f"{target} の終了を待つ", f"join: waits for {target}")
        else:
            name = _obj_name(e.get("kind"), what)
            held_by = [names.get(h, f"thread {h[1]}") for h in holders.get(what, [])]
            label = Msg(f"{name} を待つ", f"waits for {name}")
            if held_by:  # on the bar (its tooltip and the text version): the arrow says it in the picture
                bar = Msg(f"{label.ja}（{'、'.join(held_by)} が保持中）", f"{label.en} (held by {', '.join(held_by)})")
            else:
                bar = label
        waiting[t] = bld.mark(i, t, "wait", label, lost=t in cycle)
        bld.span(t, i, None, "wait", label if how == "join" else bar)
    for t, m in waiting.items():
        if cycle and t not in cycle:  # the cycle's arrows alone: the others' labels say what they wait for
            continue
        i, how, what = waits[t]
        targets = [(proc, what)] if how == "join" else holders.get(what, [])
        for d in targets:
            if d not in lanes:
                continue
            dst = acquired.get((d, what)) if how == "lock" else waiting.get(d)
            if dst is None:
                dst = waiting.get(d)
            if dst is not None:
                bld.link(m, dst, "waits", Msg("待つ", "waits for"))
    left = [t for t in order if t not in lanes]
    notes = []
    if left:
        shown = ", ".join(names[t] for t in left[:3]) + (" …" if len(left) > 3 else "")
        notes.append(Msg(f"ほかに {len(left)} スレッドも止まっています（図では省略）: {shown}",
                         f"{len(left)} more thread(s) are stuck too (not drawn): {shown}"))
    if len(cycle) == 1:
        who = names.get(cycle[0], "?")
        caption = Msg(f"デッドロック: {who} は自分がすでに持っている Lock を待っています",
                      f"deadlock: {who} waits for a Lock it already holds itself")
    elif cycle:
        ring = " → ".join(names.get(t, "?") for t in cycle + cycle[:1])
        caption = Msg(f"デッドロック: 互いに相手の Lock を待っています（{ring}）",
                      f"deadlock: each waits for a Lock the other holds ({ring})")
    else:
        caption = Msg("デッドロック: どのスレッドも進めなくなりました", "deadlock: no thread can go on")
    return bld.build("deadlock", caption, notes=notes)


def _cycle(order: list[Thread], edges: dict[Thread, list[Thread]]) -> list[Thread]:
    """The first cycle of waits found from the threads in ``order`` (empty when there is none)."""
    for start in order:
        path: list[Thread] = []
        t = start
        while t in edges and t not in path:
            path.append(t)
            nxt = edges[t]
            if not nxt:
                break
            t = nxt[0]
        if t in path:
            return path[path.index(t):]
    return []


# ------------------------------------------------------------------------------------- join


def join_timeline(events: Sequence[dict], printed: int, running: Iterable[int], marker: str) -> Timeline:
    """Main printed ``marker`` (event index ``printed``) while threads ``running`` (vids of process
    0) had not ended: MainThread's starts and joins, the print, and those threads' lives."""
    running = sorted(set(running))
    shown = running[: MAX_LANES - 1]
    b = _Builder(events)
    main = (0, 0)
    b.lane(main, thread_label(events[printed]))
    begins: dict[int, int] = {}
    ends: dict[int, int] = {}
    spawns: dict[int, int] = {}
    for i, e in enumerate(events):
        if proc_of(e) != 0:
            continue
        if e["k"] == "spawn" and e.get("child") in shown:
            spawns.setdefault(e["child"], i)
        elif e["k"] == "begin" and e.get("th") in shown:
            begins.setdefault(e["th"], i)
        elif e["k"] == "end" and e.get("th") in shown:
            ends[e["th"]] = i
    for vid in shown:
        i = begins.get(vid, spawns.get(vid))
        if i is not None:
            b.lane((0, vid), thread_label(events[i]) if events[i].get("th") == vid else events[i].get("cn", "?"))
    for vid in shown:
        if vid in spawns:
            name = events[spawns[vid]].get("cn") or f"thread {vid}"
            b.mark(spawns[vid], main, "start", Msg(f"{name} を開始", f"start {name}"))
    started = {e.get("child"): e.get("cn") for e in events if e["k"] == "spawn" and proc_of(e) == 0}
    lo = min([*spawns.values(), *begins.values(), printed])
    for i in range(lo, printed):
        e = events[i]
        if proc_of(e) == 0 and e.get("th") == 0 and e["k"] == "join":
            name = started.get(e.get("target")) or f"thread {e.get('target')}"
            b.mark(i, main, "wait", Msg(f"{name} を join", f"join {name}"))
    b.mark(printed, main, "print", Msg(f"「{marker}」を表示", f"print 「{marker}」"), lost=True,
           note=Msg("まだ終わっていないスレッドがある", "threads still running"))
    for vid in shown:
        t = (0, vid)
        if t not in b.lanes:
            continue
        start = spawns.get(vid, begins.get(vid))  # from its start() on MainThread's lane: one row less
        end = ends.get(vid)
        write = next((i for i in range(printed + 1, end if end is not None else len(events))
                      if events[i]["k"] == "write" and tid(events[i]) == t), None)
        if write is not None:
            e = events[write]
            b.mark(write, t, "write", _write_label(_short(place(e)), e.get("val")), key=_short(place(e)),
                   value=_short(e.get("val")), note=Msg("表示のあとで書き込む", "written after the print"))
        if end is not None:
            b.mark(end, t, "end", Msg("終了", "ends"))
        b.span(t, start, end, "run", Msg("実行中", "running"))
    left = len(running) - len(shown)
    notes = []
    if left > 0:
        notes.append(Msg(f"ほかに {left} スレッドがまだ実行中でした（図では省略）",
                         f"{left} more thread(s) were still running (not drawn)"))
    first = b.names[1] if len(b.names) > 1 else "?"
    n = len(running)
    caption = Msg(f"「{marker}」を表示した時点で、{first} など {n} スレッドがまだ終わっていませんでした"
                  if n > 1 else f"「{marker}」を表示した時点で、{first} がまだ終わっていませんでした",
                  f"「{marker}」 was printed while {first}" + (f" and {n - 1} more thread(s)" if n > 1 else "")
                  + " had not ended yet")
    return b.build("join", caption, notes=notes)

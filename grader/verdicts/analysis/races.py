"""Lost updates: a write based on a stale read, and the trace that proves it."""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import Iterator, Sequence

from grader.memo import by_events
from grader.model import Msg

from ._common import at_line, en_count, fmt, place, thread_label, tid
from .shared import writes_with_basis

_CANDIDATES = 4
"""Of the writes one stale write overwrote, the first and the last few are weighed to tell it
simply: the plainest telling is among them, and weighing all would cost the square of a long run."""
_LOOKED_AT = 32
"""Of the writes made since a stale read, the first and the last this many are looked at (a write
overwrote them all; telling it needs one): each write costs at most this, whatever the run."""


@dataclass(frozen=True)
class Step:
    """One read or write of the shared dict, as shown in a trace."""

    at: int
    """Index in the event list (the global order)."""
    n: int | None
    proc: int
    th: int
    tn: str
    op: str
    """``read`` or ``write``."""
    key: object
    val: object
    ln: int | None
    missing: bool = False
    """A read of an absent key that got a default (``defaultdict``, ``dict.get``)."""
    via: str | None = None
    """How the access was made: ``[]`` (``d[k]``), ``in`` (a check), ``get``, ``append``..."""
    sp: str | None = None
    """The kind of location: None (an item), ``a`` (an attribute), ``g`` (a global), ``c`` (the
    contents of a container as a whole)."""
    label: str | None = None
    """How the program names the object (``cnt_dct``); None when not known."""
    place: str = ""
    """The location as the program names it (``cnt_dct['くさ']``, ``src.balance``)."""
    obj: object = None
    ty: str = ""
    """The type of the object (``dict``, ``Account``), when known."""
    unit: str = "thread"
    """``process`` for the steps of ``process_view`` (processes in the place of threads)."""

    @classmethod
    def of(cls, at: int, e: dict) -> "Step":
        p, th = tid(e)
        return cls(at, e.get("n"), p, th, thread_label(e), e["k"], e.get("key"), e.get("val"),
                   e.get("ln"), bool(e.get("missing")), e.get("op"), e.get("sp"), e.get("lbl"), place(e),
                   e.get("obj"), str(e.get("ty") or ""), e.get("unit") or "thread")

    @property
    def which(self) -> str:
        """The object itself, for a trace that names it in two ways: ``Account #2``."""
        return f"{self.ty or 'object'} #{self.obj}"


@dataclass(frozen=True)
class LostUpdate:
    """Thread X read ``key``, another thread wrote it, then X wrote it from its stale read.

    The other thread's write (``lost``, one or more) is overwritten: its update is lost.
    ``steps`` are the events that prove it, in order: the lost writers' own reads (when they
    read before writing), X's read, the lost writes and X's write.
    """

    proc: int
    obj: int
    key: object
    read: Step
    """X's read, the stale value its write is based on."""
    write: Step
    """X's write, which overwrites the lost update(s)."""
    lost: tuple[Step, ...]
    """The writes of other threads that X's write overwrote."""
    lost_reads: tuple[Step | None, ...]
    """For each of ``lost``, the read its thread based it on (None for a blind write)."""
    steps: tuple[Step, ...]

    @property
    def thread(self) -> str:
        return self.write.tn

    @property
    def switches(self) -> int:
        """Thread switches along ``steps``: how hard the interleaving is to follow."""
        return sum(1 for a, b in zip(self.steps, self.steps[1:]) if (a.proc, a.th) != (b.proc, b.th))

    @property
    def evident(self) -> bool:
        """The overwritten write certainly counted: it wrote another value than the one written
        over it, or both threads computed the same new value from the same value they read (two
        increments from one base), or both added one element to a container after checking it
        was not there (a duplicate). Not evident: two threads that found a key missing both set it
        to the same start value, which loses nothing when each goes on to update it."""
        if self.write.sp == "c":
            return True
        for w, r in zip(self.lost, self.lost_reads):
            if w.val != self.write.val:
                return True
            if (r is not None and "in" not in (r.via, self.read.via) and r.val == self.read.val
                    and self.write.val != self.read.val):
                return True
        return False

    @property
    def duplicate(self) -> bool:
        """Not an overwritten value: an element two threads added to a container's contents after
        each checked it was not there."""
        return self.write.sp == "c"

    @property
    def split_check(self) -> bool:
        """The overwriting write was based on a check (``if k not in d: d[k] = 0``), not a read."""
        return self.read.via == "in"

    @property
    def lost_threads(self) -> tuple[str, ...]:
        names: list[str] = []
        for s in self.lost:
            if s.tn not in names:
                names.append(s.tn)
        return tuple(names)


def _losses(events: Sequence[dict], basis: dict[int, int | None]) -> Iterator[tuple[int, int, list[int]]]:
    """``(read, write, lost writes)`` for every write based on a stale read, in order; fills
    ``basis`` (write -> the read it was based on). One pass; each write looks back only at the
    writes made since its own read."""
    writes: dict[tuple, list[int]] = {}
    for i, e, loc, r in writes_with_basis(events):
        th = e.get("th", 0)
        basis[i] = r
        history = writes.setdefault(loc, [])
        if r is not None:
            j = bisect_right(history, r)
            since = (history[j:] if len(history) - j <= 2 * _LOOKED_AT
                     else history[j:j + _LOOKED_AT] + history[-_LOOKED_AT:])
            lost = [w for w in since if events[w].get("th", 0) != th]
            if lost and loc[2] == "c":
                # A container's contents: appends of other elements lose nothing; the conflict is
                # the element this thread checked for, added by another meanwhile (a duplicate).
                val = e.get("val")
                lost = [w for w in lost if events[w].get("val") == val == events[r].get("val")]
            if lost:
                yield r, i, lost
        history.append(i)


def _lost_update(events, basis, r: int, i: int, lost: list[int]) -> LostUpdate:
    e = events[i]
    at = {r, i, *lost}
    at.update(basis[w] for w in lost if basis.get(w) is not None)
    steps = tuple(Step.of(j, events[j]) for j in sorted(at))
    return LostUpdate(tid(e)[0], e.get("obj"), e.get("key"), Step.of(r, events[r]), Step.of(i, e),
                      tuple(Step.of(w, events[w]) for w in lost),
                      tuple(None if basis.get(w) is None else Step.of(basis[w], events[basis[w]]) for w in lost),
                      steps)


def lost_updates(events: Sequence[dict]) -> list[LostUpdate]:
    """Every lost update, in the order of the write that lost it (the first is the clearest).

    Within one process: for a write by thread X of a location, X's last read of it since its
    previous write of it is its basis; every write of the location by another thread between that
    read and X's write is overwritten by a value computed without it.
    """
    basis: dict[int, int | None] = {}
    return [_lost_update(events, basis, r, i, lost) for r, i, lost in _losses(events, basis)]


def simplest(lu: LostUpdate) -> LostUpdate:
    """``lu`` told with one lost write only, the one whose steps need the fewest thread switches:
    the two reads (or the check), the two writes, nothing else."""
    best = None
    for w, r in zip(lu.lost, lu.lost_reads):
        steps = tuple(sorted({lu.read, lu.write, w} | ({r} if r is not None else set()), key=lambda s: s.at))
        one = LostUpdate(lu.proc, lu.obj, lu.key, lu.read, lu.write, (w,), (r,), steps)
        rank = (not one.evident, one.switches, len(steps), w.at)
        if best is None or rank < best[0]:
            best = (rank, one)
    return best[1] if best is not None else lu


def _evident(events, r: int, i: int, w: int, rw: int | None) -> bool:
    """``LostUpdate.evident`` for one lost write, on the events themselves."""
    write, lost, read = events[i], events[w], events[r]
    if write.get("sp") == "c" or lost.get("val") != write.get("val"):
        return True
    if rw is None:
        return False
    base = events[rw]
    return ("in" not in (base.get("op"), read.get("op")) and base.get("val") == read.get("val")
            and write.get("val") != read.get("val"))


@by_events
def simplest_loss(events: Sequence[dict]) -> LostUpdate | None:
    """Of a run's lost updates, the one told with the fewest thread switches (then the earliest),
    an evident one first. Linear in the run's accesses: the tellings are weighed on the events,
    and only the best is built."""
    basis: dict[int, int | None] = {}
    best = None
    for r, i, lost in _losses(events, basis):
        weighed = lost if len(lost) <= 2 * _CANDIDATES else lost[:_CANDIDATES] + lost[-_CANDIDATES:]
        for w in weighed:
            rw = basis.get(w)
            at = sorted({r, i, w} | ({rw} if rw is not None else set()))
            threads = [tid(events[j]) for j in at]
            switches = sum(1 for a, b in zip(threads, threads[1:]) if a != b)
            rank = (not _evident(events, r, i, w, rw), switches, len(at), i, w)
            if best is None or rank < best[0]:
                best = (rank, r, i, w)
        if best[0][:3] == (False, 2, 3):
            break  # evident, two switches, three steps: nothing later can be plainer
    if best is None:
        return None
    _, r, i, w = best
    return simplest(_lost_update(events, basis, r, i, [w]))


_EN_NUMBERS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight",
               9: "nine", 10: "ten"}


def _what(step: Step) -> Msg:
    """The location of a step as the program names it (``cnt['くさ']``, ``src.balance``, the
    global ``cnt``); the key alone when the object's name is not known."""
    if step.sp == "g":
        return Msg(f"グローバル変数 {step.key}", f"the global {step.key}")
    if step.label is None and step.sp is None:
        return Msg.same(fmt(step.key))
    return Msg.same(step.place)


def _container(step: Step) -> Msg:
    return Msg.same(step.label) if step.label else Msg("辞書", "the dict")


def describe_step(step: Step) -> Msg:
    """``Thread-3 (counter) read cnt['くさ'] = 1 (line 19)`` / ``Thread-3 (counter) が cnt['くさ'] = 1 を読む (19行目)``."""
    key, val, line, tn = fmt(step.key), fmt(step.val), at_line(step.ln), step.tn
    if step.sp == "c":  # a container's contents as a whole: membership, append, remove...
        box = step.label or "?"
        if step.op == "read" and step.via == "in":
            if step.missing:
                return Msg(f"{tn} が {val} は {box} にないと確かめる{line.ja}", f"{tn} checked: {val} not in {box}{line.en}")
            return Msg(f"{tn} が {val} は {box} にあると確かめる{line.ja}", f"{tn} checked: {val} in {box}{line.en}")
        if step.op == "read":
            return Msg(f"{tn} が {box} を調べる（{step.via}）{line.ja}", f"{tn} looked through {box} ({step.via}){line.en}")
        if step.via in ("append", "appendleft", "insert"):
            return Msg(f"{tn} が {box} に {val} を追加する{line.ja}", f"{tn} added {val} to {box} ({step.via}){line.en}")
        return Msg(f"{tn} が {box} を変更する（{step.via}）{line.ja}", f"{tn} changed {box} ({step.via}){line.en}")
    what = _what(step)
    if step.op == "read" and step.via == "in":
        box = _container(step)
        if step.missing:
            return Msg(f"{tn} が {key} は {box.ja} にないと確かめる{line.ja}",
                       f"{tn} checked: {key} not in {box.en}{line.en}")
        return Msg(f"{tn} が {key} は {box.ja} にある（= {val}）と確かめる{line.ja}",
                   f"{tn} checked: {key} in {box.en} (= {val}){line.en}")
    if step.op == "read":
        missing = Msg("", "")
        if step.missing:
            missing = (Msg("（属性がまだなく既定値）", " (no such attribute yet: the default)") if step.sp == "a"
                       else Msg("（キーがまだなく既定値）", " (not in the dict yet: the default)"))
        return Msg(f"{tn} が {what.ja} = {val} を読む{missing.ja}{line.ja}",
                   f"{tn} read {what.en} = {val}{missing.en}{line.en}")
    if step.via in ("del", "pop", "delattr"):
        return Msg(f"{tn} が {what.ja} を削除する{line.ja}", f"{tn} deleted {what.en}{line.en}")
    return Msg(f"{tn} が {what.ja} = {val} を書く{line.ja}", f"{tn} wrote {what.en} = {val}{line.en}")


def how_lost(lu: LostUpdate) -> Msg:
    """How ``lu`` loses its update, in one sentence without the count: ``2つのスレッドが同じ値
    cnt['くさ']=0 を読んでから書き込みました`` / ``two threads read cnt['くさ']=0 before either wrote``
    (processes, where the steps are processes')."""
    unit_ja, unit_en = ("プロセス", "process") if lu.read.unit == "process" else ("スレッド", "thread")
    val = fmt(lu.read.val)
    what = _what(lu.write)
    if _named_apart(lu):
        what = Msg(f"{what.ja}（{lu.write.which}）", f"{what.en} ({lu.write.which})")
    wv = f"{what.ja}={fmt(lu.write.val)}", f"{what.en}={fmt(lu.write.val)}"
    if lu.split_check:
        others, wrote = lu.lost_threads, lu.lost[-1]
        if lu.read.sp == "c":
            box = lu.read.label or "?"
            return Msg(
                f"{lu.read.tn} が {val} は {box} にないと確かめてから追加するまでの間に {'、'.join(others)} が"
                f" {val} を {box} に追加し、{lu.read.tn} も追加しました（確認と追加が分かれていて、その間に他の{unit_ja}が入れます）",
                f"{lu.read.tn} checked that {val} was not in {box}, then {_en_list(others)} added {val}"
                f" before {lu.read.tn} added it too (the check and the add were split: another {unit_en} got in between)")
        key, box = fmt(lu.key), _container(lu.read)
        return Msg(
            f"{lu.read.tn} が {key} が {box.ja} にないことを確かめてから書き込むまでの間に"
            f" {'、'.join(others)} が {what.ja}={fmt(wrote.val)} を書き込み、{lu.read.tn} の {wv[0]}"
            f" がそれを上書きしました（確認と書き込みが分かれていて、その間に他の{unit_ja}が入れます）",
            f"{lu.read.tn} checked that {key} was not in {box.en}, then {_en_list(others)} wrote"
            f" {what.en}={fmt(wrote.val)} before {lu.read.tn} wrote {wv[1]} over it"
            f" (the check and the write were split: another {unit_en} got in between)")
    same_value = [lu.read.tn]
    for r in lu.lost_reads:
        if r is not None and r.val == lu.read.val and r.tn not in same_value:
            same_value.append(r.tn)
    if len(same_value) >= 2:
        count = len(same_value)
        word = _EN_NUMBERS.get(count, str(count))
        either = "either" if count == 2 else "any of them"
        return Msg(f"{count}つの{unit_ja}が同じ値 {what.ja}={val} を読んでから書き込みました",
                   f"{word} {unit_en}es read {what.en}={val} before {either} wrote" if unit_en == "process"
                   else f"{word} threads read {what.en}={val} before {either} wrote")
    others = lu.lost_threads
    wrote = lu.lost[-1]
    return Msg(
        f"{lu.read.tn} が {what.ja}={val} を読んでから書き込むまでの間に"
        f" {'、'.join(others)} が {what.ja}={fmt(wrote.val)} を書き込み、それが上書きされました",
        f"{lu.read.tn} read {what.en}={val}, then {_en_list(others)} wrote"
        f" {what.en}={fmt(wrote.val)} before {lu.read.tn} wrote over it")


def describe_lost_update(lu: LostUpdate) -> tuple[Msg, tuple[Msg, ...]]:
    """A one-line summary of ``lu`` and its trace, one ``Msg`` per step.

    Summary: ``更新が1回失われました: 2つのスレッドが同じ値 くさ=1 を読んでから書き込みました`` /
    ``one update was lost: two threads read くさ=1 before either wrote`` (the count is this
    interleaving's). The last step names the thread(s) whose update is lost.
    """
    n_lost = len(lu.lost)
    how = how_lost(lu)
    if lu.duplicate:
        return Msg(f"要素が重複しました: {how.ja}", f"an element was added twice: {how.en}"), _trace(lu)
    lost_en = f"{en_count(n_lost, 'update')} {'was' if n_lost == 1 else 'were'} lost"
    return Msg(f"更新が{n_lost}回失われました: {how.ja}", f"{lost_en}: {how.en}"), _trace(lu)


def _named_apart(lu: LostUpdate) -> bool:
    """Do the steps of ``lu`` name its one location in different ways (``src.balance`` here,
    ``dst.balance`` there: one object reached through two variables)?"""
    return len({s.place for s in lu.steps if s.sp != "g"}) > 1


def _trace(lu: LostUpdate) -> tuple[Msg, ...]:
    trace = [describe_step(s) for s in lu.steps]
    if _named_apart(lu):
        trace = [Msg(f"{m.ja} [{s.which}]", f"{m.en} [{s.which}]") for m, s in zip(trace, lu.steps)]
    names = lu.lost_threads
    if lu.write.sp == "c":
        box, val = lu.write.label or "?", fmt(lu.write.val)
        tail = Msg(f" — {val} が {box} に2つ入った", f" — {val} is in {box} twice now")
    elif len(names) == 1:
        tail = Msg(f" — {names[0]} の更新が失われた", f" — {names[0]}'s update is lost")
    else:
        tail = Msg(f" — {'、'.join(names)} の更新が失われた", f" — the updates of {_en_list(names)} are lost")
    last = trace[-1]
    trace[-1] = Msg(last.ja + tail.ja, last.en + tail.en)
    return tuple(trace)


def _en_list(names: Sequence[str]) -> str:
    names = list(names)
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]

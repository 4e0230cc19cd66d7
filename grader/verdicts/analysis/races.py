"""Lost updates: a write based on a stale read, and the trace that proves it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from grader.model import Msg

from ._common import at_line, en_count, fmt, thread_label, tid
from .dicts import _hashable


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
    """How a read was made: ``[]`` (``d[k]``), ``in`` (a check) or ``get``."""

    @classmethod
    def of(cls, at: int, e: dict) -> "Step":
        p, th = tid(e)
        return cls(at, e.get("n"), p, th, thread_label(e), e["k"], e.get("key"), e.get("val"),
                   e.get("ln"), bool(e.get("missing")), e.get("op"))


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
        increments from one base). Not evident: two threads that found a key missing both set it
        to the same start value, which loses nothing when each goes on to update it."""
        for w, r in zip(self.lost, self.lost_reads):
            if w.val != self.write.val:
                return True
            if (r is not None and "in" not in (r.via, self.read.via) and r.val == self.read.val
                    and self.write.val != self.read.val):
                return True
        return False

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


def lost_updates(events: Sequence[dict]) -> list[LostUpdate]:
    """Every lost update, in the order of the write that lost it (the first is the clearest).

    Within one process: for a write by thread X of ``(obj, key)``, X's last read of that item
    since its previous write of it is its basis; every write of the item by another thread
    between that read and X's write is overwritten by a value computed without it.
    """
    pending: dict[tuple, int] = {}
    basis: dict[int, int | None] = {}
    writes: dict[tuple, list[int]] = {}
    out: list[LostUpdate] = []
    for i, e in enumerate(events):
        k = e["k"]
        if k not in ("read", "write"):
            continue
        p, th = tid(e)
        item = (p, e.get("obj"), _hashable(e.get("key")))
        if k == "read":
            pending[(item, th)] = i
            continue
        r = pending.pop((item, th), None)
        basis[i] = r
        history = writes.setdefault(item, [])
        if r is not None:
            lost = [w for w in history if w > r and tid(events[w])[1] != th]
            if lost:
                at = {r, i, *lost}
                at.update(basis[w] for w in lost if basis[w] is not None)
                steps = tuple(Step.of(j, events[j]) for j in sorted(at))
                out.append(LostUpdate(
                    p, e.get("obj"), e.get("key"), Step.of(r, events[r]), Step.of(i, e),
                    tuple(Step.of(w, events[w]) for w in lost),
                    tuple(None if basis[w] is None else Step.of(basis[w], events[basis[w]]) for w in lost),
                    steps))
        history.append(i)
    return out


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


def simplest_loss(events: Sequence[dict]) -> LostUpdate | None:
    """Of a run's lost updates, the one told with the fewest thread switches (then the earliest),
    an evident one first."""
    found = [simplest(lu) for lu in lost_updates(events)]
    return min(found, key=lambda lu: (not lu.evident, lu.switches, len(lu.steps), lu.write.at), default=None)


_EN_NUMBERS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight",
               9: "nine", 10: "ten"}


def describe_step(step: Step) -> Msg:
    """``Thread-3 (counter) read くさ = 1 (line 19)`` / ``Thread-3 (counter) が くさ = 1 を読む (19行目)``."""
    key, val, line = fmt(step.key), fmt(step.val), at_line(step.ln)
    if step.op == "read" and step.via == "in":
        if step.missing:
            return Msg(f"{step.tn} が {key} は辞書にないと確かめる{line.ja}",
                       f"{step.tn} checked: {key} not in the dict{line.en}")
        return Msg(f"{step.tn} が {key} は辞書にある（= {val}）と確かめる{line.ja}",
                   f"{step.tn} checked: {key} in the dict (= {val}){line.en}")
    if step.op == "read":
        missing = Msg("（キーがまだなく既定値）", " (not in the dict yet: the default)") if step.missing else Msg("", "")
        return Msg(f"{step.tn} が {key} = {val} を読む{missing.ja}{line.ja}",
                   f"{step.tn} read {key} = {val}{missing.en}{line.en}")
    return Msg(f"{step.tn} が {key} = {val} を書く{line.ja}", f"{step.tn} wrote {key} = {val}{line.en}")


def describe_lost_update(lu: LostUpdate) -> tuple[Msg, tuple[Msg, ...]]:
    """A one-line summary of ``lu`` and its trace, one ``Msg`` per step.

    Summary: ``更新が1回失われました: 2つのスレッドが同じ値 くさ=1 を読んでから書き込みました`` /
    ``one update was lost: two threads read くさ=1 before either wrote``. The last step names
    the thread(s) whose update is lost.
    """
    key, val = fmt(lu.key), fmt(lu.read.val)
    n_lost = len(lu.lost)
    lost_en = f"{en_count(n_lost, 'update')} {'was' if n_lost == 1 else 'were'} lost"
    lost_ja = f"更新が{n_lost}回失われました"
    if lu.split_check:
        others, wrote = lu.lost_threads, lu.lost[-1]
        summary = Msg(
            f"{lost_ja}: {lu.read.tn} が {key} が辞書にないことを確かめてから書き込むまでの間に"
            f" {'、'.join(others)} が {key}={fmt(wrote.val)} を書き込み、{lu.read.tn} の {key}={fmt(lu.write.val)}"
            " がそれを上書きしました（確認と書き込みが分かれていて、その間に他のスレッドが入れます）",
            f"{lost_en}: {lu.read.tn} checked that {key} was not in the dict, then {_en_list(others)} wrote"
            f" {key}={fmt(wrote.val)} before {lu.read.tn} wrote {key}={fmt(lu.write.val)} over it"
            " (the check and the write were split: another thread got in between)")
        return summary, _trace(lu)
    same_value = [lu.read.tn]
    for r in lu.lost_reads:
        if r is not None and r.val == lu.read.val and r.tn not in same_value:
            same_value.append(r.tn)
    if len(same_value) >= 2:
        count = len(same_value)
        word = _EN_NUMBERS.get(count, str(count))
        either = "either" if count == 2 else "any of them"
        summary = Msg(f"{lost_ja}: {count}つのスレッドが同じ値 {key}={val} を読んでから書き込みました",
                      f"{lost_en}: {word} threads read {key}={val} before {either} wrote")
    else:
        others = lu.lost_threads
        wrote = lu.lost[-1]
        summary = Msg(
            f"{lost_ja}: {lu.read.tn} が {key}={val} を読んでから書き込むまでの間に"
            f" {'、'.join(others)} が {key}={fmt(wrote.val)} を書き込み、それが上書きされました",
            f"{lost_en}: {lu.read.tn} read {key}={val}, then {_en_list(others)} wrote"
            f" {key}={fmt(wrote.val)} before {lu.read.tn} wrote over it")
    return summary, _trace(lu)


def _trace(lu: LostUpdate) -> tuple[Msg, ...]:
    trace = [describe_step(s) for s in lu.steps]
    names = lu.lost_threads
    if len(names) == 1:
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

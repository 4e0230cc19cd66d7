"""Locks and semaphores around the shared dict: the ``lock`` and ``semaphore`` checks' evidence."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from grader.model import Failure, Msg

from ._common import SEMAPHORE_KINDS, fmt, place_msg, tid
from .shared import RMW, rmw_windows
from .holds import HoldTracker, held_locks, sync_objects

EXPECTED_LOCK = Msg(
    "全スレッドで共有する1つのLockを、共有データ（辞書の値・リストの要素・属性・グローバル変数）を読んでから"
    "書き込むまでずっと持っていること",
    "one Lock, shared by all threads, held from each read of shared state (a dict's item, a list's element, "
    "an attribute, a global) to the write that follows it",
)


@dataclass(frozen=True)
class LockVerdict:
    """The answer to the ``lock`` check: does one Lock guard every read-modify-write?

    ``reason`` is one of ``one_lock`` (passes), ``per_key`` (passes only with ``per_key_ok``),
    ``no_rmw``, ``unguarded``, ``released_between``, ``acquired_after_read``, ``semaphore``,
    ``lock_per_thread``, ``different_locks``.
    """

    ok: bool
    reason: str
    summary: Msg
    expected: Msg = EXPECTED_LOCK
    observed: Msg | None = None
    where: Msg | None = None
    lock: tuple[int, int] | None = None
    """``(proc, obj)`` of the Lock guarding everything, when there is one."""
    rmw: RMW | None = None
    """The read-modify-write that shows the problem."""
    locks: tuple[tuple[int, int], ...] = ()
    """The sync objects involved in the problem (``lock_per_thread``, ``different_locks``...)."""

    def failure(self, trace: tuple[Msg, ...] = (), replay: str | None = None) -> Failure | None:
        """This verdict as a check ``Failure`` (None when it passed)."""
        if self.ok:
            return None
        return Failure(self.summary, self.expected, self.observed, self.where, trace, replay)


def _line(ln) -> tuple[str, str]:
    return (f"{ln}行目", f"line {ln}") if ln else ("?行目", "line ?")


def _span(r: RMW) -> Msg:
    rj, re_ = _line(r.read_line)
    wj, we = _line(r.write_line)
    return Msg(f"{rj} → {wj}（{r.tn}）", f"{re_} → {we} ({r.tn})")


def _name(info: dict | None, kind: str) -> Msg:
    """``33行目で作ったLock`` / ``the Lock created at line 33``."""
    ln = (info or {}).get("ln")
    if ln:
        return Msg(f"{ln}行目で作った{kind}", f"the {kind} created at line {ln}")
    return Msg(kind, f"a {kind}")


def _concurrent_rmws(events: Sequence[dict], rmws: list[RMW]) -> list[RMW]:
    """Drop MainThread's read-modify-writes made while no other thread of its process was alive."""
    alive: dict[tuple[int, int], list[float]] = {}
    for i, e in enumerate(events):
        p = tid(e)[0]
        if e["k"] == "spawn" and e.get("child") is not None:
            alive.setdefault((p, e["child"]), [i, float("inf")])
        elif e["k"] == "begin" and e.get("th", 0) != 0:
            alive.setdefault(tid(e), [i, float("inf")])
        elif e["k"] == "end":
            alive.setdefault(tid(e), [0, i])[1] = i
    kept = []
    for r in rmws:
        if r.th != 0 or any(t[0] == r.proc and t[1] != 0 and s <= r.write_at and end >= r.read_at
                            for t, (s, end) in alive.items()):
            kept.append(r)
    return kept


def lock_verdict(events: Sequence[dict], per_key_ok: bool = False) -> LockVerdict:
    """Is ONE Lock (or RLock) held across every read-modify-write of every shared dict?

    Only dicts written by two threads or more count, and MainThread's read-modify-writes only
    while another thread is alive. When no single lock guards them all, the verdict says why,
    looking first at the first unguarded read-modify-write: the lock was released between the
    read and the write (or taken only after the read), a Semaphore guards it instead of a Lock,
    or nothing guards it; when each is guarded but by different locks: a Lock created per
    thread (several Locks, each acquired by one thread only) or simply different locks.
    ``per_key_ok`` also accepts one common lock per dict item (a lock per type).
    """
    holds = held_locks(events)
    rmws = _concurrent_rmws(events, rmw_windows(events, only_shared=True))
    objects = sync_objects(events)
    if not rmws:
        return LockVerdict(False, "no_rmw", Msg(
            "複数のスレッドが共有するデータを読んでから書き込むスレッドが見つからず、Lockの使い方を判定できません",
            "no thread read and then wrote state that other threads share, so there is no read-modify-write "
            "for a Lock to guard"))
    common = frozenset.intersection(*(frozenset(h.key for h in r.lock_guards) for r in rmws))
    if common:
        lock = min(common)
        name = _name(objects.get(lock), next(h.kind for h in rmws[0].lock_guards if h.key == lock))
        return LockVerdict(True, "one_lock", Msg(
            f"1つのLock（{name.ja}）が全スレッドの読み書きを守っています",
            f"one Lock ({name.en}) guards every read-modify-write of every thread"), lock=lock)

    bare = [r for r in rmws if not r.lock_guards]
    if bare:
        return _unguarded(events, holds, objects, rmws, bare)

    guards = sorted({h.key for r in rmws for h in r.lock_guards})
    acquirers: dict[tuple[int, int], set[tuple[int, int]]] = {}
    for e in events:
        if e["k"] == "acq":
            acquirers.setdefault((tid(e)[0], e.get("obj")), set()).add(tid(e))
    a, b = _two_apart(rmws)
    lines = sorted({objects[g].get("ln") for g in guards if g in objects and objects[g].get("ln")})
    if len(guards) >= 2 and all(len(acquirers.get(g, ())) == 1 for g in guards):
        if lines:
            at = "、".join(f"{ln}行目" for ln in lines), ", ".join(str(ln) for ln in lines)
            where = Msg(f"{at[0]}の threading.Lock() がスレッドごとに実行されています。Lockはスレッドを起動する前に"
                        "1回だけ作り、同じものを全スレッドに渡してください",
                        f"threading.Lock() at line {at[1]} runs once per thread: create the Lock once, before "
                        "starting the threads, and pass that same Lock to every thread")
        else:
            where = Msg("Lockはスレッドを起動する前に1回だけ作り、同じものを全スレッドに渡してください",
                        "create the Lock once, before starting the threads, and pass that same Lock to every thread")
        return LockVerdict(False, "lock_per_thread", Msg(
            f"スレッドごとに別のLockを使っています（{len(guards)}個）: 互いを排除しないので更新が失われます",
            f"each thread uses its own Lock ({len(guards)} different Lock objects), so they do not exclude each other"),
            observed=Msg(
                f"{a.tn} と {b.tn} はそれぞれ自分のLockを持ったまま、同時に {_keys(a, b).ja} を読み書きできます",
                f"{a.tn} and {b.tn} each hold a Lock of their own while updating {_keys(a, b).en},"
                " so both can be inside at once"),
            where=where, rmw=b, locks=tuple(guards))

    if per_key_ok:
        groups: dict[tuple, list[RMW]] = {}
        for r in rmws:
            groups.setdefault(r.location, []).append(r)
        if all(frozenset.intersection(*(frozenset(h.key for h in r.lock_guards) for r in g)) for g in groups.values()):
            return LockVerdict(True, "per_key", Msg(
                "キーごとに1つのLockが、そのキーのすべての読み書きを守っています",
                "one Lock per key guards every read-modify-write of that key"), locks=tuple(guards))

    ga = min(a.lock_guards, key=lambda h: h.key)
    gb = min((h for h in b.lock_guards if h.key not in {g.key for g in a.lock_guards}), key=lambda h: h.key,
             default=min(b.lock_guards, key=lambda h: h.key))
    na, nb = _name(objects.get(ga.key), ga.kind), _name(objects.get(gb.key), gb.kind)
    return LockVerdict(False, "different_locks", Msg(
        f"読んで書く処理が{len(guards)}個の異なるLockで守られていて、全スレッドに共通の1つのLockがありません",
        f"the read-modify-writes are guarded by {len(guards)} different Locks, not by one Lock shared by all threads"),
        observed=Msg(f"{a.tn} は {na.ja} を、{b.tn} は {nb.ja} を持って {_keys(a, b).ja} を読み書きしています",
                     f"{a.tn} held {na.en} and {b.tn} held {nb.en} while updating {_keys(a, b).en}"),
        where=Msg(f"{_span(a).ja}、{_span(b).ja}", f"{_span(a).en}; {_span(b).en}"),
        rmw=b, locks=tuple(guards))


def _keys(a: RMW, b: RMW) -> Msg:
    ka, kb = place_msg(a.write), place_msg(b.write)
    return ka if ka == kb else Msg(f"{ka.ja} / {kb.ja}", f"{ka.en} / {kb.en}")


def _two_apart(rmws: list[RMW]) -> tuple[RMW, RMW]:
    """Two read-modify-writes of different threads sharing no lock (the same location if possible,
    the earliest such pair otherwise). Each is compared with the first few of every other thread
    and lock set: linear in the windows."""
    def apart(a: RMW, b: RMW) -> bool:
        return a.thread != b.thread and not ({h.key for h in a.lock_guards} & {h.key for h in b.lock_guards})

    seen: dict[tuple, list[RMW]] = {}     # location -> one window per (thread, lock set)
    anywhere: list[RMW] = []              # the same, whatever the location
    fallback = None
    for b in rmws:
        sig = (b.thread, frozenset(h.key for h in b.lock_guards))
        mine = seen.setdefault(b.location, [])
        for a in mine:
            if apart(a, b):
                return a, b
        if fallback is None:
            fallback = next(((a, b) for a in anywhere if apart(a, b)), None)
        if all((a.thread, frozenset(h.key for h in a.lock_guards)) != sig for a in mine):
            mine.append(b)
        if all((a.thread, frozenset(h.key for h in a.lock_guards)) != sig for a in anywhere):
            anywhere.append(b)
    return fallback or (rmws[0], rmws[-1])


def _unguarded(events, holds, objects, rmws: list[RMW], bare: list[RMW]) -> LockVerdict:
    r = bare[0]
    what, val = place_msg(r.write), fmt(r.read.get("val"))
    kj, ke = what.ja, what.en
    rj, re_ = _line(r.read_line)
    wj, we = _line(r.write_line)
    released = [h for h in holds[r.read_at] if h.is_lock and h not in holds[r.write_at]]
    if released:
        h = released[0]
        rel = next((events[i] for i in range(r.read_at + 1, r.write_at + 1)
                    if events[i]["k"] == "rel" and events[i].get("obj") == h.obj and tid(events[i])[0] == h.proc),
                   None)
        lj, le = _line(rel.get("ln") if rel else None)
        name = _name(objects.get(h.key), h.kind)
        return LockVerdict(False, "released_between", Msg(
            f"{r.tn} が {kj} を読んでから書き込むまでの間にロックを解放しました",
            f"{r.tn} released the lock between reading {ke} and writing it"),
            observed=Msg(f"{name.ja}を{lj}で解放してから、{rj}で読んだ古い値 {kj}={val} をもとに{wj}で書き込んでいます",
                         f"{name.en} is released at {le}, then the write at {we} uses the value read at {re_}"
                         f" ({ke} = {val}), which another thread may have changed meanwhile"),
            where=_span(r), rmw=r, locks=(h.key,))
    late = [h for h in holds[r.write_at] if h.is_lock and h not in holds[r.read_at]]
    if late:
        h = late[0]
        lj, le = _line(h.ln)
        name = _name(objects.get(h.key), h.kind)
        return LockVerdict(False, "acquired_after_read", Msg(
            f"{r.tn} は {kj} を読んだ後でロックを取得しました",
            f"{r.tn} acquired the lock only after reading {ke}"),
            observed=Msg(f"{kj} を{rj}でロックなしに読み、{name.ja}を{lj}で取得してから{wj}で書き込んでいます",
                         f"{ke} is read at {re_} without the lock; {name.en} is acquired at {le},"
                         f" only before the write at {we}"),
            where=_span(r), rmw=r, locks=(h.key,))
    sems = sorted((h for h in r.held if h.kind in SEMAPHORE_KINDS), key=lambda h: h.key)
    if sems:
        h = sems[0]
        info = objects.get(h.key) or {}
        value = info.get("value")
        shown = f"{h.kind}({value})" if value is not None else h.kind
        if value is not None and value > 1:
            observed = Msg(f"{shown}は{value}個のスレッドを同時に通すので、2つのスレッドが同じ値を読んで書き込めます",
                           f"{shown} lets {value} threads in at once, so two of them can read the same value")
        else:
            observed = Msg(f"{shown}はここではLockのように働きますが、この課題では threading.Lock を使います",
                           f"{shown} excludes like a Lock here, but this exercise asks for threading.Lock")
        return LockVerdict(False, "semaphore", Msg(
            f"読んで書く処理を守っているのはLockではなく{shown}です",
            f"the read-modify-write is guarded by a {shown}, not a Lock"),
            observed=observed, where=_span(r), rmw=r, locks=(h.key,))
    unguarded = len(bare)
    total = len(rmws)
    extra = Msg("", "") if unguarded == total else Msg(
        f"（{total}回の読み書きのうち{unguarded}回がロックなし）",
        f" ({unguarded} of {total} read-modify-writes had no lock)")
    return LockVerdict(False, "unguarded", Msg(
        f"{r.tn} がロックを持たずに {kj} を読んで書き込みました",
        f"{r.tn} read and wrote {ke} without holding a lock"),
        observed=Msg(f"{kj} を読んでから（{rj}）書き込むまで（{wj}）、Lockを1つも持っていません{extra.ja}",
                     f"no Lock was held between the read of {ke} ({re_}) and the write ({we}){extra.en}"),
        where=_span(r), rmw=r)


def peak_inside(events: Sequence[dict]) -> tuple[int, list[str]]:
    """The most threads at once between the read and the write of a shared dict item.

    Returns that number and the names of those threads (in the order they entered) at the
    first moment it was reached; ``(0, [])`` when no thread read-modified-wrote a shared dict.
    """
    rmws = rmw_windows(events, only_shared=True)
    opens: dict[int, list[RMW]] = {}
    closes: dict[int, list[RMW]] = {}
    for r in rmws:
        opens.setdefault(r.read_at, []).append(r)
        closes.setdefault(r.write_at, []).append(r)
    inside: dict[tuple[int, int], int] = {}
    names: dict[tuple[int, int], str] = {}
    peak, at = 0, []
    for pos in sorted(set(opens) | set(closes)):
        for r in opens.get(pos, ()):
            inside[r.thread] = inside.get(r.thread, 0) + 1
            names[r.thread] = r.tn
        if len(inside) > peak:
            peak, at = len(inside), [names[t] for t in inside]
        for r in closes.get(pos, ()):
            inside[r.thread] -= 1
            if inside[r.thread] <= 0:
                del inside[r.thread]
    return peak, at


def semaphore_holders_peak(events: Sequence[dict], obj: int | None = None,
                           proc: int | None = None) -> tuple[int, list[str]]:
    """The most threads holding one Semaphore/BoundedSemaphore at once, and their names then.

    ``obj`` (with ``proc``, default any process) picks one semaphore; by default the peak is
    the highest over all semaphores. A thread holding a semaphore twice counts once.
    """
    tracker = HoldTracker()
    peak, at = 0, []
    for i, e in enumerate(events):
        tracker.step(i, e)
        if e["k"] != "acq":
            continue
        p = tid(e)[0]
        o = e.get("obj")
        kind = e.get("kind") or tracker.kinds.get((p, o), "")
        if kind not in SEMAPHORE_KINDS or (obj is not None and o != obj) or (proc is not None and p != proc):
            continue
        holders = tracker.holders(p, o)
        if len(holders) > peak:
            peak, at = len(holders), [tracker.names.get(t, f"thread {t[1]}") for t in holders]
    return peak, at


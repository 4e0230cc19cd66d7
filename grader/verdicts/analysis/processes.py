"""State shared between processes, seen as the thread analyses see threads.

A run's processes take turns on one board (``grader.engine.board``), so the file order of their
events is the order in which they touched what they share: a Manager's dict or list, a ``Value``,
an ``Array`` (``xmem``), guarded or not by a ``multiprocessing`` Lock (``xsync``). ``process_view``
turns those events into the ``read``/``write``/``acq``/``rel`` events of one process whose
"threads" are the run's processes: every building block written for threads (lost updates and
their traces, held locks, the lock verdict, the timeline) then works across processes unchanged.
A ``threading.Lock`` that each child took is kept too, as one lock *per process* (a fork copies
it: each child has its own), so the lock verdict tells one shared Lock from a copy in each.
Pure: no I/O.
"""
from __future__ import annotations

import dataclasses
from typing import Sequence

from grader.memo import by_events
from grader.model import Msg

from ._common import proc_of
from .holds import held_locks
from .sync import lock_verdict

_VIA = {"get": "get", "__getitem__": "[]", "__setitem__": "[]", "__contains__": "in", "setdefault": "get",
        "pop": "pop", "__delitem__": "del", "value": "."}
_PAIRS = 256  # of one location's reads and writes, the first this many are paired: the first race is enough
_CHECKS = 50_000  # pairs weighed in one run at most, whatever the program recorded
_COPIES = 1 << 30
"""Numbers of the per-process copies of a ``threading`` lock start here (after the shared objects)."""


def process_name(e: dict) -> str:
    """How a process is named in a trace: its ``multiprocessing`` name (``Process-3``)."""
    return str(e.get("pn") or f"process {proc_of(e)}")


@by_events
def process_view(events: Sequence[dict]) -> list[dict]:
    """The run's cross-process accesses and locks as one process's events (see the module)."""
    out: list[dict] = []
    names: dict[int, str] = {}
    made: set = set()
    for e in events:
        k, p = e["k"], proc_of(e)
        if k == "xmem" or k == "xsync":
            names[p] = process_name(e)
        base = {"n": e.get("n"), "proc": 0, "th": p, "t": e.get("t", 0.0), "ln": e.get("ln"), "unit": "process"}
        if k == "xmem":
            whole = e.get("key") is None
            ty = str(e.get("ty") or "")
            value_like = ty == "Value"
            ev = {**base, "k": e["op"], "obj": e["x"], "key": "value" if value_like else e.get("key"),
                  "val": e.get("val"), "op": _VIA.get(str(e.get("how")), str(e.get("how"))), "ty": ty,
                  "tn": names[p]}
            if value_like:
                ev["sp"] = "a"
            elif whole:
                ev["sp"] = "c"
            if e.get("lbl"):
                ev["lbl"] = e["lbl"]
            out.append(ev)
        elif k == "xsync":
            if e["x"] not in made:  # what the lock verdict knows of a sync object: its kind and count
                made.add(e["x"])
                out.append({**base, "k": "new", "obj": e["x"], "kind": e.get("kind"), "value": e.get("value"),
                            "ln": None, "tn": names[p]})
            out.append({**base, "k": e["op"], "obj": e["x"], "kind": e.get("kind"), "tn": names[p]})
        elif k in ("acq", "rel", "new") and p != 0 and isinstance(e.get("obj"), int):
            # A threading lock in a child: the child's own copy, whatever the parent made.
            obj = _COPIES + (p << 20) + e["obj"]
            out.append({**e, "proc": 0, "th": p, "obj": obj, "tn": names.get(p, f"process {p}"), "unit": "process"})
    return out


def shares_between_processes(events: Sequence[dict]) -> bool:
    """Did two processes or more touch the same shared object (a Manager's dict, a Value...)?"""
    seen: dict[int, int] = {}
    for e in events:
        if e["k"] == "xmem":
            p = proc_of(e)
            if seen.setdefault(e["x"], p) != p:
                return True
    return False


def process_races(events: Sequence[dict]) -> list[tuple[dict, dict]]:
    """Pairs ``(read, write)`` of one shared location by two processes with no ``multiprocessing``
    lock held across both (the first pair of each pair of lines): where a lost update between
    processes can happen. Each event is the run's own ``xmem`` (its ``key`` as the program gave it)."""
    raw = [e for e in events if e["k"] == "xmem"]
    parent, born, ended = _lineage(events)
    where = [i for i, e in enumerate(events) if e["k"] == "xmem"]
    view = [v for v in process_view(events) if v["k"] in ("read", "write", "acq", "rel")]
    holds = held_locks(view)
    at = [i for i, v in enumerate(view) if v["k"] in ("read", "write")]
    reads: dict[tuple, list[int]] = {}
    writes: dict[tuple, list[int]] = {}
    for j, i in enumerate(at):
        v = view[i]
        loc = (v["obj"], v.get("sp"), repr(v.get("key")))
        (reads if v["k"] == "read" else writes).setdefault(loc, []).append(j)
    out, seen = [], set()
    budget = _CHECKS
    for loc, rs in reads.items():
        found = False
        for r in rs[:_PAIRS]:
            a = view[at[r]]
            mine = {h.key for h in holds[at[r]] if h.is_lock}
            for w in writes.get(loc, ())[:_PAIRS]:
                budget -= 1
                if budget < 0:
                    return out  # planning only: a race left unseen costs a directed run, never a verdict
                b = view[at[w]]
                if a["th"] == b["th"] or mine & {h.key for h in holds[at[w]] if h.is_lock}:
                    continue
                sig = (a.get("ln"), b.get("ln"))
                if sig in seen or _ordered(a["th"], where[r], b["th"], where[w], parent, born, ended):
                    continue
                seen.add(sig)
                out.append((raw[r], raw[w]))
                found = True
                break
            if found:
                break  # one race per location is all a direction needs
    return out


def _lineage(events: Sequence[dict]) -> tuple[dict[int, int], dict[int, int], dict[int, int]]:
    """Each process's parent, the index of its first event, and of its ``exit``."""
    pid_proc: dict[int, int] = {}
    parent: dict[int, int] = {}
    born: dict[int, int] = {}
    ended: dict[int, int] = {}
    for i, e in enumerate(events):
        p = proc_of(e)
        pid_proc.setdefault(e.get("pid", 0), p)
        born.setdefault(p, i)
        if e["k"] == "proc" and e.get("ppid") in pid_proc:
            parent[p] = pid_proc[e["ppid"]]
        elif e["k"] == "exit":
            ended[p] = i
    return parent, born, ended


def _ancestor(a: int, b: int, parent: dict[int, int]) -> bool:
    seen = set()
    while b in parent and b not in seen:
        seen.add(b)
        b = parent[b]
        if b == a:
            return True
    return False


def _ordered(p: int, i: int, q: int, j: int, parent, born, ended) -> bool:
    """Are two accesses of processes ``p`` and ``q`` (at ``i``, ``j`` in the run) ordered by a fork
    (the parent's access before the child existed) or by the end of a child (its access before it
    exited, the ancestor's after)? Either order of ``i`` and ``j``."""
    if i > j:
        p, i, q, j = q, j, p, i
    return ((_ancestor(p, q, parent) and i < born.get(q, -1))
            or (_ancestor(q, p, parent) and ended.get(p, j) < j))


_WORDS = (("全スレッド", "全プロセス"), ("スレッドごと", "プロセスごと"), ("スレッドを起動", "プロセスを起動"),
          ("スレッド", "プロセス"), ("threading.Lock()", "multiprocessing.Lock()"),
          ("threading.Lock", "multiprocessing.Lock"), ("every thread", "every process"),
          ("all threads", "all processes"), ("other threads", "other processes"), ("per thread", "per process"),
          ("each thread", "each process"), ("the threads", "the processes"), ("another thread", "another process"),
          ("no thread", "no process"), ("two threads", "two processes"), (" threads", " processes"),
          (" thread", " process"))


def _in_processes(msg):
    if msg is None:
        return None
    ja, en = msg.ja, msg.en
    for a, b in _WORDS:
        if a.isascii():
            en = en.replace(a, b)
        else:
            ja = ja.replace(a, b)
    return type(msg)(ja, en)


def process_lock_verdict(events: Sequence[dict]):
    """``lock_verdict`` between the run's processes: is one ``multiprocessing`` Lock, shared by
    every process, held across each read-modify-write of what they share? Told in processes'
    words; a ``threading.Lock`` that each child holds its own copy of is named as such."""
    v = lock_verdict(process_view(events))
    if v.ok:
        return v
    changed = {f: _in_processes(getattr(v, f)) for f in ("summary", "expected", "observed", "where")}
    if v.reason == "lock_per_thread" and v.locks and all(obj >= _COPIES for _, obj in v.locks):
        changed["summary"] = Msg(
            "threading.Lock を子プロセスに渡しても、各プロセスが持つのはそのコピー（fork がメモリを複製します）です: "
            "互いを排除しないので更新が失われます",
            "a threading.Lock passed to child processes is copied into each of them (a fork copies the memory): "
            "each process holds its own copy, so they do not exclude each other")
        changed["where"] = Msg("プロセス間で共有できる multiprocessing.Lock() を親プロセスで1つ作り、全プロセスに渡してください",
                               "create one multiprocessing.Lock() in the parent, which processes do share, and pass it "
                               "to every process")
    return dataclasses.replace(v, **changed)

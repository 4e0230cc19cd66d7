"""Every record a run left, checked against the shape the engine writes, before anything reads it.

The submission runs in the same process as the engine's recorder, so a record is the child's claim:
a sealed line that says something the engine never says (an unknown field type, a thread number
of a million, a name that is not text) is not analysed, it is counted as tampering and the run fails
``runs``. The bounds also keep the parent's own time and memory in hand whatever the lines hold:
thread numbers, distinct threads, lengths of texts and lists, the depth of values. Pure: no I/O.
"""
from __future__ import annotations

import math
from typing import Callable

MAX_THREAD = 1_000_000
"""The largest thread number a record may carry (runs number their threads 0, 1, 2...)."""
MAX_THREADS = 4096
"""Distinct threads in one process of a run (each costs the analysis a column of its clocks)."""
MAX_TEXT = 1 << 20
_MAX_NAME = 1000
_MAX_DEPTH = 24

Check = Callable[[object], bool]


def _int(lo: int = -(1 << 62), hi: int = 1 << 62) -> Check:
    return lambda v: type(v) is int and lo <= v <= hi


def _text(most: int = _MAX_NAME) -> Check:
    return lambda v: type(v) is str and len(v) <= most


def _one_of(*options) -> Check:
    allowed = frozenset(options)
    return lambda v: v in allowed


def _opt(check: Check) -> Check:
    return lambda v: v is None or check(v)


def _num(v) -> bool:
    return (type(v) is int or type(v) is float) and math.isfinite(v)


def _bool(v) -> bool:
    return type(v) is bool


def _value(v, depth: int = 0) -> bool:
    """Plain JSON data of bounded depth (what ``events.jsonable`` makes)."""
    t = type(v)
    if v is None or t is bool or t is int or t is str:
        return t is not str or len(v) <= MAX_TEXT
    if t is float:
        return True  # JSON's NaN and infinities are what repr-less values became: harmless data
    if depth >= _MAX_DEPTH:
        return False
    if t is list:
        return len(v) <= 100_000 and all(_value(x, depth + 1) for x in v)
    if t is dict:
        return len(v) <= 10_000 and all(type(k) is str and _value(x, depth + 1) for k, x in v.items())
    return False


def _list_of(item: Check, most: int = 100_000) -> Check:
    return lambda v: type(v) is list and len(v) <= most and all(item(x) for x in v)


def _record(**fields: Check) -> Check:
    """A dict with these fields (each optional here: the kind's schema says what is required)."""
    def check(v) -> bool:
        return type(v) is dict and all(name in fields and fields[name](x) for name, x in v.items())
    return check


_TID = _int(-1, MAX_THREAD)
_OBJ = _int(0, 1 << 40)
_LN = _opt(_int(0, 10_000_000))
_FRAME = lambda v: (type(v) is list and len(v) == 3 and _text(4096)(v[0]) and _int(0, 10_000_000)(v[1])  # noqa: E731
                    and _text()(v[2]))

COMMON: dict[str, Check] = {
    "k": _text(20), "n": _int(0, 1 << 40), "pid": _int(0, 1 << 31), "th": _TID, "tn": _text(),
    "t": lambda v: _num(v) and 0 <= v <= 1e9, "ln": _LN,
}
"""Fields every record has (``ln`` only where known)."""

# kind -> (required fields, optional fields)
KINDS: dict[str, tuple[dict[str, Check], dict[str, Check]]] = {
    "proc": ({"method": _one_of("fork", "spawn", "main")},
             {"ppid": _int(0, 1 << 31), "at": _int(0, 1 << 40), "nth": _int(0, 1 << 20)}),
    "spawn": ({"child": _int(0, MAX_THREAD), "cn": _text()}, {}),
    "begin": ({"cls": _text(), "daemon": _bool, "ident": _int()}, {"target": _opt(_text())}),
    "end": ({}, {}),
    "join": ({"target": _int(0, MAX_THREAD)}, {"timeout": _opt(_num)}),
    "joined": ({"target": _int(0, MAX_THREAD), "done": _bool}, {}),
    "new": ({"obj": _OBJ, "kind": _one_of("Lock", "RLock", "Semaphore", "BoundedSemaphore"), "value": _int()}, {}),
    "acq": ({"obj": _OBJ, "kind": _text(40)}, {"value": _int(), "depth": _int(0, 1 << 40)}),
    "rel": ({"obj": _OBJ, "kind": _text(40)}, {"value": _int(), "depth": _int(0, 1 << 40)}),
    "block": ({"obj": _OBJ, "kind": _text(40)}, {"value": _int()}),
    "sleep": ({"d": _num}, {}),
    "read": ({"obj": _OBJ, "key": _value, "val": _value, "st": _int(0, 1 << 40), "sb": _int(0, 1 << 40),
              "op": _text(40)},
             {"si": _opt(_int(0, 1 << 30)), "sp": _one_of("a", "g", "c"), "missing": _bool}),
    "obj": ({"obj": _OBJ, "ty": _text(200)}, {}),
    "call": ({"fn": _text(), "cid": _int(0, 1 << 40), "args": _value}, {}),
    "ret": ({"fn": _text(), "cid": _int(0, 1 << 40)}, {"val": _value, "exc": _text()}),
    "out": ({"stream": _one_of("out", "err"), "s": _text(MAX_TEXT)}, {}),
    "enum": ({"threads": _list_of(_record(tn=_text(), repr=_text(4096), ident=_opt(_int())), 10_000)}, {}),
    "send": ({"type": _text(), "val": _value}, {}),
    "recv": ({"type": _text(), "val": _value}, {}),
    "exc": ({"type": _text(), "msg": _text(4096), "tb": _list_of(_FRAME, 10_000)}, {}),
    "deadlock": ({"blocked": _list_of(_record(th=_TID, tn=_text(), on=_text(4096), ln=_LN), 10_000)}, {}),
    "limit": ({"what": _text(40)}, {"detail": _value, "blocked": _list_of(
        _record(th=_TID, tn=_text(), on=_text(4096), ln=_LN), 10_000)}),
    "exit": ({"code": _int()}, {}),
    "data": ({"path": _text(8192)}, {"rel": _opt(_text(8192))}),
    "probe": ({"what": _text(40), "detail": _text(200)}, {}),
    "xmem": ({"x": _text(300), "ty": _text(40), "op": _one_of("read", "write"), "how": _text(40), "key": _value,
              "val": _value}, {"pn": _text(), "lbl": _text()}),
    "xmsg": ({"x": _text(300), "ty": _text(40), "op": _one_of("put", "get", "set", "clear", "wait")},
             {"val": _value, "pn": _text()}),
    "xsync": ({"x": _text(300), "kind": _text(40), "op": _one_of("acq", "rel")},
              {"pn": _text(), "value": _int(0, 1 << 40)}),
    "xjoin": ({"cpid": _int(0, 1 << 31), "done": _bool}, {}),
}
KINDS["write"] = KINDS["read"]

_PARENT_FIELDS = frozenset({"unsealed", "spawned_seal"})
_MUST = frozenset({"k", "n", "pid", "th", "tn", "t"})
# kind -> (every field it may have, the fields it must have, each field's check)
_SHAPES = {kind: (frozenset(COMMON) | set(req) | set(opt) | _PARENT_FIELDS, _MUST | set(req),
                  {**COMMON, **opt, **req})
           for kind, (req, opt) in KINDS.items()}


_ACCESS_ALLOWED = _SHAPES["read"][0]
_ACCESS_MUST = _SHAPES["read"][1]
_SPACES = (None, "a", "g", "c")


def _access(e: dict) -> bool:
    """``well_formed`` for the records that are most of a run, without a call per field."""
    keys = e.keys()
    if not (keys <= _ACCESS_ALLOWED and _ACCESS_MUST <= keys):
        return False
    n, pid, th, tn, t, obj, st, sb, op = (e["n"], e["pid"], e["th"], e["tn"], e["t"], e["obj"], e["st"],
                                          e["sb"], e["op"])
    si, ln = e.get("si"), e.get("ln")
    return (type(n) is int and 0 <= n <= 1 << 40 and type(pid) is int and 0 <= pid <= 1 << 31
            and type(th) is int and -1 <= th <= MAX_THREAD and type(tn) is str and len(tn) <= _MAX_NAME
            and _num(t) and 0 <= t <= 1e9 and type(obj) is int and 0 <= obj <= 1 << 40
            and type(st) is int and 0 <= st <= 1 << 40 and type(sb) is int and 0 <= sb <= 1 << 40
            and type(op) is str and len(op) <= 40 and (si is None or (type(si) is int and 0 <= si <= 1 << 30))
            and (ln is None or (type(ln) is int and 0 <= ln <= 10_000_000))
            and e.get("sp") in _SPACES and type(e.get("missing", False)) is bool
            and _value(e["key"]) and _value(e["val"]))


def well_formed(e) -> bool:
    """Does record ``e`` have the shape the engine writes for its kind?"""
    if type(e) is not dict:
        return False
    k = e.get("k")
    if k == "read" or k == "write":
        return _access(e)
    shape = _SHAPES.get(k)
    if shape is None:
        return False
    allowed, must, checks = shape
    keys = e.keys()
    if not (keys <= allowed and must <= keys):
        return False
    for name, v in e.items():
        check = checks.get(name)
        if check is not None and not check(v):
            return False
    return True


def screen(events: list) -> tuple[list[dict], int]:
    """The well-formed records, and how many were not (or were past the bounds of a run: more
    distinct threads in one process than ``MAX_THREADS``)."""
    kept: list[dict] = []
    bad = 0
    threads: dict[object, set] = {}
    for e in events:
        if not well_formed(e):
            bad += 1
            continue
        seen = threads.setdefault(e["pid"], set())
        if e["th"] not in seen:
            if len(seen) >= MAX_THREADS:
                bad += 1
                continue
            seen.add(e["th"])
        kept.append(e)
    return kept, bad

"""The functions the instrumented submission calls (see ``instrument``); installed as builtins.

Each is a pass-through unless its object is a dict and several threads are alive: then the access
is a scheduling point and a ``read``/``write`` event. The point comes *before* the access, so a
read-modify-write has a point between its read and its write and a lost update can be seen.
"""
from __future__ import annotations

import builtins
import functools
import itertools
import operator

from . import runtime, state
from .hooknames import hook_name
from .recorder import value

_MISSING = object()
_call_ids = itertools.count(1)


def _shared(x) -> bool:
    S = state.S
    return isinstance(x, dict) and S is not None and S.alive > 1 and S.managed()


def _access(kind: str, x, k, v, ln: int | None, **extra) -> None:
    """Record one access of a shared dict; ``st`` is the scheduling decision that let it happen
    (the exploration reverses races by that number) and the scheduler hears of it too."""
    S = state.S
    key = value(k)
    state.record(kind, obj=state.oid(x), key=key, val=value(v), ln=ln, st=S.steps, **extra)
    if S.directing:
        S.accessed(kind, key, ln)


def _read(x, k, v, missing: bool, op: str) -> None:
    extra = {"missing": True} if missing else {}
    _access("read", x, k, v, state.line(3), op=op, **extra)


def getitem(x, k):
    if not _shared(x):
        return x[k]
    state.S.point()
    missing = k not in x
    v = x[k]
    _read(x, k, v, missing, "[]")
    return v


def setitem(x, k, v) -> None:
    if not _shared(x):
        x[k] = v
        return
    state.S.point()
    x[k] = v
    _access("write", x, k, v, state.line())


def augitem(x, k, op: str, thunk) -> None:
    setitem(x, k, getattr(operator, op)(getitem(x, k), thunk()))


def augitem_value(x, k, op: str, v) -> None:
    """``x[k] op= v`` where ``v`` had to be evaluated first (a class body, a walrus)."""
    setitem(x, k, getattr(operator, op)(getitem(x, k), v))


def get(x, k, default=None, *rest):
    if not _shared(x) or rest:
        return x.get(k, default, *rest)
    state.S.point()
    v = x.get(k, _MISSING)
    missing = v is _MISSING
    if missing:
        v = default
    _read(x, k, v, missing, "get")
    return v


def contains(x, k) -> bool:
    if not _shared(x):
        return k in x
    state.S.point()
    found = k in x
    _read(x, k, x[k] if found else None, not found, "in")
    return found


def trace(name: str):
    """Decorator for a function the assignment traces: ``call``/``ret`` events, scaled arguments."""
    spec = state.config.get("trace", {}).get(name, {})
    scale = spec.get("scale")
    keep_return = bool(spec.get("record_return"))

    def decorate(fn):
        code = getattr(getattr(fn, "func", fn), "__code__", None)  # a partial's function
        first_line = code.co_firstlineno if code is not None else None
        @functools.wraps(fn)
        def traced(*args, **kwargs):
            if state.R is None:
                return fn(*args, **kwargs)
            if scale and len(args) > scale["arg"] and isinstance(args[scale["arg"]], int):
                i = scale["arg"]
                # The jitter varies the size with the seed, so a hard-coded result list fails.
                jitter = int(state.config.get("seed", 0)) % (scale.get("jitter", 0) + 1)
                scaled = max(scale.get("min", 1), args[i] // scale["divide"] + jitter)
                args = args[:i] + (scaled,) + args[i + 1:]
            cid = next(_call_ids)
            state.record("call", fn=name, cid=cid, args=value(list(args)), ln=first_line)
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:
                state.record("ret", fn=name, cid=cid, exc=type(exc).__name__)
                raise
            fields = {"val": value(result)} if keep_return else {}
            state.record("ret", fn=name, cid=cid, **fields)
            return result

        return traced

    return decorate


def install() -> None:
    """Make the hooks visible to the instrumented code (and to a spawned child's re-import)."""
    for fn in (getitem, setitem, augitem, augitem_value, get, contains, trace):
        setattr(builtins, hook_name(fn.__name__), fn)
    runtime.body_tracer = trace

"""The functions the instrumented submission calls (see ``instrument``); installed as builtins.

Each passes straight through while fewer than two threads live (or on a thread the scheduler does
not run); otherwise it models the operation as the reads and writes of locations it makes
(``memory``): the access is a scheduling point when its location is shared, and the point comes
*before* the access, so a read-modify-write has a point between its read and its write and a lost
update can be seen. What an access records: its kind, location, value (bounded, never the
program's ``__repr__``), its site and its position.
"""
from __future__ import annotations

import builtins
import functools
import itertools
import operator
import sys
import types

from . import containers, runtime, state
from .hooknames import hook_name
from .memory import ATTR, CONTENTS, GLOBAL, summary
from .recorder import value

OPS = {name: getattr(operator, name) for name in (
    "iadd", "isub", "imul", "itruediv", "ifloordiv", "imod", "ipow", "ior", "iand", "ixor",
    "ilshift", "irshift", "imatmul")}
CONTAINERS = containers.CONTAINERS
_MAIN_MODULES = ("__main__", "__mp_main__")
_NOT_DATA = (types.FunctionType, staticmethod, classmethod, property, type, types.BuiltinFunctionType)
_call_ids = itertools.count(1)
_MISSING = object()


def _on() -> bool:
    """Several threads live and the running one is the scheduler's: accesses count."""
    S = state.S
    return S is not None and S.alive > 1 and S.managed()


# -- subscripts (their semantics: ``containers``) -----------------------------------------------

def getitem(x, k, site):
    if not isinstance(x, CONTAINERS) or not _on():
        return x[k]
    return containers.read_item(x, k, site)


def setitem(v, x, k, site) -> None:
    if not isinstance(x, CONTAINERS) or not _on():
        x[k] = v
        return
    containers.write_item(v, x, k, site)


def delitem(x, k, site) -> None:
    if not isinstance(x, CONTAINERS) or not _on():
        del x[k]
        return
    containers.delete_item(x, k, site)


def contains(x, k, site) -> bool:
    if not isinstance(x, CONTAINERS) or not _on():
        return k in x
    return containers.contains(x, k, site)


_INPLACE = frozenset({"iadd", "isub", "ior", "iand", "ixor", "imul"})


def _apply(v, op: str, rhs, site):
    """``v op= rhs``. On a container that changes in place (a list's ``+=``, a set's ``|=``) this
    is a write of its contents, and the store that follows rebinds the same object: the caller
    then records no write of the variable (nothing another thread wrote there is overwritten).
    Returns ``(result, in_place)``."""
    if op in _INPLACE and isinstance(v, CONTAINERS) and _on():
        M = state.M
        loc, st, sb = M.enter(v, CONTENTS, None)
        r = OPS[op](v, rhs)
        M.leave(loc, st, sb, "write", CONTENTS, None, summary(rhs), site, op)
        return r, r is v
    return OPS[op](v, rhs), False


def augitem(x, k, op: str, thunk, site) -> None:
    r, same = _apply(getitem(x, k, site), op, thunk(), site)
    if same:
        x[k] = r
    else:
        setitem(r, x, k, site)


def augitem_value(x, k, op: str, v, site) -> None:
    """``x[k] op= v`` where ``v`` had to be evaluated first (a class body, a walrus)."""
    augitem(x, k, op, lambda: v, site)


def iop(a, op: str, b, site):
    """``n op= b`` for a plain name: an in-place operation on a shared container writes it."""
    if not isinstance(a, CONTAINERS):
        return OPS[op](a, b)
    return _apply(a, op, b, site)[0]


def call(site, x, name, /, *args, **kwargs):
    """``x.name(...)`` for a container method name; ``dict.name(d, ...)`` too."""
    S = state.S
    if S is None or S.alive < 2 or not S.managed():
        return getattr(x, name)(*args, **kwargs)
    if isinstance(x, CONTAINERS):
        fn = getattr(x, name)
        model = containers.model(type(x), name, fn)
        return fn(*args, **kwargs) if model is None else model(x, fn, args, kwargs, site)
    if isinstance(x, type) and issubclass(x, CONTAINERS) and args and isinstance(args[0], x):
        fn = getattr(x, name)
        model = containers.model(x, name, fn)
        if model is None:
            return fn(*args, **kwargs)
        target = args[0]
        # site + 1 names the first argument (the instrumenter made it for this form)
        return model(target, functools.partial(fn, target), args[1:], kwargs, site + 1)
    return getattr(x, name)(*args, **kwargs)


# -- attributes -------------------------------------------------------------------------------

def _own_dict(o):
    try:
        return object.__getattribute__(o, "__dict__")
    except (AttributeError, TypeError):
        return None


def _program_class(cls) -> bool:
    return getattr(cls, "__module__", None) in _MAIN_MODULES


def _attr_location(o, name: str, store: bool = False):
    """``(object, sp)`` holding attribute ``name`` of ``o`` as shared state, or None: an instance's
    own attribute, a class attribute of a class of the program (also read through an instance),
    an attribute of the program's own module (its global)."""
    t = type(o)
    if t is types.ModuleType:
        return (o.__dict__, GLOBAL) if o.__name__ in _MAIN_MODULES else None
    d = _own_dict(o)
    if isinstance(o, type):
        if not _program_class(o) or d is None:
            return None
        if store:
            return o, ATTR
        return (o, ATTR) if name in d and not isinstance(d[name], _NOT_DATA) else None
    if type(d) is not dict:
        return None
    if store or name in d:
        return o, ATTR
    for cls in t.__mro__:
        cd = cls.__dict__
        if name in cd:
            return (cls, ATTR) if _program_class(cls) and not isinstance(cd[name], _NOT_DATA) else None
    # Nowhere yet: reading it reads its absence (``getattr(o, t, 0)`` before anyone set it).
    return None if hasattr(t, "__getattr__") else (o, ATTR)


def _read_attr(o, name: str, site, op: str, default=_MISSING):
    where = _attr_location(o, name)
    if where is None:
        return getattr(o, name) if default is _MISSING else getattr(o, name, default)
    obj, sp = where
    M = state.M
    loc, st, sb = M.enter(obj, sp, name)
    try:
        v = getattr(o, name)
        missing = False
    except AttributeError:
        if default is _MISSING:
            raise
        v, missing = default, True
    M.leave(loc, st, sb, "read", sp, name, summary(v), site, op, missing)
    return v


def _write_attr(o, name: str, v, site, op: str, delete: bool = False) -> None:
    where = _attr_location(o, name, store=True)
    if where is None:
        delattr(o, name) if delete else setattr(o, name, v)
        return
    obj, sp = where
    M = state.M
    loc, st, sb = M.enter(obj, sp, name)
    delattr(o, name) if delete else setattr(o, name, v)
    M.leave(loc, st, sb, "write", sp, name, None if delete else summary(v), site, op)


def attr(o, name: str, site):
    if not _on():
        return getattr(o, name)
    return _read_attr(o, name, site, ".")


def attrset(v, o, name: str, site) -> None:
    if not _on():
        setattr(o, name, v)
        return
    _write_attr(o, name, v, site, ".=")


def attrdel(o, name: str, site) -> None:
    if not _on():
        delattr(o, name)
        return
    _write_attr(o, name, None, site, "del", delete=True)


def augattr(o, name: str, op: str, thunk, site) -> None:
    if not _on():
        setattr(o, name, OPS[op](getattr(o, name), thunk()))
        return
    r, same = _apply(_read_attr(o, name, site, "."), op, thunk(), site)
    if same:
        setattr(o, name, r)
    else:
        _write_attr(o, name, r, site, ".=")


def augattr_value(o, name: str, op: str, rhs, site) -> None:
    augattr(o, name, op, lambda: rhs, site)


_INSIDE = frozenset({"__globals__", "__closure__", "__code__", "__builtins__", "__subclasses__",
                     "__getattribute__", "__func__", "__self__", "f_back", "f_locals", "f_globals",
                     "tb_frame", "gi_frame", "cr_frame", "_getframe", "_current_frames", "modules"})


def _looks_inside(name) -> None:
    """A name computed at run time that reads the insides of functions or frames: a ``probe``."""
    if name in _INSIDE and state.R is not None:
        state.R.emit("probe", what="code", detail=f"getattr {name}", ln=state.line())
        state.R.flush()


def getattr_builtin(site, o, name, *default):
    _looks_inside(name)
    if not _on() or type(name) is not str or len(default) > 1:
        return getattr(o, name, *default)
    return _read_attr(o, name, site, "getattr", *default)


def hasattr_builtin(site, o, name) -> bool:
    _looks_inside(name)
    if not _on() or type(name) is not str:
        return hasattr(o, name)
    return _read_attr(o, name, site, "hasattr", _MISSING_ATTR) is not _MISSING_ATTR


_MISSING_ATTR = object()


def setattr_builtin(site, o, name, v) -> None:
    if not _on() or type(name) is not str:
        setattr(o, name, v)
        return
    _write_attr(o, name, v, site, "setattr")


def delattr_builtin(site, o, name) -> None:
    if not _on() or type(name) is not str:
        delattr(o, name)
        return
    _write_attr(o, name, None, site, "delattr", delete=True)


# -- module globals -----------------------------------------------------------------------------

def _lookup(g: dict, name: str):
    try:
        return g[name]
    except KeyError:
        pass
    b = g.get("__builtins__", builtins)
    b = b.__dict__ if isinstance(b, types.ModuleType) else b
    try:
        return b[name]
    except (KeyError, TypeError):
        raise NameError(f"name {name!r} is not defined", name=name) from None


def _gread(g: dict, name: str, site):
    if not _on():
        return _lookup(g, name)
    M = state.M
    loc, st, sb = M.enter(g, GLOBAL, name)
    missing = name not in g
    v = _lookup(g, name)
    M.leave(loc, st, sb, "read", GLOBAL, name, summary(v), site, "global", missing)
    return v


def _gwrite(g: dict, name: str, v, site, delete: bool = False) -> None:
    if not _on():
        if delete:
            _gdelete(g, name)
        else:
            g[name] = v
        return
    M = state.M
    loc, st, sb = M.enter(g, GLOBAL, name)
    if delete:
        _gdelete(g, name)
    else:
        g[name] = v
    M.leave(loc, st, sb, "write", GLOBAL, name, None if delete else summary(v), site, "global")


def _gdelete(g: dict, name: str) -> None:
    try:
        del g[name]
    except KeyError:
        raise NameError(f"name {name!r} is not defined", name=name) from None


def gload(name: str, site):
    return _gread(sys._getframe(1).f_globals, name, site)


def gstore(name: str, v, site) -> None:
    _gwrite(sys._getframe(1).f_globals, name, v, site)


def gdel(name: str, site) -> None:
    _gwrite(sys._getframe(1).f_globals, name, None, site, delete=True)


def _gaug(g: dict, name: str, op: str, rhs_thunk, site) -> None:
    r, same = _apply(_gread(g, name, site), op, rhs_thunk(), site)
    if same:
        g[name] = r
    else:
        _gwrite(g, name, r, site)


def gaug(name: str, op: str, thunk, site) -> None:
    _gaug(sys._getframe(1).f_globals, name, op, thunk, site)


def gaug_value(name: str, op: str, v, site) -> None:
    _gaug(sys._getframe(1).f_globals, name, op, lambda: v, site)


# -- targets that are not alone on their side of ``=`` -----------------------------------------

class _Store:
    """``__grader_store__(x, site)[k] = v`` / ``.a = v``: the store of a tuple, for or with
    target, made by the hooks (the attribute name arrives mangled by the compiler)."""

    __slots__ = ("_o", "_s")

    def __init__(self, o, site):
        object.__setattr__(self, "_o", o)
        object.__setattr__(self, "_s", site)

    def __setitem__(self, k, v):
        setitem(v, self._o, k, self._s)

    def __delitem__(self, k):
        delitem(self._o, k, self._s)

    def __setattr__(self, name, v):
        attrset(v, self._o, name, self._s)

    def __delattr__(self, name):
        attrdel(self._o, name, self._s)


class _GlobalStore:
    """``__grader_gtarget__(site).name = v``: a global assigned as part of a bigger target."""

    __slots__ = ("_g", "_s")

    def __init__(self, g, site):
        object.__setattr__(self, "_g", g)
        object.__setattr__(self, "_s", site)

    def __setattr__(self, name, v):
        _gwrite(self._g, name, v, self._s)

    def __delattr__(self, name):
        _gwrite(self._g, name, None, self._s, delete=True)


def store(o, site):
    return _Store(o, site)


def gtarget(site):
    return _GlobalStore(sys._getframe(1).f_globals, site)


# -- traced functions ---------------------------------------------------------------------------

def trace(name: str):
    """Decorator for a function the assignment traces: ``call``/``ret`` events, scaled arguments."""
    spec = state.config.get("trace", {}).get(name, {})
    scale = spec.get("scale")
    keep_return = bool(spec.get("record_return"))

    def decorate(fn):
        if isinstance(fn, (staticmethod, classmethod)):  # traced inside, still one outside
            return type(fn)(_traced(fn.__func__, name, scale, keep_return, isinstance(fn, classmethod)))
        qualname = getattr(fn, "__qualname__", "").split(".")
        code = getattr(fn, "__code__", None)
        # A method: its first parameter is the instance, not the call's first argument.
        method = (len(qualname) > 1 and qualname[-2] != "<locals>" and code is not None
                  and code.co_argcount > 0 and code.co_varnames[0] == "self")
        return _traced(fn, name, scale, keep_return, method)

    return decorate


def _traced(fn, name: str, scale: dict | None, keep_return: bool, bound_first: bool):
    code = getattr(getattr(fn, "func", fn), "__code__", None)  # a partial's function
    first_line = code.co_firstlineno if code is not None else None

    @functools.wraps(fn)
    def traced(*args, **kwargs):
        if state.R is None:
            return fn(*args, **kwargs)
        args, kwargs, shown = _as_called(fn, args, kwargs, bound_first)
        if scale and len(shown) > scale["arg"] and _whole(shown[scale["arg"]]):
            i = scale["arg"]
            # The jitter varies the size with the seed, so a hard-coded result list fails.
            jitter = int(state.config.get("seed", 0)) % (scale.get("jitter", 0) + 1)
            scaled = max(scale.get("min", 1), shown[i] // scale["divide"] + jitter)
            shown = shown[:i] + [scaled] + shown[i + 1:]
            at = i + (1 if bound_first else 0)
            args = args[:at] + (scaled,) + args[at + 1:]
        cid = next(_call_ids)
        state.record("call", fn=name, cid=cid, args=value(shown), ln=first_line)
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            state.record("ret", fn=name, cid=cid, exc=type(exc).__name__)
            raise
        fields = {"val": value(result)} if keep_return else {}
        state.record("ret", fn=name, cid=cid, **fields)
        return result

    return traced


def _whole(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _as_called(fn, args: tuple, kwargs: dict, bound_first: bool) -> tuple[tuple, dict, list]:
    """A call as the slides write it, whichever way the program wrote it: keyword arguments that
    name positional parameters moved to their places (``fizz_buzz(num=5)`` is ``fizz_buzz(5)``),
    and the arguments shown without a method's ``self``. A call that does not fit the function's
    signature is left as it is, for the function to refuse it as Python would."""
    if kwargs:
        try:
            import inspect
            signature = inspect.signature(fn)
            signature.bind(*args, **kwargs)
        except (TypeError, ValueError):
            signature = None
        if signature is not None:
            positional = [p.name for p in signature.parameters.values()
                          if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
            moved = list(args)
            rest = dict(kwargs)
            for pname in positional[len(args):]:
                if pname not in rest:
                    break  # a default from here on: keep the rest as keywords
                moved.append(rest.pop(pname))
            args, kwargs = tuple(moved), rest
    return args, kwargs, list(args[1:] if bound_first else args)


_apart: dict[tuple, types.CodeType] = {}


def deep(text: str, lineno: int):
    """An expression too deep to compile as part of the instrumented program (``instrument.apart``),
    evaluated where it stands: compiled from its own text at its own line, once."""
    frame = sys._getframe(1)
    key = (frame.f_code.co_filename, lineno, text)
    code = _apart.get(key)
    if code is None:
        code = compile("\n" * (lineno - 1) + "(" + text + "\n)", frame.f_code.co_filename, "eval", dont_inherit=True)
        _apart[key] = code
    return eval(code, frame.f_globals, frame.f_locals)


HOOKS = {
    "getitem": getitem, "setitem": setitem, "delitem": delitem, "augitem": augitem,
    "augitem_value": augitem_value, "contains": contains, "iop": iop, "call": call,
    "attr": attr, "attrset": attrset, "attrdel": attrdel, "augattr": augattr,
    "augattr_value": augattr_value, "getattr": getattr_builtin, "setattr": setattr_builtin,
    "delattr": delattr_builtin, "hasattr": hasattr_builtin,
    "gload": gload, "gstore": gstore, "gdel": gdel, "gaug": gaug, "gaug_value": gaug_value,
    "store": store, "gtarget": gtarget, "slice": slice, "trace": trace, "deep": deep,
}


def install() -> None:
    """Make the hooks visible to the instrumented code (and to a spawned child's re-import)."""
    for name, fn in HOOKS.items():
        setattr(builtins, hook_name(name), fn)
    runtime.body_tracer = trace

"""The methods of the built-in containers as the reads and writes of locations they make.

A model is ``f(x, fn, args, kwargs, site)``: ``fn(*args, **kwargs)`` performs the call on container
``x``; the model brackets it with the accesses (``memory.Memory.enter``/``leave``). A method that
CPython performs in one step (``dict.setdefault``, ``list.append``) is one position: its read and
write cannot be torn apart. ``Counter.update`` and ``subtract`` are read-modify-writes per element,
with a scheduling point between read and write: Python code in CPython's ``collections`` with a
dictionary (and C code without the GIL on free-threaded builds, where updates of it are lost too).

A method the program's own class overrides is not modelled: its body is the program's, already
instrumented.
"""
from __future__ import annotations

import types
from collections import Counter, deque
from collections.abc import Mapping

from . import state
from .memory import CONTENTS, ITEM, summary

CONTAINERS = (dict, list, set, deque)


# -- items and membership (the hooks of subscripts and ``in`` come here once accesses count) ----

def _item(x, k):
    """``(sp, key)`` of ``x[k]``: a slice of a sequence is its contents; a negative index the item
    it names."""
    if type(k) is slice:
        return CONTENTS, None
    if type(k) is int and k < 0 and isinstance(x, (list, deque)):
        return ITEM, k + len(x)
    return ITEM, k


def read_item(x, k, site):
    sp, key = _item(x, k)
    M = state.M
    loc, st, sb = M.enter(x, sp, key)
    missing = sp is ITEM and isinstance(x, dict) and not dict.__contains__(x, k)
    v = x[k]
    M.leave(loc, st, sb, "read", sp, key, summary(v), site, "[]", missing)
    return v


def write_item(v, x, k, site) -> None:
    sp, key = _item(x, k)
    M = state.M
    loc, st, sb = M.enter(x, sp, key)
    x[k] = v
    M.leave(loc, st, sb, "write", sp, key, summary(v), site, "[]=")


def delete_item(x, k, site) -> None:
    sp, key = _item(x, k)
    M = state.M
    loc, st, sb = M.enter(x, sp, key)
    del x[k]
    M.leave(loc, st, sb, "write", sp, key, None, site, "del")


def contains(x, k, site) -> bool:
    """``k in x``: a read of the item of a dict or set (its value, when there is one); of the
    contents of a list or deque."""
    M = state.M
    if isinstance(x, (dict, set)):
        loc, st, sb = M.enter(x, ITEM, k)
        found = k in x
        val = summary(dict.get(x, k)) if found and isinstance(x, dict) else None
        M.leave(loc, st, sb, "read", ITEM, k, val, site, "in", not found)
        return found
    loc, st, sb = M.enter(x, CONTENTS, None)
    found = k in x
    M.leave(loc, st, sb, "read", CONTENTS, None, summary(k), site, "in", not found)
    return found
_BUILTIN_METHODS = (types.BuiltinFunctionType, types.BuiltinMethodType, types.MethodDescriptorType,
                    types.WrapperDescriptorType, types.MethodWrapperType, types.ClassMethodDescriptorType)
_COUNTER_METHODS = {Counter.update: 1, Counter.subtract: -1}


def _read(x, sp, key, fn, args, kwargs, site, op, val_of=None):
    M = state.M
    loc, st, sb = M.enter(x, sp, key)
    missing = sp is ITEM and isinstance(x, (dict, set)) and not _has(x, key)
    r = fn(*args, **kwargs)
    M.leave(loc, st, sb, "read", sp, key, summary(r if val_of is None else val_of), site, op, missing)
    return r


def _write(x, sp, key, fn, args, kwargs, site, op, val=None, read_first=False):
    """A write (with the read it makes in the same step, for ``pop``/``setdefault``)."""
    M = state.M
    loc, st, sb = M.enter(x, sp, key)
    missing = sp is ITEM and isinstance(x, (dict, set)) and not _has(x, key)
    r = fn(*args, **kwargs)
    if read_first:
        M.leave(loc, st, sb, "read", sp, key, summary(r), site, op, missing)
    M.leave(loc, st, sb, "write", sp, key, summary(val), site, op)
    return r


def _has(x, key) -> bool:
    try:
        return (dict.__contains__ if isinstance(x, dict) else set.__contains__)(x, key)
    except TypeError:
        return False


# -- dict -----------------------------------------------------------------------------------------

def _dict_get(x, fn, args, kwargs, site):
    if not args:
        return fn(*args, **kwargs)
    return _read(x, ITEM, args[0], fn, args, kwargs, site, "get")


def _dict_getitem(x, fn, args, kwargs, site):
    return _read(x, ITEM, args[0], fn, args, kwargs, site, "[]") if len(args) == 1 else fn(*args, **kwargs)


def _dict_contains(x, fn, args, kwargs, site):
    if len(args) != 1:
        return fn(*args, **kwargs)
    return _read(x, ITEM, args[0], fn, args, kwargs, site, "in", val_of=None)


def _dict_setitem(x, fn, args, kwargs, site):
    if len(args) != 2:
        return fn(*args, **kwargs)
    return _write(x, ITEM, args[0], fn, args, kwargs, site, "[]=", val=args[1])


def _dict_delitem(x, fn, args, kwargs, site):
    return _write(x, ITEM, args[0], fn, args, kwargs, site, "del") if len(args) == 1 else fn(*args, **kwargs)


def _dict_setdefault(x, fn, args, kwargs, site):
    if not args:
        return fn(*args, **kwargs)
    key = args[0]
    if _has(x, key):
        return _read(x, ITEM, key, fn, args, kwargs, site, "setdefault")
    default = args[1] if len(args) > 1 else None
    return _write(x, ITEM, key, fn, args, kwargs, site, "setdefault", val=default, read_first=True)


def _dict_pop(x, fn, args, kwargs, site):
    if not args:
        return fn(*args, **kwargs)
    return _write(x, ITEM, args[0], fn, args, kwargs, site, "pop", read_first=True)


def _whole(op: str, kind: str = "write"):
    def model(x, fn, args, kwargs, site):
        if kind == "read":
            return _read(x, CONTENTS, None, fn, args, kwargs, site, op, val_of=args[0] if args else None)
        return _write(x, CONTENTS, None, fn, args, kwargs, site, op, val=args[0] if args else None)
    return model


def _dict_update(x, fn, args, kwargs, site):
    """``d.update(m)``: one step that writes each key (the pairs are taken first: an iterator
    can be read only once)."""
    if len(args) > 1:
        return fn(*args, **kwargs)
    pairs = []
    if args:
        src = args[0]
        pairs = list(src.items()) if isinstance(src, Mapping) else (
            [(k, src[k]) for k in src.keys()] if hasattr(src, "keys") else [tuple(p) for p in src])
    pairs += list(kwargs.items())
    if not pairs:
        return fn(*args, **kwargs)
    M = state.M
    entered = [M.enter(x, ITEM, k) for k, _ in pairs[:1]]
    r = fn(pairs)
    loc, st, sb = entered[0]
    for i, (k, v) in enumerate(pairs):
        if i:
            loc = M.locate(x, ITEM, k)
        M.leave(loc, st, sb, "write", ITEM, k, summary(v), site, "update")
    return r


def _counter(sign: int):
    def model(x, fn, args, kwargs, site):
        if len(args) > 1:
            return fn(*args, **kwargs)
        return _counter_update(x, args, kwargs, site, sign)
    return model


def _counter_update(x, args, kwargs, site, sign: int) -> None:
    """``Counter.update``/``subtract``: for each element, read its count, then write it plus one."""
    items = []
    if args and args[0] is not None:
        src = args[0]
        items = list(src.items()) if isinstance(src, Mapping) else [(e, 1) for e in src]
    items += list(kwargs.items())
    M = state.M
    for e, n in items:
        loc, st, sb = M.enter(x, ITEM, e)
        missing = not _has(x, e)
        now = dict.get(x, e, 0)
        M.leave(loc, st, sb, "read", ITEM, e, summary(now), site, "update", missing)
        loc, st, sb = M.enter(x, ITEM, e)
        x[e] = now + sign * n
        M.leave(loc, st, sb, "write", ITEM, e, summary(now + sign * n), site, "update")


# -- list, set, deque ------------------------------------------------------------------------------

def _list_getitem(x, fn, args, kwargs, site):
    return read_item(x, args[0], site) if len(args) == 1 else fn(*args, **kwargs)


def _list_setitem(x, fn, args, kwargs, site):
    return write_item(args[1], x, args[0], site) if len(args) == 2 else fn(*args, **kwargs)


def _list_contains(x, fn, args, kwargs, site):
    return contains(x, args[0], site) if len(args) == 1 else fn(*args, **kwargs)


def _set_item(op: str):
    def model(x, fn, args, kwargs, site):
        if len(args) != 1:
            return fn(*args, **kwargs)
        return _write(x, ITEM, args[0], fn, args, kwargs, site, op, val=args[0])
    return model


def _set_update(x, fn, args, kwargs, site):
    elems = [e for it in args for e in it]
    if not elems:
        return fn(*args, **kwargs)
    M = state.M
    loc, st, sb = M.enter(x, ITEM, elems[0])
    r = fn(elems)
    for i, e in enumerate(elems):
        if i:
            loc = M.locate(x, ITEM, e)
        M.leave(loc, st, sb, "write", ITEM, e, summary(e), site, "update")
    return r


_DICT = {
    "get": _dict_get, "__getitem__": _dict_getitem, "__contains__": _dict_contains,
    "__setitem__": _dict_setitem, "__delitem__": _dict_delitem, "setdefault": _dict_setdefault,
    "pop": _dict_pop, "popitem": _whole("popitem"), "clear": _whole("clear"), "update": _dict_update,
}
_LIST = {
    "append": _whole("append"), "extend": _whole("extend"), "insert": _whole("insert"),
    "remove": _whole("remove"), "pop": _whole("pop"), "clear": _whole("clear"), "sort": _whole("sort"),
    "reverse": _whole("reverse"), "index": _whole("index", "read"), "count": _whole("count", "read"),
    "__getitem__": _list_getitem, "__setitem__": _list_setitem, "__contains__": _list_contains,
}
_DEQUE = dict(_LIST, appendleft=_whole("appendleft"), popleft=_whole("popleft"),
              extendleft=_whole("extendleft"), rotate=_whole("rotate"))
_SET = {
    "add": _set_item("add"), "discard": _set_item("discard"), "remove": _set_item("remove"),
    "pop": _whole("pop"), "clear": _whole("clear"), "update": _set_update,
    "__contains__": _list_contains,
}


_MODELS: dict = {}


def model(cls: type, name: str, fn):
    """The model of ``cls.name`` (``fn``: the bound or unbound method found), or None when it is
    not a built-in container's own method (the program overrides it, or there is no model).
    Decided once per class and name: a class's methods are what its type says."""
    try:
        return _MODELS[(cls, name)]
    except KeyError:
        pass
    found = _model(cls, name, fn)
    if len(_MODELS) < 4096:  # classes made in a loop must not grow it without end
        _MODELS[(cls, name)] = found
    return found


def _model(cls: type, name: str, fn):
    func = getattr(fn, "__func__", getattr(fn, "func", fn))
    if func in _COUNTER_METHODS:
        return _counter(_COUNTER_METHODS[func])
    if not isinstance(func, _BUILTIN_METHODS):
        return None
    if issubclass(cls, dict):
        return _DICT.get(name)
    if issubclass(cls, deque):
        return _DEQUE.get(name)
    if issubclass(cls, list):
        return _LIST.get(name)
    if issubclass(cls, set):
        return _SET.get(name)
    return None

"""The engine's replacements for ``threading``, ``_thread`` and ``time`` look like what they replace.

A program must not tell by one ``if`` that it runs under the grader (``repr(threading.Lock)``,
``type(threading.get_ident)``, ``threading.Thread.start.__module__``). Where CPython's original is a
Python function or class, the replacement takes its name, qualified name, module and docstring.
Where it is a built-in taking no argument (``allocate_lock``, ``get_ident``, the clocks), the
replacement is made a real built-in (``builtin_function_or_method``, through ``PyCFunction_NewEx``
on a ctypes callback). A ctypes callback cannot pass an exception out, so a built-in that raises in
use (``time.sleep(-1)``) stays a Python function in the original's name. Pickling names a
replacement as its original (``threading.Lock``), which a ``spawn`` child resolves to its own.
Child side only.
"""
from __future__ import annotations

import ctypes
import types

_METH_VARARGS_KEYWORDS = 0x0001 | 0x0002
_Callback = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.py_object, ctypes.c_void_p)


class _MethodDef(ctypes.Structure):
    _fields_ = [("ml_name", ctypes.c_char_p), ("ml_meth", ctypes.c_void_p), ("ml_flags", ctypes.c_int),
                ("ml_doc", ctypes.c_char_p)]


_api = ctypes.pythonapi
_new = _api.PyCFunction_NewEx
_new.restype = ctypes.py_object
_new.argtypes = [ctypes.POINTER(_MethodDef), ctypes.py_object, ctypes.py_object]
_incref = _api.Py_IncRef
_incref.restype = None
_incref.argtypes = [ctypes.py_object]
_kept: list = []  # callbacks, method definitions and names must outlive the built-ins made of them


def builtin(fn, like):
    """A built-in function named, documented and bound (``__self__``) as ``like``, calling ``fn``."""
    def call(_self, args, kwargs):
        try:
            result = fn(*args, **(ctypes.cast(kwargs, ctypes.py_object).value if kwargs else {}))
        except BaseException:  # only a misuse (arguments it does not take): a SystemError, not silence
            return None
        _incref(result)  # a new reference: what a C function returns
        return id(result)

    callback = _Callback(call)
    name = like.__name__.encode()
    doc = (like.__doc__ or "").encode() or None
    definition = _MethodDef(name, ctypes.cast(callback, ctypes.c_void_p), _METH_VARARGS_KEYWORDS, doc)
    made = _new(ctypes.byref(definition), like.__self__, like.__module__)
    _kept.append((callback, definition, name, doc))
    return made


RAISES = frozenset({"sleep"})
"""Built-ins whose use can raise: kept Python functions (see the module's doc)."""


def like(value, original):
    """``value`` made to look like ``original`` (see the module's doc); returned for assignment."""
    if original is None or value is None or value is original or isinstance(value, types.BuiltinFunctionType):
        return value
    if (isinstance(original, types.BuiltinFunctionType) and callable(value) and not isinstance(value, type)
            and original.__name__ not in RAISES):
        try:
            return builtin(value, original)
        except (AttributeError, TypeError, ValueError, OSError):
            return value
    if isinstance(value, (types.FunctionType, type)) and isinstance(original, (types.FunctionType, type,
                                                                           types.BuiltinFunctionType)):
        for attr in ("__name__", "__qualname__", "__module__", "__doc__"):
            try:
                setattr(value, attr, getattr(original, attr))
            except (AttributeError, TypeError):
                pass
    return value


def name_class(cls: type, module: str, name: str) -> None:
    """A class of the engine's named as CPython's (``_thread.lock``)."""
    cls.__module__, cls.__qualname__, cls.__name__ = module, name, name

"""The course data wherever a program looks for it.

Students keep the data file where their own folders put it and open it by many paths: the
slides' ``lec11/data/poke_names.txt``, ``../data/poke_names.txt`` from inside ``lec11/``, a path
built from ``__file__``, the absolute path of their own PC (``C:\\Users\\…\\poke_names.txt``). Any
open *for reading* of a path whose last component is the data file's name (``/`` or ``\\`` as the
separator, letter case ignored as Windows and macOS do) reads the run's own copy instead, and
``os.path.exists``/``isfile`` see it. Writes are never redirected; a file of another name is
untouched (a missing one is still ``FileNotFoundError``). The first such open of each path is
reported (``data`` event) so the report can say where the program looked.

Covered: ``open``/``io.open`` (and so ``codecs.open``, ``pathlib.Path.open``/``read_text`` and
``csv`` over them), ``os.open``, ``os.stat`` (``os.path.exists``/``isfile``/``getsize``) and,
on Python 3.10, pathlib's accessor.
"""
from __future__ import annotations

import builtins
import io
import os
import sys

from . import state

_served: str | None = None   # the run's copy of the data
_name: str | None = None     # the data file's name, lower case
_seen: set = set()
_orig: dict = {}


def _target(path) -> str | None:
    """The run's data copy when ``path`` names the data file, else None."""
    if _served is None or isinstance(path, int):
        return None
    try:
        text = os.fsdecode(os.fspath(path))
    except TypeError:
        return None
    last = text.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    if last.lower() != _name:
        return None
    if text not in _seen:
        _seen.add(text)
        fields = {"path": text[:300]}
        if "\\" not in text:  # where it lies in the working directory, when it does
            rel = os.path.relpath(os.path.abspath(text))
            if not rel.startswith(".."):
                fields["rel"] = rel
        state.record("data", **fields)
    return _served


def _reading(mode) -> bool:
    return isinstance(mode, str) and not any(c in mode for c in "wax+")


def _open(file, mode="r", *args, **kwargs):
    target = _target(file) if _reading(mode) else None
    return _orig["open"](target or file, mode, *args, **kwargs)


def _os_open(path, flags, *args, **kwargs):
    target = _target(path) if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC) == 0 else None
    return _orig["os.open"](target or path, flags, *args, **kwargs)


def _stat(path, *args, **kwargs):
    return _orig["os.stat"](_target(path) or path, *args, **kwargs)


def patch() -> None:
    """Install the redirections (once per process; inert until ``serve``)."""
    if _orig:
        return
    _orig["open"] = builtins.open
    _orig["os.open"] = os.open
    _orig["os.stat"] = os.stat
    builtins.open = io.open = _open
    os.open = _os_open
    os.stat = _stat
    if sys.version_info < (3, 11):  # pathlib calls through an accessor bound when the class was made
        import pathlib
        accessor = getattr(pathlib, "_NormalAccessor", None)
        if accessor is not None:
            accessor.open = staticmethod(_open)
            accessor.stat = staticmethod(_stat)


def serve(path: str | None, name: str | None) -> None:
    """From now on, an open of a file called ``name`` (any folder) reads ``path``."""
    global _served, _name
    _served = os.path.abspath(path) if path else None
    _name = name.lower() if name else None
    _seen.clear()

"""What a run's program does to look inside the interpreter or the grader, seen and written down.

Set right before the program's first line (``install``):

- the grader's own modules leave ``sys.modules`` and cannot be imported again (as on a student's
  machine: ``No module named 'grader'``): the engine's code keeps working, it holds its modules;
- an audit hook (``sys.addaudithook``: it cannot be taken away) reports, as a ``probe`` record
  written down at once, each of these that the program itself does: frames (``sys._getframe``,
  ``sys._current_frames``, a traceback's or generator's frame, a function's code), the garbage
  collector's lists of objects, ``ctypes`` called from its own lines, tracing or profiling hooks,
  audit hooks of its own, importing the grader, opening ``/proc/.../fd`` or ``/proc/.../mem``.

The standard library's own use of these (``logging`` and ``warnings`` read frames, ``traceback``
reads a traceback's frames, ``multiprocessing`` uses ``ctypes``) is not the program's: an event is
the program's when its own code made the call (for frames and ``ctypes``), or asked ``inspect`` to.
Nothing here decides a verdict: the ``integrity`` check reads the records, beside what the
parent saw in the source itself.
"""
from __future__ import annotations

import os
import sys

_ENGINE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep  # the grader package
_FRAMES = frozenset({"sys._getframe", "sys._current_frames", "sys._getframemodulename"})
_GC = frozenset({"gc.get_objects", "gc.get_referrers", "gc.get_referents"})
_HOOKS = frozenset({"sys.settrace", "sys.setprofile", "sys.addaudithook", "threading.settrace",
                    "threading.setprofile"})
WATCHED = _FRAMES | _GC | _HOOKS | {"object.__getattr__", "import", "open"}
_PROC_FILES = ("/proc/self/fd", "/proc/self/mem", "/proc/thread-self/fd")


class _Hidden:
    """A finder that refuses the grader's modules to the program (and says it tried)."""

    def __init__(self, report):
        self.report = report

    def find_spec(self, name, path=None, target=None):
        if name == "grader" or name.startswith("grader."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def install(script: str, report) -> None:
    """Watch the program from now on. ``report(what, detail, line)`` writes a ``probe`` record."""
    for name in [n for n in sys.modules if n == "grader" or n.startswith("grader.")]:
        del sys.modules[name]
    sys.meta_path.insert(0, _Hidden(report))
    busy = [False]
    program = script

    def hook(event: str, args) -> None:
        if event not in WATCHED or busy[0]:
            return
        busy[0] = True
        try:
            what = _what(event, args)
            if what is None:
                return
            line = _asker(sys._getframe(1), program, direct=what in ("frames", "code"))
            if line is not None or what in ("the grader's modules", "descriptors"):
                report(what, event if event != "import" else f"import {args[0]}", line)
        except Exception:  # the watch must never change what the program does
            pass
        finally:
            busy[0] = False

    sys.addaudithook(hook)


def _what(event: str, args) -> str | None:
    if event in _FRAMES:
        return "frames"
    if event in _GC:
        return "gc"
    if event in _HOOKS:
        return "hooks"
    if event == "object.__getattr__":
        name = args[1] if len(args) > 1 else ""
        return "code" if name in ("__code__", "tb_frame", "gi_frame", "cr_frame", "ag_frame", "f_back") else None
    if event == "import":
        name = str(args[0]) if args else ""
        return "the grader's modules" if name == "grader" or name.startswith("grader.") else None
    if event == "open":
        path = str(args[0]) if args else ""
        return "descriptors" if path.startswith(_PROC_FILES) or (path.startswith("/proc/") and
                                                               path.endswith(("/mem", "/fd"))) else None
    return None


def _asker(frame, script: str, direct: bool) -> int | None:
    """The program's line that asked, or None when the standard library (or the engine) did.

    ``frame``: the Python frame that called the audited function. With ``direct``, only that frame
    counts (or ``inspect``, asked by the program); else the nearest frame of the program's.
    """
    f = frame
    depth = 0
    while f is not None and depth < 64:
        name = f.f_code.co_filename
        if name == script:
            return f.f_lineno
        if direct and depth == 0 and not name.endswith(("inspect.py",)):
            return None
        if name.startswith(_ENGINE):
            return None
        f = f.f_back
        depth += 1
    return None

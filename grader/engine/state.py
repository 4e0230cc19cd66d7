"""What the running process's engine is: its scheduler, recorder and options, and the recording
helpers every patched function uses. A leaf beside ``real``: the primitives, the hooks and the
runtime all read it, and nothing here imports them. No-ops until ``runtime.activate`` fills it."""
from __future__ import annotations

import os
import sys

_DISGUISE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "disguise.py")

S = None          # the Scheduler of this run
R = None          # the Recorder of this run
M = None          # the Memory (locations) of this run's process
config: dict = {}
"""The run's options (trace, seed, start method, data, semaphore cap...); cleared, never rebound."""


def record(kind: str, /, **fields) -> None:
    if R is not None:
        R.emit(kind, **fields)


def oid(obj) -> int:
    return R.oid(obj) if R is not None else 0


def line(depth: int = 2) -> int | None:
    return R.line(depth) if R is not None else None


def who():
    """(vid, thread name, virtual time) of the running thread, for the recorder."""
    ts = S.me() if S is not None else None
    if ts is None:
        return (-1, "unmanaged", S.now if S is not None else 0.0)
    return (ts.vid, ts.name, S.now)


def from_submission(depth: int = 2) -> bool:
    """Was the caller's caller code of the submission? (A built-in of ``disguise`` between them is
    not a caller: it stands where CPython's C function stood.)"""
    frame = sys._getframe(depth)
    while frame is not None and frame.f_code.co_filename == _DISGUISE:
        frame = frame.f_back
    return R is not None and frame is not None and frame.f_code.co_filename == R.script

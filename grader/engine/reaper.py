"""Adopting and killing processes that escape a run with ``setsid`` (Linux only)."""
from __future__ import annotations

import ctypes
import os
import signal

PR_SET_CHILD_SUBREAPER = 36
PR_GET_CHILD_SUBREAPER = 37


def _prctl(*args) -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(*args)


def set_subreaper(on: bool = True) -> bool:
    """Make this process adopt its orphaned descendants; False where the system cannot."""
    try:
        return _prctl(PR_SET_CHILD_SUBREAPER, 1 if on else 0, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def subreaper_available() -> bool:
    """Can this process become a subreaper? (Asked without changing anything.)"""
    was = ctypes.c_int(0)
    try:
        return _prctl(PR_GET_CHILD_SUBREAPER, ctypes.byref(was), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def kill_adopted(keep) -> None:
    """SIGKILL every child of this process whose pid is not in ``keep``."""
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in keep:
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == me:
            try:
                os.kill(int(entry), signal.SIGKILL)
            except OSError:
                pass

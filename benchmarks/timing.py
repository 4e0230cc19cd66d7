"""Timing a whole command exactly: woken the moment it exits.

``subprocess.run(..., timeout=...)`` waits by polling with sleeps that grow to 50 ms, which rounds a
0.2 s grading up to the next 50 ms step; here the wait is on a pidfd (Linux), so a figure is the
command's own time. Standard library only.
"""
from __future__ import annotations

import os
import select
import subprocess
import time


def run_timed(cmd: list[str], timeout: float, **popen) -> tuple[float, int]:
    """(wall seconds, exit status) of ``cmd``; killed past ``timeout`` (status -9)."""
    popen.setdefault("stdout", subprocess.DEVNULL)
    popen.setdefault("stderr", subprocess.DEVNULL)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, **popen)
    try:
        fd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        return time.perf_counter() - t0, proc.returncode
    try:
        ready, _, _ = select.select([fd], [], [], timeout)
    finally:
        os.close(fd)
    elapsed = time.perf_counter() - t0
    if not ready:
        proc.kill()
    proc.wait()
    return elapsed, proc.returncode

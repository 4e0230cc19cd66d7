"""An engine child started ahead of need, for a worker that waits between submissions.

A worker of ``grade serve`` starts the next grading's engine child as soon as one grading is
done: its interpreter start and imports (a quarter of one file's grading) then happen while the
worker waits for the next upload, not after it arrives. Only in processes that ask for it
(``install``): a thread pool sharing one spare would hand it out twice. ``grade batch`` keeps
none: its workers never wait, so a spare only moves the same work around.
"""
from __future__ import annotations

from .engine_process import EngineProcess

_spare: EngineProcess | None = None
_installed = False


def install() -> None:
    """In a worker process, at its start: keep a spare from now on, and stop it when the worker
    exits (its processes and scratch tree go too)."""
    global _installed
    from multiprocessing.util import Finalize

    _installed = True
    # Runs when a pool shuts the worker down, which skips atexit.
    Finalize(None, discard, exitpriority=10)
    fill()


def fill() -> None:
    """Start the spare if this process keeps one and has none."""
    global _spare
    if _installed and _spare is None:
        try:
            _spare = EngineProcess()
        except Exception:  # no spare: the next grading starts its own, as the CLI does
            _spare = None


def take() -> EngineProcess | None:
    """The spare, if there is a live one (the caller owns it from now on)."""
    global _spare
    engine, _spare = _spare, None
    if engine is not None and engine.proc.poll() is not None:  # it died while waiting
        engine.discard()
        engine = None
    return engine


def discard() -> None:
    """Stop the spare, if any."""
    engine = take()
    if engine is not None:
        try:
            engine.discard()
        except Exception:
            pass

"""First code of a child started with the ``spawn`` method: installs the engine's runtime in it.

``runtime`` rewrites multiprocessing's spawn command line to ``import`` this module and call
``start`` before ``spawn_main``; the configuration travels in ``GRADER_SPAWN``. The child then
re-imports the submission as ``__mp_main__`` exactly as multiprocessing does, from the file on
disk and without instrumentation: what the checks need of a spawned child is that it runs on the
virtual clock and that its output is captured, and a bare start keeps each of the 13 interpreters
of a counter_pp run cheap.
"""
from __future__ import annotations

import atexit
import json
import os
import random
import sys

from . import files, runtime, strategies
from .events import EXIT_LIMIT
from .recorder import Capture, Recorder
from .scheduler import Scheduler


def start(now: float = 0.0) -> None:
    """Install the runtime in this spawned process; ``now`` is the parent's virtual time."""
    cfg = json.loads(os.environ.pop("GRADER_SPAWN", None) or "null")
    if not cfg:
        return
    runtime.patch()
    limits = cfg["limits"]
    random.seed(f"{cfg['seed']}:{now}")
    sched = Scheduler(strategies.make("random", cfg["seed"]), timed=cfg["time_mode"] == "timed",
                      max_steps=limits["steps"], max_vtime=limits["virtual_seconds"] + now,
                      on_stop=lambda kind, detail: os._exit(EXIT_LIMIT))
    sched.now = now
    fd = os.open(cfg["events"], os.O_WRONLY | os.O_APPEND)
    rec = Recorder(fd, cfg["script"], runtime.who, limits["output_bytes"], on_overflow=lambda: os._exit(EXIT_LIMIT))
    runtime.activate(sched, rec, cfg["options"])
    files.serve(cfg.get("data"), cfg.get("data_file"))
    sys.stdout = Capture(rec, "out", 1)
    sys.stderr = Capture(rec, "err", 2)
    atexit.register(rec.flush)
    rec.emit("proc", ppid=os.getppid(), method="spawn")

"""First code of a child started with the ``spawn`` method: installs the engine in it.

``runtime`` rewrites multiprocessing's spawn command line to ``import`` this module and call
``start`` before ``spawn_main``; the configuration travels in ``GRADER_SPAWN``. The main module
is re-imported instrumented, as ``__mp_main__``, like multiprocessing itself would do.
"""
from __future__ import annotations

import json
import os
import random
import runpy
import sys

from . import hooks, instrument, runtime, strategies
from .events import EXIT_LIMIT
from .recorder import Capture, Recorder
from .scheduler import Scheduler


def start(now: float = 0.0) -> None:
    """Install the engine in this spawned process; ``now`` is the parent's virtual time."""
    cfg = json.loads(os.environ.get("GRADER_SPAWN") or "null")
    if not cfg:
        return
    runtime.patch()
    hooks.install()
    script = cfg["script"]
    limits = cfg["limits"]
    random.seed(f"{cfg['seed']}:{now}")
    sched = Scheduler(strategies.make("random", cfg["seed"]), timed=cfg["time_mode"] == "timed",
                      max_steps=limits["steps"], max_vtime=limits["virtual_seconds"] + now,
                      on_stop=lambda kind, detail: os._exit(EXIT_LIMIT))
    sched.now = now
    fd = os.open(cfg["events"], os.O_WRONLY | os.O_APPEND)
    rec = Recorder(fd, script, runtime.who, limits["output_bytes"], on_overflow=lambda: os._exit(EXIT_LIMIT))
    runtime.activate(sched, rec, cfg["options"])
    sys.stdout = Capture(rec, "out", 1)
    sys.stderr = Capture(rec, "err", 2)
    rec.emit("proc", ppid=os.getppid(), method="spawn")
    code = instrument.compile_submission(cfg["source"], script, cfg.get("trace", {}).keys())
    real_run_path = runpy.run_path

    def run_path(path, init_globals=None, run_name=None):
        if os.path.abspath(path) != os.path.abspath(script):
            return real_run_path(path, init_globals, run_name)
        namespace = {"__name__": run_name or "__mp_main__", "__file__": script,
                     "__builtins__": __builtins__, "__spec__": None, "__loader__": None}
        if init_globals:
            namespace.update(init_globals)
        exec(code, namespace)
        return namespace

    runpy.run_path = run_path

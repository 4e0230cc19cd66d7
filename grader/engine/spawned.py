"""First code of a child started the ``spawn`` way: installs the engine's runtime in it.

A ``spawn`` child starts from nothing: it re-imports the submission as ``__mp_main__`` (so a program
without an ``if __name__ == "__main__":`` guard starts processes again, which multiprocessing
refuses) and unpickles its ``Process`` (so a lambda or a local target cannot go). Those are what
``spawn_safe`` judges. Starting 13 interpreters for that would cost most of a counter_pp grading,
so a run's spawn children come from a zygote instead: multiprocessing's own fork server, started
once per run as a fresh interpreter with nothing but this module imported, forks each child, and the
child runs exactly what a spawned interpreter runs (``multiprocessing.spawn._main``: the same
``prepare``, the same re-import of the main module with ``_inheriting`` set, the same unpickling).

The run's engine configuration travels in the preparation data (``grader_engine``); importing
this module makes ``spawn.prepare`` start the runtime from it before anything of the program runs,
and re-import the main module from the run's instrumented code (exactly as ``runpy.run_path``
would run the file on disk, as ``__mp_main__``), so a spawned child's calls and dict accesses are
recorded as a forked child's are.
"""
from __future__ import annotations

import atexit
import marshal
import os
import random
import sys
import types

from . import files, hooks, runtime, state, strategies, watch
from .events import EXIT_LIMIT
from .recorder import Capture, Recorder
from .scheduler import Scheduler

CONFIG_KEY = "grader_engine"


def start(cfg: dict) -> None:
    """Install the runtime in this child; ``cfg`` is the parent run's, with its virtual ``now``."""
    runtime.patch()
    hooks.install()
    now = float(cfg.get("now", 0.0))
    limits = cfg["limits"]
    # Each child its own stream of random numbers, the same from run to run.
    random.seed(f"{cfg['seed']}:{cfg.get('n', 0)}:{now}")
    sched = Scheduler(strategies.make("random", cfg["seed"]), timed=cfg["time_mode"] == "timed",
                      max_steps=limits["steps"], max_vtime=limits["virtual_seconds"] + now,
                      on_stop=lambda kind, detail: os._exit(EXIT_LIMIT))
    sched.now = now
    fd = os.open(cfg["events"], os.O_WRONLY | os.O_APPEND)
    rec = Recorder(fd, cfg["script"], state.who, limits["output_bytes"], on_overflow=lambda: os._exit(EXIT_LIMIT),
                   key=bytes.fromhex(cfg.get("key", "")))
    runtime.activate(sched, rec, cfg["options"])
    files.serve(cfg.get("data"), cfg.get("data_file"))
    sys.stdout = Capture(rec, "out", 1)
    sys.stderr = Capture(rec, "err", 2)
    atexit.register(rec.flush)
    rec.emit("proc", ppid=os.getppid(), method="spawn")

    def probe(what: str, detail: str, ln) -> None:
        rec.emit("probe", what=what, detail=str(detail)[:200], ln=ln)
        rec.flush()

    watch.install(cfg["script"], probe)  # the program is re-imported next: watched as the run is


def _install() -> None:
    import multiprocessing.spawn as spawn

    if getattr(spawn.prepare, "grader", False):
        return
    prepare = spawn.prepare
    fixup = spawn._fixup_main_from_path

    def prepare_with_engine(data):
        cfg = data.pop(CONFIG_KEY, None) if isinstance(data, dict) else None
        if cfg:
            start(cfg)
            code = marshal.loads(bytes.fromhex(cfg["code"])) if cfg.get("code") else None
            spawn._fixup_main_from_path = (lambda path: _main_from_code(spawn, path, code)) if code else fixup
        return prepare(data)

    prepare_with_engine.grader = True
    spawn.prepare = prepare_with_engine


def _main_from_code(spawn, main_path: str, code) -> None:
    """``spawn._fixup_main_from_path`` with the instrumented code of the file at ``main_path``,
    run as ``runpy.run_path(main_path, run_name="__mp_main__")`` runs it: in a module of its own
    that is ``__mp_main__`` meanwhile, with ``sys.argv[0]`` the file, then copied into the main."""
    current = sys.modules["__main__"]
    if getattr(current, "__file__", None) == main_path:
        return
    spawn.old_main_modules.append(current)
    temp = types.ModuleType("__mp_main__")
    temp.__dict__.update({"__file__": main_path, "__cached__": None, "__loader__": None,
                          "__package__": "", "__spec__": None, "__builtins__": __builtins__})
    saved = sys.modules.get("__mp_main__"), sys.argv[0] if sys.argv else None
    sys.modules["__mp_main__"] = temp
    if sys.argv:
        sys.argv[0] = main_path
    try:
        exec(code, temp.__dict__)
    finally:
        if saved[0] is None:
            sys.modules.pop("__mp_main__", None)
        else:
            sys.modules["__mp_main__"] = saved[0]
        if sys.argv:
            sys.argv[0] = saved[1]
    main = types.ModuleType("__mp_main__")
    main.__dict__.update(temp.__dict__)
    sys.modules["__main__"] = sys.modules["__mp_main__"] = main


_install()

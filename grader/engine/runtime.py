"""Maps the ``threading``/``time`` API onto the scheduler, inside the child only.

``patch()`` is called once in the warm child before any schedule runs (so that every lock the
submission creates is ours); ``activate()`` then gives a forked run its own scheduler and
recorder. Until activated, the patched functions behave like the real ones.

Covered: Thread start/join/is_alive (CPython 3.10-3.13), current_thread/enumerate/get_ident
(virtual idents), Lock, RLock, Semaphore, BoundedSemaphore, and through CPython's own pure-Python
code on top of those, Condition, Event, Timer and Barrier; time.sleep/time/monotonic/perf_counter
(and their _ns forms). Not controlled: locks created before ``patch()`` (kept real, never held
across a scheduling point by the standard library), threads started with ``_thread`` directly
(they run free and get polling locks), blocking OS calls (a pipe's recv holds the baton).
"""
from __future__ import annotations

import os as _os
import sys
import threading
import time
import types
import zlib

from . import board, crossproc, disguise, files, memory, primitives, real, state
from .recorder import value
from .state import config, from_submission, line, oid, record, who  # noqa: F401  (who: the recorder's clock)

EPOCH = real.wall_time()  # time.time() starts from the real time (each run sets it again) and runs virtually
MONO0 = real.monotonic()
IDENT0 = 1000
_patched = False


# -- time ---------------------------------------------------------------------------------------

def _sleep(seconds) -> None:
    seconds = float(seconds)
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    if state.S is None:
        return real.sleep(seconds)
    if not state.S.managed():
        return real.sleep(min(seconds, 0.001))
    ln = line()
    record("sleep", d=seconds, ln=ln)
    state.S.sleep(seconds, ln)


def _vnow() -> float:
    return state.S.now if state.S is not None else 0.0


def _time() -> float:
    return EPOCH + _vnow()


def _monotonic() -> float:
    return MONO0 + _vnow()


def _ns(f):
    return lambda: int(f() * 1e9)


# -- threads ------------------------------------------------------------------------------------

def _get_ident() -> int:
    if state.S is not None:
        ts = state.S.me()
        if ts is not None:
            return IDENT0 + ts.vid
    return real.get_ident()


def _new_memory() -> None:
    """This process's memory, told when a stretch ends (``memory``): at a switch, at an event."""
    m = state.M = memory.Memory()
    if state.S is not None:
        state.S.on_switch = m.bump
    if state.R is not None:
        state.R.before_event = m.bump


def _settle() -> None:
    """The running thread ends: what it kept to itself is written down (``memory.Memory.settle``)."""
    if state.M is not None and state.S is not None and state.S.managed():
        state.M.settle(state.S.current)


def _begin(thread) -> None:
    """First thing a managed thread does in ``run()``: report itself and offer a switch."""
    if state.S is None or not state.S.managed():
        return
    ts = state.S.current
    record("begin", cls=type(thread).__name__, daemon=bool(thread.daemon), ident=IDENT0 + ts.vid,
           target=_callable_name(getattr(thread, "_target", None)))
    state.S.point()


def _managed_start(body, thread, daemon: bool):
    """Start ``body`` on a managed thread; returns its ThreadState."""
    def run_and_report():
        try:
            body()
        finally:
            _settle()
            record("end")

    ts = state.S.spawn(run_and_report, daemon)
    ts.thread = thread
    record("spawn", child=ts.vid, cn=thread.name, ln=line())
    return ts


def _start_new_thread(function, args, kwargs=None):  # 3.10-3.12
    if state.S is None or not state.S.managed():
        return real.start_new_thread(function, args, kwargs or {})
    thread = getattr(function, "__self__", None)
    ts = _managed_start(lambda: function(*args, **(kwargs or {})), thread, bool(getattr(thread, "daemon", False)))
    if thread is not None:
        thread._grader_ts = ts
    return IDENT0 + ts.vid


def _raw_start(function, args, kwargs=None):
    """``_thread.start_new_thread`` from the program: a managed thread, daemonic as raw threads are."""
    if state.S is None or not state.S.managed() or not from_submission(2):
        return real.start_new_thread(function, args, kwargs or {})
    ts = state.S.spawn(lambda: _run_raw(function, args, kwargs or {}), daemon=True)
    record("spawn", child=ts.vid, cn=ts.name, ln=line())
    return IDENT0 + ts.vid


def _run_raw(function, args, kwargs) -> None:
    record("begin", cls="_thread", daemon=True, ident=IDENT0 + state.S.current.vid)
    try:
        function(*args, **kwargs)
    except SystemExit:
        pass
    except BaseException as exc:  # as _thread does: print it, the process goes on
        report_exception(type(exc), exc, exc.__traceback__, "Unhandled exception in thread started by "
                         f"{function!r}\n")
    finally:
        _settle()
        record("end")


def _wait_for_tstate_lock(self, block=True, timeout=-1):  # 3.10-3.12
    ts = getattr(self, "_grader_ts", None)
    if ts is None:
        return _orig["wait_tstate"](self, block, timeout)
    if block and state.S.managed():
        _join(ts, None if timeout is None or timeout < 0 else timeout)
    if ts.state == "done":
        # The scheduler is done with the thread; its OS thread may still be on its way out, and
        # CPython frees the thread's state lock only then. Wait for that, for real (a moment):
        # stopping the Thread before it would trip threading's own assert.
        _orig["wait_tstate"](self, True, -1)


def _join(ts, timeout) -> None:
    """``Thread.join`` on a managed thread: a scheduling point, then wait (virtual timeout)."""
    ln = line()
    record("join", target=ts.vid, timeout=timeout, ln=ln)
    state.S.point()
    done = state.S.join(ts, None if timeout is None else state.S.now + timeout, ln)
    record("joined", target=ts.vid, done=done, ln=ln)


class _Handle:
    """3.13's ``_ThreadHandle`` for a managed thread."""

    def __init__(self):
        self.ts = None
        self._done = False
        self.ident = None

    def is_done(self) -> bool:
        return self._done or (self.ts is not None and self.ts.state == "done")

    def _set_done(self) -> None:
        self._done = True

    def join(self, timeout=None) -> None:
        if self.ts is None or self._done:
            return
        if state.S is None or not state.S.managed():
            while not self.is_done():
                real.sleep(0.0005)
            return
        _join(self.ts, None if timeout is None else max(timeout, 0))


class _MainHandle:
    """MainThread's 3.13 handle, its ``ident`` the virtual one: ``threading._after_fork`` in a
    forked child asserts that the surviving thread's handle has ``get_ident()``'s ident, which is
    virtual here (else the assert fails, the child's thread table is left stale and the program's
    output gets an "Exception ignored" traceback). Everything else is the real handle's."""

    def __init__(self, real_handle, ident: int):
        self._real = real_handle
        self.ident = ident

    def __getattr__(self, name):
        return getattr(self._real, name)


def _start_joinable_thread(function, handle=None, daemon=True):  # 3.13
    if state.S is None or not state.S.managed() or not isinstance(handle, _Handle):
        return _orig["start_joinable"](function, handle=handle, daemon=daemon)
    thread = getattr(function, "__self__", None)
    ts = _managed_start(function, thread, daemon)
    handle.ts = ts
    handle.ident = IDENT0 + ts.vid
    return handle


body_tracer = None
"""``hooks.trace``, set by ``hooks.install``: records a callable's calls as a traced function's."""


def _traced_body(obj, target_attr: str):
    """When the program defines no function of a traced name (it renamed it, or its threads run a
    method), what its threads, processes and pool tasks run is traced under that name instead.
    Returns the callable to run, or None when there is nothing to trace."""
    names = config.get("trace_bodies")
    if not names or body_tracer is None:
        return None
    target = getattr(obj, target_attr, None)
    if target is not None:
        if not _is_submission_code(target):
            return None
        setattr(obj, target_attr, body_tracer(names[0])(target))
        return None
    return body_tracer(names[0])(obj.run) if _is_submission_code(obj.run) else None


def _is_submission_code(fn) -> bool:
    fn = getattr(fn, "func", fn)  # functools.partial
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    return state.R is not None and code is not None and code.co_filename == state.R.script


def _callable_name(fn) -> str | None:
    fn = getattr(fn, "func", fn)
    name = getattr(fn, "__qualname__", None)
    return f"{getattr(fn, '__module__', '')}.{name}" if name else None


def _thread_start(self):
    """``Thread.start``: the new thread offers a switch before running the target."""
    if state.S is not None and state.S.managed() and "run" not in self.__dict__:
        run = (_traced_body(self, "_target") if from_submission(2) else None) or self.run

        def run_then_forget():
            _begin(self)
            return run()

        self.run = run_then_forget
    return _orig["start"](self)


def _excepthook(args) -> None:
    if state.R is None or args.exc_type is SystemExit:
        return _orig["excepthook"](args)
    report_exception(args.exc_type, args.exc_value, args.exc_traceback,
                     f"Exception in thread {args.thread.name if args.thread else '?'}:\n")


def report_exception(exc_type, exc, tb, header: str = "") -> None:
    """Record an uncaught exception and print it as Python would, showing the student's frames only."""
    record("exc", type=exc_type.__name__, msg=str(exc)[:300], tb=_student_tb(tb))
    import traceback  # only when a program fails: a fortieth of the child's start-up otherwise

    frames = [f for f in traceback.extract_tb(tb) if f.filename == state.R.script]
    text = header
    if frames:
        for f in frames:
            f.filename = _os.path.basename(f.filename)
        text += "Traceback (most recent call last):\n" + "".join(traceback.format_list(frames))
    text += "".join(traceback.format_exception_only(exc_type, exc))
    try:
        sys.stderr.write(text)
    except Exception:
        pass


def _student_tb(tb) -> list:
    out = []
    while tb is not None:
        code = tb.tb_frame.f_code
        if state.R is not None and code.co_filename == state.R.script:
            out.append([code.co_filename, tb.tb_lineno, code.co_name])
        tb = tb.tb_next
    return out


def _enumerate():
    threads = _orig["enumerate"]()
    if state.R is not None and from_submission(2):
        record("enum", threads=[{"tn": t.name, "repr": repr(t), "ident": t.ident} for t in threads], ln=line())
    return threads


# -- factories ----------------------------------------------------------------------------------

def _new_lock(depth: int):
    """A lock for the caller ``depth`` frames up. The import system's own locks stay real (a
    module's import lock must not wait on the scheduler); every other lock is the scheduler's,
    seen when the program made it."""
    caller = sys._getframe(depth)
    while caller is not None and caller.f_code.co_filename == disguise.__file__:
        caller = caller.f_back
    if caller is not None and caller.f_code.co_filename.startswith("<frozen importlib"):
        return real.allocate_lock()
    return primitives.Lock(visible=from_submission(depth + 1))


def _lock_factory():
    """``threading.Lock`` where it is ``_thread.allocate_lock``, a built-in (CPython before 3.13)."""
    return _new_lock(2)


def _rlock_factory(*args, **kwargs):
    return primitives.RLock(visible=from_submission(2))


def _internal_lock():
    return primitives.Lock(visible=False)


_orig: dict = {}
_replaced: list = []   # (object, attribute, original value), in the order patched


def _replace(obj, name: str, value) -> None:
    original = getattr(obj, name)
    _replaced.append((obj, name, original))
    setattr(obj, name, disguise.like(value, original))


def patch() -> None:
    """Install the patches (once per process, before the submission's code is compiled)."""
    global _patched
    if _patched:
        return
    _patched = True
    import _thread
    import queue

    site_builtins()
    # What the program can see of the engine's classes is named as CPython's.
    disguise.name_class(primitives.Lock, "_thread", "lock")
    disguise.name_class(primitives.RLock, "_thread", "RLock")
    _orig["start"] = threading.Thread.start
    _orig["excepthook"] = threading.excepthook
    _orig["enumerate"] = threading.enumerate
    _replace(threading.Thread, "start", _thread_start)
    _replace(threading, "excepthook", _excepthook)
    _replace(threading, "enumerate", _enumerate)
    if isinstance(threading.Lock, type):  # 3.13+: the class _thread.lock, made by calling it
        primitives.Lock.public = staticmethod(lambda: _new_lock(3))
        _replace(threading, "Lock", primitives.Lock)
        _replace(threading, "_LockType", primitives.Lock)
    else:
        _replace(threading, "Lock", _lock_factory)  # a built-in named allocate_lock, as CPython's
    _replace(threading, "RLock", _rlock_factory)
    _replace(threading, "_CRLock", None)
    _replace(threading, "_allocate_lock", _internal_lock)
    _replace(threading, "Semaphore", primitives.Semaphore)
    _replace(threading, "BoundedSemaphore", primitives.BoundedSemaphore)
    _replace(threading, "get_ident", _get_ident)
    _replace(threading, "_time", _monotonic)
    if hasattr(threading, "_start_joinable_thread"):
        _orig["start_joinable"] = threading._start_joinable_thread
        _replace(threading, "_start_joinable_thread", _start_joinable_thread)
        _replace(threading, "_ThreadHandle", _Handle)
    else:
        _orig["wait_tstate"] = threading.Thread._wait_for_tstate_lock
        _replace(threading, "_start_new_thread", _start_new_thread)
        _replace(threading.Thread, "_wait_for_tstate_lock", _wait_for_tstate_lock)
    # Threads and locks the program makes with _thread itself run under the scheduler too.
    _replace(_thread, "start_new_thread", _raw_start)
    _replace(_thread, "start_new", _raw_start)
    # Before 3.13 one object, as in CPython (pickle checks it); from 3.13 a built-in of its own.
    maker = _lock_factory if isinstance(threading.Lock, type) else threading.Lock
    _replace(_thread, "allocate_lock", maker)
    if hasattr(_thread, "allocate"):
        _replace(_thread, "allocate", maker)
    _replace(_thread, "LockType", primitives.Lock)
    if hasattr(_thread, "lock"):
        _replace(_thread, "lock", primitives.Lock)

    # The C SimpleQueue blocks below the scheduler (ThreadPoolExecutor's workers wait on one):
    # the standard library's pure-Python twin runs on our Semaphore instead.
    _replace(queue, "SimpleQueue", queue._PySimpleQueue)

    for name, fn in (("sleep", _sleep), ("time", _time), ("monotonic", _monotonic),
                     ("perf_counter", _monotonic), ("time_ns", _ns(_time)),
                     ("monotonic_ns", _ns(_monotonic)), ("perf_counter_ns", _ns(_monotonic))):
        _replace(time, name, fn)
    files.patch()
    _patch_multiprocessing()


def deactivate() -> None:
    """This process leaves the scheduler: real threads, locks and time from now on.

    For what the engine does not control but must not hang, such as a multiprocessing Manager's
    server process: its threads block in ``accept``/``recv`` and must run for real.
    """
    crossproc.leave()
    state.S = None
    for obj, name, original in reversed(_replaced):
        setattr(obj, name, original)
    _replaced.clear()


def site_builtins() -> None:
    """``exit``/``quit``/``help``... as ``site`` defines them (the child starts with ``-S``)."""
    import builtins
    if not hasattr(builtins, "exit"):
        import _sitebuiltins
        builtins.exit = _sitebuiltins.Quitter("exit", "Ctrl-D (i.e. EOF)")
        builtins.quit = _sitebuiltins.Quitter("quit", "Ctrl-D (i.e. EOF)")
        builtins.help = _sitebuiltins._Helper()
        builtins.copyright = builtins.credits = builtins.license = _sitebuiltins._Printer("info", "")


def activate(scheduler, recorder, options: dict) -> None:
    """Give this process its scheduler and recorder; the running thread becomes MainThread."""
    global IDENT0, EPOCH, MONO0
    EPOCH, MONO0 = real.wall_time(), real.monotonic()  # virtual time from here, on the real clocks' origin
    state.S, state.R = scheduler, recorder
    _new_memory()
    _forks[:] = [0, ""]
    config.clear()
    config.update(options)
    # Idents vary with the seed (a hard-coded "<Thread(Thread-1, started 1001)>" fails) yet repeat.
    IDENT0 = 1000 * (1 + int(options.get("seed", 0)) % 90)
    main = threading.main_thread()
    scheduler.current.thread = main
    # MainThread gets a virtual ident too, so printed reprs are the same run after run.
    active = threading._active
    for key, thread in list(active.items()):
        if thread is main:
            del active[key]
    main._ident = IDENT0 + scheduler.current.vid
    active[main._ident] = main
    handle = getattr(main, "_handle", None)  # 3.13
    if handle is not None:
        main._handle = _MainHandle(getattr(handle, "_real", handle), main._ident)


# -- multiprocessing ------------------------------------------------------------------------------

_forks = [0, ""]  # children forked by this process so far; this process's place in the run's tree


def _before_fork() -> None:
    if state.R is not None:
        state.R.flush()
    if state.S is not None:  # the run's first fork makes the board its processes take turns on
        board.before_fork(zlib.crc32(f"{config.get('seed', 0)}:board".encode()))
    _forks[0] += 1


def _after_fork_in_child() -> None:
    nth = _forks[0]  # this child is its parent's nth fork
    if state.S is not None:
        state.S.after_fork_in_child()
        _new_memory()  # this process's own copies of everything
        # random reseeds itself from the OS in a forked child: give it a stream of its own that is
        # the same from run to run (the n-th child of this process, on this seed).
        _forks[:] = [0, f"{_forks[1]}.{nth}"]
        random = sys.modules.get("random")
        if random is not None:
            random.seed(f"{config.get('seed', 0)}:fork{_forks[1]}")
    if state.R is not None:
        state.R.after_fork()
    if state.S is not None:
        board.after_fork_in_child()  # nothing of this process runs before its first turn
    if state.R is not None:
        # at: after which of the parent's events, nth: its how-manieth fork (the report's order).
        record("proc", ppid=_os.getppid(), method="fork", at=state.R.forked_at, nth=nth)


def _wrap_connection(cls) -> None:
    send, recv = cls.send, cls.recv

    def traced_send(self, obj):
        record("send", type=type(obj).__name__, val=value(obj), ln=line())
        return send(self, obj)

    def traced_recv(self):
        # A blocking recv would keep the baton from the thread that is to send: wait in turns;
        # and once no thread and no child process is left to send, it would wait forever.
        if not crossproc.readable(self) and state.S is not None and state.S.managed():
            while not self.poll(0):
                if state.S.alive > 1 and state.S.let_others_run():
                    continue
                if not sys.modules["multiprocessing"].active_children() and not self.poll(0.05):
                    state.S.stuck("recv on a Pipe that no living process can send to", line())
                    break
                self.poll(0.002)
        obj = recv(self)
        record("recv", type=type(obj).__name__, val=value(obj), ln=line())
        return obj

    recv_bytes = cls.recv_bytes

    def recv_bytes_in_turn(self, maxlength=None):  # what a Queue, a Pool and a Manager read with
        crossproc.readable(self)
        return recv_bytes(self, maxlength)

    cls.send, cls.recv, cls.recv_bytes = traced_send, traced_recv, recv_bytes_in_turn


def _spawn_command_line(*args, **kwargs):
    """A child spawned by a fresh interpreter first imports the engine (``grader.engine.spawned``)."""
    cmd = _orig["spawn_cmd"](*args, **kwargs)
    i = cmd.index("-c") + 1
    cmd[i] = "import grader.engine.spawned; " + cmd[i]
    return cmd


def _patch_connection(module) -> None:
    _wrap_connection(module.Connection)
    crossproc.patch_wait(module)
    # Its poll() loops until a deadline on time.monotonic(): that must be real time, or a
    # poll(0) would spin forever on a virtual clock that does not move.
    module.time = types.SimpleNamespace(monotonic=real.monotonic, sleep=real.sleep, time=real.wall_time)


_spawned = 0


def _preparation_data(name):
    """What a spawn child gets before the program: multiprocessing's, and the engine's config."""
    global _spawned
    data = _orig["prep"](name)
    spawn_cfg = config.get("spawn")
    if spawn_cfg and state.S is not None:
        _spawned += 1
        data["grader_engine"] = dict(spawn_cfg, now=_vnow(), n=_spawned)
    return data


def _patch_spawn(module) -> None:
    _orig["spawn_cmd"] = module.get_command_line
    module.get_command_line = _spawn_command_line
    _orig["prep"] = module.get_preparation_data
    module.get_preparation_data = _preparation_data


def _patch_popen_spawn(module) -> None:
    """The run's spawn children come from a zygote (see ``grader.engine.spawned``)."""
    import multiprocessing.forkserver as forkserver
    import multiprocessing.popen_forkserver as popen_forkserver

    forkserver.set_forkserver_preload(["grader.engine.spawned"])
    module.Popen = popen_forkserver.Popen


def _patch_process(module) -> None:
    bootstrap = module.BaseProcess._bootstrap

    def traced_bootstrap(self, *args, **kwargs):
        # In the child, once its Process object is there (forked or unpickled).
        run = _traced_body(self, "_target") or self.run

        def run_then_settle():
            try:
                return run()
            finally:
                if state.M is not None:
                    state.M.settle()  # before _bootstrap flushes the streams (and the records)

        self.run = run_then_settle
        try:
            return bootstrap(self, *args, **kwargs)
        finally:
            if state.R is not None:
                state.R.flush()
            crossproc.leave()  # the turn passes on before the process exits

    module.BaseProcess._bootstrap = traced_bootstrap


def _patch_managers(module) -> None:
    serve = module.Server.serve_forever

    def serve_for_real(self, *args, **kwargs):
        # A Manager's server blocks in accept() and recv() in threads of its own: under the
        # scheduler one of them would hold the baton forever. It runs real, bounded by the run's limits.
        deactivate()
        return serve(self, *args, **kwargs)

    module.Server.serve_forever = serve_for_real
    crossproc.patch_managers(module)


def _patch_pool(module) -> None:
    run = module._WorkItem.run

    def traced_run(self, *args, **kwargs):
        _traced_body(self, "fn")
        return run(self, *args, **kwargs)

    module._WorkItem.run = traced_run


def use_start_method(module) -> None:
    """The run's start method (SPEC: fork wherever the platform has it, spawn for spawn_safe).

    Made the *default* one, not set: a program that calls ``set_start_method`` itself (as many
    written on a Mac do) must not get "context has already been set", and gets what it asks for.
    """
    method = config.get("start_method")
    if method and method in module.get_all_start_methods():
        from multiprocessing import context
        context._default_context._default_context = context._concrete_contexts[method]


class _AfterImport:
    """Runs a module, then our patch of it (a loader; ``importlib.abc`` is not imported for it:
    its import pulls in importlib.resources, a fifth of the child's start-up)."""

    def __init__(self, loader, then):
        self.loader, self.then = loader, then

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        self.then(module)


class _PatchOnImport:
    """multiprocessing is patched when (and only if) something imports it: most programs never
    do, and importing it costs a warm child more than the rest of the engine."""

    patches = {"multiprocessing": use_start_method, "multiprocessing.connection": _patch_connection,
               "multiprocessing.spawn": _patch_spawn, "multiprocessing.process": _patch_process,
               "multiprocessing.popen_spawn_posix": _patch_popen_spawn,
               "multiprocessing.managers": _patch_managers, "concurrent.futures.thread": _patch_pool,
               "multiprocessing.popen_fork": crossproc.patch_popen_fork,
               "multiprocessing.synchronize": crossproc.patch_synchronize,
               "multiprocessing.sharedctypes": crossproc.patch_sharedctypes,
               "multiprocessing.queues": crossproc.patch_queues}

    def find_spec(self, name, path, target=None):
        if name not in self.patches:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                spec.loader = _AfterImport(spec.loader, self.patches[name])
                return spec
        return None


def _patch_multiprocessing() -> None:
    for name, patch_module in _PatchOnImport.patches.items():
        if name in sys.modules and name != "multiprocessing":
            patch_module(sys.modules[name])
    sys.meta_path.insert(0, _PatchOnImport())
    _os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)




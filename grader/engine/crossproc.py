"""Waiting on another process, on the board's turns (``board``): ``multiprocessing`` patched.

A thread that waits for something another process does (data in a Pipe or a Queue, a child to
end, a ``multiprocessing`` Lock or Semaphore to be released) must not wait for real while its
process holds the run's turn: the other process could never act. It looks, and while the thing is
not there it lets another thread of its process run, or hands the turn to another process, and
looks again when the turn comes back. Only where no process of the board can act (a Manager's
server, a ``spawn`` child: they run beside the board) does it wait for real.

The accesses of state shared between processes (a Manager's proxies, ``Value``/``Array``) are
scheduling points: there the turn may pass, so that two processes' read-then-write can interleave
as the seed decides. They are recorded (``xmem``), and so is every acquire and release of a
``multiprocessing`` Lock, RLock or Semaphore by the program (``xsync``), each with an identity
(``x``) that is the same in every process (the parent numbers them): what the analysis needs to
tell a lost update between processes, and a lock shared by all of them from a copy in each.

A race-directed run names a key (``readers_of``, from the parent's ``explore``): each process that
reads that key of shared state hands the turn on and is held until another process has written it
(or none can run): every process's read comes before any write of it, by construction.
"""
from __future__ import annotations

import os
import socket
import struct
import sys

from . import board, real, state
from .recorder import value

_PEERCRED = struct.Struct("3i")

# How a proxy's method touches what it refers to (the rest: not recorded).
_READS = {"get": True, "__getitem__": True, "__contains__": True, "keys": False, "values": False,
          "items": False, "copy": False, "__len__": False, "__iter__": False, "index": True, "count": False}
_WRITES = {"__setitem__": True, "setdefault": True, "pop": True, "__delitem__": True, "update": False,
           "clear": False, "popitem": False, "append": False, "extend": False, "insert": False,
           "remove": False, "__iadd__": False}
_INTERNAL = ("synchronize.py", "queues.py", "managers.py", "pool.py", "sharedctypes.py")
_HELD = {"key": None, "on": False}
"""The key of a race-directed run (``configure``), and whether it is in force."""


def configure(directions) -> None:
    """The run's process-level direction, if any (the others steer threads)."""
    for d in directions or ():
        if isinstance(d, dict) and "readers_of" in d:
            _HELD["key"], _HELD["on"] = _key(d["readers_of"]), True


def _key(k):
    return tuple(_key(x) for x in k) if isinstance(k, list) else k


def _process_name() -> str:
    mp = sys.modules.get("multiprocessing.process")
    try:
        return str(mp.current_process().name) if mp is not None else "MainProcess"
    except Exception:  # noqa: BLE001  (a program may have renamed it to anything)
        return "?"


_inner = [0]  # inside a Value's own get or set: the lock it takes there is not the program's


def _by_program() -> bool:
    """Called by the program, not by ``multiprocessing`` itself (a Condition's inner lock, a Queue's)."""
    if _inner[0]:
        return False
    f = sys._getframe(1)
    while f is not None and f.f_code.co_filename in (__file__, "<string>"):  # <string>: a proxy's methods
        f = f.f_back
    name = f.f_code.co_filename if f is not None else ""
    return not (os.path.basename(name) in _INTERNAL and "multiprocessing" in name)


def _name_of(obj) -> str | None:
    """How the program's innermost frame names ``obj`` (``cnt_dct``), if it does."""
    f, script = sys._getframe(2), state.R.script
    while f is not None and f.f_code.co_filename != script:
        f = f.f_back
    if f is None:
        return None
    for names in (f.f_locals, f.f_globals):
        for name, v in list(names.items())[:200]:
            if v is obj and isinstance(name, str) and not name.startswith("__"):
                return name
    return None


def _mem(x: str, ty: str, op: str, how: str, key, val, obj=None) -> None:
    if state.R is None:
        return
    extra = {}
    name = _name_of(obj) if obj is not None else None
    if name:
        extra["lbl"] = name
    state.record("xmem", x=x, ty=ty, op=op, how=how, key=value(key), val=value(val), ln=state.line(4),
                 pn=_process_name(), **extra)
    if op == "read" and _HELD["on"] and _ours() and key == _HELD["key"]:
        B = board.B
        B.hold(state.S, B.writes())
    elif op == "write" and _HELD["on"] and board.B is not None and key == _HELD["key"]:
        board.B.wrote()


def _msg(x: str, ty: str, op: str, val=None) -> None:
    if state.R is not None and _by_program():
        state.record("xmsg", x=x, ty=ty, op=op, val=value(val), ln=state.line(4), pn=_process_name())


def _sync(x: str, kind: str, op: str, start: int | None) -> None:
    if state.R is not None:
        extra = {"value": start} if start is not None else {}
        state.record("xsync", x=x, kind=kind, op=op, ln=state.line(4), pn=_process_name(), **extra)


def _vnow() -> float:
    return state.S.now if state.S is not None else 0.0


def _ours() -> bool:
    """The calling thread holds its process's baton, and the process is on a board."""
    S, B = state.S, board.B
    return S is not None and B is not None and not B.free and S.managed()


def wait_until(ready, timeout: float | None = None) -> bool | None:
    """Until ``ready()`` (True), on the board's turns; False when ``timeout`` (virtual seconds)
    passed first; None when nothing on the board can make it happen (the caller waits for real)."""
    S = state.S
    deadline = None if timeout is None else _vnow() + max(0.0, timeout)
    while not ready():
        if deadline is not None and S.now >= deadline:
            return False
        # Every time round, the other threads of this process and then the other processes get
        # a turn: two threads that both wait here must not hand the baton to each other forever.
        switched = S.alive > 1 and S.let_others_run()
        if ready():
            break
        if board.B.block(S):
            continue
        if not switched:
            return None
        real.sleep(0.0005)  # only threads that wait on what no process of the board does
    return True


def peer_on_board(conn) -> bool:
    """Is the process at the other end of ``conn`` one that needs the turn to write? (A
    Manager's server does not: waiting on it for real is deterministic.) A socket names its
    peer (``SO_PEERCRED``: the process that made it); a plain pipe does not, and counts as one."""
    known = getattr(conn, "_grader_peer", None)
    if known is None:
        pid = None
        try:
            s = socket.socket(fileno=os.dup(conn.fileno()))
        except OSError:
            s = None
        if s is not None:
            try:
                if s.family == socket.AF_UNIX:
                    pid = _PEERCRED.unpack(s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size))[0]
            except OSError:
                pid = None
            finally:
                s.close()
        known = pid if pid else -1
        try:
            conn._grader_peer = known
        except AttributeError:
            pass
    return known == -1 or board.B.on_board(known)


def readable(conn) -> bool:
    """Before a read of ``conn`` that would block: wait on the board's turns until it can read.
    True when the read may now block for real (data is there, or the peer answers by itself);
    False when the board cannot help (not on one, or no process of it can send)."""
    if not _ours():
        return False
    if conn.poll(0) or not peer_on_board(conn):
        return True
    return wait_until(lambda: conn.poll(0)) is True


def _on_board(obj) -> bool:
    """Can what ``connection.wait`` watches become ready only by a process of the board?"""
    if hasattr(obj, "_grader_peer") or type(obj).__name__ == "Connection":
        return peer_on_board(obj)
    return True  # a process sentinel or a plain pipe: counts as one


# -- multiprocessing, patched on import (``runtime._PatchOnImport``) --------------------------

def patch_wait(module) -> None:
    """``multiprocessing.connection.wait`` (a Pool's threads watch their workers with it), on turns."""
    wait = module.wait

    def wait_in_turn(object_list, timeout=None):
        if not _ours() or not any(_on_board(o) for o in object_list):
            return wait(object_list, timeout)
        found: list = []

        def ready() -> bool:
            found[:] = wait(object_list, 0)
            return bool(found)

        done = wait_until(ready, timeout)
        if done and (timeout is None or timeout > 0) and state.S.alive > 1:
            # Ready at once: what made it ready may be another thread's to consume (a Pool's
            # worker handler wakes on results its result handler reads), and a caller that loops
            # on it would keep the baton for ever; as the OS would, the others get a turn.
            state.S.let_others_run()
        if done is None:
            return wait(object_list, timeout)
        return found if done else []

    module.wait = wait_in_turn


def _joined(popen, done: bool) -> None:
    """A wait for a forked child returned (``Process.join``): without this record, a child joined
    right after its start and children running side by side look alike."""
    if state.R is not None:
        state.record("xjoin", cpid=int(popen.pid or 0), done=done, ln=state.line(3))


def patch_popen_fork(module) -> None:
    """``Process.join`` of a forked child: wait on the board's turns until it has ended."""
    wait = module.Popen.wait

    def wait_on_board(self, timeout=None):
        if self.returncode is None and _ours():
            done = wait_until(lambda: self.poll(os.WNOHANG) is not None, timeout)
            if done is False:
                _joined(self, False)
                return None
        code = wait(self, timeout)
        _joined(self, code is not None)
        return code

    module.Popen.wait = wait_on_board


def patch_synchronize(module) -> None:
    """A ``multiprocessing`` Lock, RLock, Semaphore (and the Condition, Event and Barrier made of
    them) taken on the board's turns."""
    make = module.SemLock._make_methods

    def make_methods(self):
        make(self)
        take, give = self._semlock.acquire, self._semlock.release
        # Its name (random, unlinked at once) tells apart locks made in different processes,
        # where the address of each could be the same.
        name = getattr(self._semlock, "name", None)
        x = f"sem:{name}" if name else f"sem:{os.getpid()}:{self._semlock.handle}"
        kind = type(self).__name__
        try:  # its count when made (make_methods runs right after; a fork or unpickling: now)
            start = int(self._semlock._get_value())
        except (AttributeError, NotImplementedError, OSError, ValueError):
            start = None

        def acquire_in_turn(block=True, timeout=None):
            if not block or not _ours():
                return take(block, timeout) if timeout is not None else take(block)
            if take(False):
                return True
            got = wait_until(lambda: take(False), timeout)
            if got is None:  # held by a process beside the board: wait for it for real
                return take(True, timeout) if timeout is not None else take(True)
            return got

        def acquire(block=True, timeout=None):
            got = acquire_in_turn(block, timeout)
            if got and _by_program():
                _sync(x, kind, "acq", start)
            return got

        def release():
            if _by_program():
                _sync(x, kind, "rel", start)
            return give()

        self.acquire, self.release = acquire, release

    module.SemLock._make_methods = make_methods
    module.SemLock.__enter__ = lambda self: self.acquire()
    module.SemLock.__exit__ = lambda self, *exc: self.release()
    patch_event(module)


def patch_queues(module) -> None:
    """A ``multiprocessing`` Queue's (JoinableQueue's, SimpleQueue's) put and get recorded (``xmsg``)."""
    for cls in (module.Queue, module.JoinableQueue, module.SimpleQueue):
        init = cls.__init__

        def made(self, *args, _init=init, **kwargs):
            _init(self, *args, **kwargs)
            self._grader_x = f"q:{os.getpid()}:{id(self)}"  # a fork inherits it; a Queue made in each child differs

        cls.__init__ = made
        for op in ("put", "get"):
            if op not in cls.__dict__:
                continue
            method = cls.__dict__[op]

            def traced(self, *args, _method=method, _op=op, **kwargs):
                result = _method(self, *args, **kwargs)
                x = getattr(self, "_grader_x", None) or f"q:{os.getpid()}:{id(self)}"
                _msg(x, type(self).__name__, _op, args[0] if _op == "put" and args else result)
                return result

            setattr(cls, op, traced)


def patch_event(module) -> None:
    """A ``multiprocessing`` Event's set, clear and wait recorded (``xmsg``)."""
    cls = module.Event

    def x_of(self) -> str:
        return f"ev:{getattr(self._flag._semlock, 'name', None) or id(self)}"

    for op in ("set", "clear", "wait"):
        method = cls.__dict__[op]

        def traced(self, *args, _method=method, _op=op, **kwargs):
            result = _method(self, *args, **kwargs)
            _msg(x_of(self), "Event", _op, result if _op == "wait" else None)
            return result

        setattr(cls, op, traced)


def patch_managers(module) -> None:
    """A call on a Manager's proxy is a scheduling point (before it: the server answers at once)."""
    call = module.BaseProxy._callmethod

    def callmethod(self, methodname, args=(), kwds={}):  # noqa: B006  (the signature it replaces)
        if _ours():
            state.S.point()
        result = call(self, methodname, args, kwds)
        if state.R is not None and (methodname in _READS or methodname in _WRITES) and _by_program():
            write = methodname in _WRITES
            keyed = (_WRITES if write else _READS)[methodname] and bool(args)
            key = args[0] if keyed else None
            val = (args[1] if len(args) > 1 else result) if write else result
            x = f"mgr:{self._token.address}:{self._token.id}"
            _mem(x, type(self).__name__, "write" if write else "read", methodname, key, val, self)
        return result

    module.BaseProxy._callmethod = callmethod


def patch_sharedctypes(module) -> None:
    """Reading or writing a synchronized ``Value``'s value or an ``Array``'s item is a scheduling point."""
    prop = module.Synchronized.value
    import ctypes

    init = module.SynchronizedBase.__init__

    def made(self, *args, **kwargs):
        init(self, *args, **kwargs)
        # Named where it is made (a fork inherits the name): a Value made in each child may sit
        # at the same address as another child's.
        self._grader_x = f"val:{os.getpid()}:{ctypes.addressof(self._obj)}"

    module.SynchronizedBase.__init__ = made

    def where(self) -> str:
        return getattr(self, "_grader_x", None) or f"val:{os.getpid()}:{ctypes.addressof(self._obj)}"

    def inner(f, *args):
        _inner[0] += 1
        try:
            return f(*args)
        finally:
            _inner[0] -= 1

    def get(self):
        if _ours():
            state.S.point()
        v = inner(prop.fget, self)
        _mem(where(self), "Value", "read", "value", None, v, self)
        return v

    def put(self, v):
        if _ours():
            state.S.point()
        inner(prop.fset, self, v)
        _mem(where(self), "Value", "write", "value", None, v, self)

    module.Synchronized.value = property(get, put)
    get_item, set_item = module.SynchronizedArray.__getitem__, module.SynchronizedArray.__setitem__

    def getitem(self, i):
        if _ours():
            state.S.point()
        v = inner(get_item, self, i)
        if isinstance(i, int):
            _mem(where(self), "Array", "read", "[]", i, v, self)
        return v

    def setitem(self, i, v):
        if _ours():
            state.S.point()
        inner(set_item, self, i, v)
        if isinstance(i, int):
            _mem(where(self), "Array", "write", "[]", i, v, self)

    module.SynchronizedArray.__getitem__, module.SynchronizedArray.__setitem__ = getitem, setitem


def leave() -> None:
    """This process leaves the board (it ends, or runs on its own: a Manager's server)."""
    if board.B is not None:
        board.B.leave()


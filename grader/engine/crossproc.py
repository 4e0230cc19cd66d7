"""Waiting on another process, on the board's turns (``board``): ``multiprocessing`` patched.

A thread that waits for something another process does (data in a Pipe or a Queue, a child to
end, a ``multiprocessing`` Lock or Semaphore to be released) must not wait for real while its
process holds the run's turn: the other process could never act. It looks, and while the thing is
not there it lets another thread of its process run, or hands the turn to another process, and
looks again when the turn comes back. Only where no process of the board can act (a Manager's
server, a ``spawn`` child: they run beside the board) does it wait for real.

The accesses of state shared between processes (a Manager's proxies, ``Value``/``Array``) are
scheduling points: there the turn may pass, so that two processes' read-then-write can interleave
as the seed decides.
"""
from __future__ import annotations

import os
import socket
import struct

from . import board, real, state

_PEERCRED = struct.Struct("3i")


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
        if done is None:
            return wait(object_list, timeout)
        return found if done else []

    module.wait = wait_in_turn


def patch_popen_fork(module) -> None:
    """``Process.join`` of a forked child: wait on the board's turns until it has ended."""
    wait = module.Popen.wait

    def wait_on_board(self, timeout=None):
        if self.returncode is None and _ours():
            done = wait_until(lambda: self.poll(os.WNOHANG) is not None, timeout)
            if done is False:
                return None
        return wait(self, timeout)

    module.Popen.wait = wait_on_board


def patch_synchronize(module) -> None:
    """A ``multiprocessing`` Lock, RLock, Semaphore (and the Condition, Event and Barrier made of
    them) taken on the board's turns."""
    make = module.SemLock._make_methods

    def make_methods(self):
        make(self)
        take = self._semlock.acquire

        def acquire(block=True, timeout=None):
            if not block or not _ours():
                return take(block, timeout) if timeout is not None else take(block)
            if take(False):
                return True
            got = wait_until(lambda: take(False), timeout)
            if got is None:  # held by a process beside the board: wait for it for real
                return take(True, timeout) if timeout is not None else take(True)
            return got

        self.acquire = acquire

    module.SemLock._make_methods = make_methods
    module.SemLock.__enter__ = lambda self: self.acquire()


def patch_managers(module) -> None:
    """A call on a Manager's proxy is a scheduling point (before it: the server answers at once)."""
    call = module.BaseProxy._callmethod

    def callmethod(self, methodname, args=(), kwds={}):  # noqa: B006  (the signature it replaces)
        if _ours():
            state.S.point()
        return call(self, methodname, args, kwds)

    module.BaseProxy._callmethod = callmethod


def patch_sharedctypes(module) -> None:
    """Reading or writing a synchronized ``Value``'s value or an ``Array``'s item is a scheduling point."""
    prop = module.Synchronized.value

    def get(self):
        if _ours():
            state.S.point()
        return prop.fget(self)

    def put(self, v):
        if _ours():
            state.S.point()
        prop.fset(self, v)

    module.Synchronized.value = property(get, put)
    for name in ("__getitem__", "__setitem__"):
        method = getattr(module.SynchronizedArray, name)

        def at_point(self, *args, _method=method):
            if _ours():
                state.S.point()
            return _method(self, *args)

        setattr(module.SynchronizedArray, name, at_point)


def leave() -> None:
    """This process leaves the board (it ends, or runs on its own: a Manager's server)."""
    if board.B is not None:
        board.B.leave()


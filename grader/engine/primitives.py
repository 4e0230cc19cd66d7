"""Lock, RLock, Semaphore and BoundedSemaphore built on the scheduler.

A *visible* primitive was created by the submission: its operations are scheduling points and
are recorded. An *internal* one (``threading``'s own locks: Condition waiters, Event flags) blocks
through the scheduler too, but is neither a scheduling point nor recorded, so exploration spends
its choices on what the student wrote.

A thread the scheduler does not manage (``_thread.start_new_thread``, a C library's thread) gets
plain polling behaviour instead of hanging the run.
"""
from __future__ import annotations

from . import real, state


def _poll_until(ready, blocking: bool, timeout: float) -> bool:
    """Fallback wait for unmanaged threads: poll in real time."""
    if ready():
        return True
    if not blocking:
        return False
    end = None if timeout is None or timeout < 0 else real.monotonic() + timeout
    while not ready():
        if end is not None and real.monotonic() >= end:
            return False
        real.sleep(0.0005)
    return True


def kind_of(prim) -> str:
    """What the runtime made ``prim`` as: the first of the engine's own classes in its type's
    order. A program's subclass cannot change it (a Semaphore subclass saying ``kind = "Lock"``)."""
    for cls in type(prim).__mro__:
        kind = _KINDS.get(cls)
        if kind is not None:
            return kind
    return "Lock"


def _released(prim) -> None:
    """After a release: every waiter may try again; a visible release is reported and is a
    scheduling point."""
    sched = state.S
    for waiter in prim._waiters:
        sched.wake(waiter)
    prim._waiters.clear()
    if prim._visible and sched is not None and sched.managed():
        prim._report("rel")
        sched.point()


def _deadline(sched, blocking: bool, timeout) -> float | None:
    if timeout is None or timeout < 0:
        return None
    return sched.now + timeout


class Lock:
    """``threading.Lock`` under the scheduler."""

    kind = "Lock"
    public = None
    """Set by ``runtime.patch`` where ``threading.Lock`` is this class (CPython 3.13+, where it is
    the class ``_thread.lock``): what ``threading.Lock()`` then makes, as the factory would."""

    def __new__(cls, *args, **kwargs):
        if cls is Lock and not args and not kwargs and Lock.public is not None:
            return Lock.public()
        return super().__new__(cls)

    def __init__(self, visible: bool | None = None):
        if visible is None and hasattr(self, "_holder"):
            return  # made in ``__new__`` by ``public``: set up already
        self._holder = None     # ThreadState, or True when taken by an unmanaged thread
        self._waiters: list = []
        self._visible = visible
        if visible:
            state.record("new", obj=state.oid(self), kind=kind_of(self), value=1, ln=state.line(3))

    def _report(self, kind: str, **fields):
        state.record(kind, obj=state.oid(self), kind=kind_of(self), ln=state.line(4), **fields)

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        sched = state.S
        if sched is None or not sched.managed():
            ok = _poll_until(lambda: self._holder is None, blocking, timeout)
            if ok:
                self._holder = True
            return ok
        me = sched.current
        if self._visible:
            sched.point()
        deadline = _deadline(sched, blocking, timeout)
        while self._holder is not None:
            if not blocking:
                return False
            if self._visible:
                self._report("block")
            self._waiters.append(me)
            ok = sched.wait(self, deadline, state.line(2) if self._visible else None)
            if me in self._waiters:
                self._waiters.remove(me)
            if not ok:
                return False
        self._holder = me
        if self._visible:
            self._report("acq")
        return True

    def release(self) -> None:
        if self._holder is None:
            raise RuntimeError("release unlocked lock")
        self._holder = None
        _released(self)

    def locked(self) -> bool:
        return self._holder is not None

    __enter__ = acquire

    def __exit__(self, *exc):
        self.release()

    def _at_fork_reinit(self) -> None:
        self._holder = None
        self._waiters = []

    def __reduce__(self):  # as CPython: a thread lock cannot go to another process (spawn)
        raise TypeError(f"cannot pickle '_thread.{'RLock' if kind_of(self) == 'RLock' else 'lock'}' object")

    def __repr__(self):
        state = "locked" if self._holder is not None else "unlocked"
        return f"<{state} _thread.lock object at {hex(id(self))}>"


class RLock(Lock):
    """``threading.RLock`` under the scheduler (also what ``Condition`` uses by default)."""

    kind = "RLock"

    def __init__(self, visible: bool = False):
        self._count = 0
        super().__init__(visible)

    def _me(self):
        sched = state.S
        if sched is None or not sched.managed():
            return real.get_ident()
        return sched.current

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        me = self._me()
        if me is not None and self._holder == me:
            self._count += 1
            if self._visible:
                self._report("acq", depth=self._count)
            return True
        if not super().acquire(blocking, timeout):
            return False
        self._holder = me
        self._count = 1
        return True

    __enter__ = acquire

    def release(self) -> None:
        if self._holder != self._me() or self._count == 0:
            raise RuntimeError("cannot release un-acquired lock")
        self._count -= 1
        if self._count:
            if self._visible:
                self._report("rel", depth=self._count)
            return
        super().release()

    def _is_owned(self) -> bool:
        return self._holder == self._me() and self._count > 0

    def _recursion_count(self) -> int:
        return self._count if self._holder == self._me() else 0

    def _release_save(self):
        count, self._count = self._count, 1
        self.release()
        return count

    def _acquire_restore(self, count) -> None:
        self.acquire()
        self._count = count

    def _at_fork_reinit(self) -> None:
        super()._at_fork_reinit()
        self._count = 0

    def __repr__(self):
        state = "locked" if self._holder is not None else "unlocked"
        return f"<{state} _thread.RLock object count={self._count} at {hex(id(self))}>"


class Semaphore:
    """``threading.Semaphore`` under the scheduler; ``state.config['semaphore_cap']`` can lower it."""

    kind = "Semaphore"

    def __init__(self, value: int = 1):
        if value < 0:
            raise ValueError("semaphore initial value must be >= 0")
        cap = state.config.get("semaphore_cap")
        if cap is not None:
            value = min(value, cap)
        self._value = value
        self._initial = value
        self._waiters: list = []
        # Created by the submission (not by queue or concurrent.futures inside the standard library)?
        self._visible = state.from_submission(2)
        if self._visible:
            state.record("new", obj=state.oid(self), kind=kind_of(self), value=value, ln=state.line(3))

    def _report(self, kind: str):
        if self._visible:
            state.record(kind, obj=state.oid(self), kind=kind_of(self), value=self._value, ln=state.line(4))

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        if not blocking and timeout is not None:
            raise ValueError("can't specify timeout for non-blocking acquire")
        sched = state.S
        if sched is None or not sched.managed():
            ok = _poll_until(lambda: self._value > 0, blocking, -1 if timeout is None else timeout)
            if ok:
                self._value -= 1
            return ok
        me = sched.current
        if self._visible:
            sched.point()
        deadline = _deadline(sched, blocking, timeout)
        while self._value == 0:
            if not blocking:
                return False
            self._report("block")
            self._waiters.append(me)
            ok = sched.wait(self, deadline, state.line(2))
            if me in self._waiters:
                self._waiters.remove(me)
            if not ok:
                return False
        self._value -= 1
        self._report("acq")
        return True

    __enter__ = acquire

    def release(self, n: int = 1) -> None:
        if n < 1:
            raise ValueError("n must be one or more")
        self._check_release(n)
        self._value += n
        _released(self)

    def _check_release(self, n: int) -> None:
        pass

    def __exit__(self, *exc):
        self.release()

    def __reduce__(self):  # as CPython, whose Semaphore holds a thread lock
        raise TypeError("cannot pickle '_thread.lock' object")

    def __repr__(self):
        cls = type(self)
        return f"<{cls.__module__}.{cls.__qualname__} at {hex(id(self))}: value={self._value}>"


class BoundedSemaphore(Semaphore):
    """``threading.BoundedSemaphore``: releasing above the initial value is an error."""

    kind = "BoundedSemaphore"

    def _check_release(self, n: int) -> None:
        if self._value + n > self._initial:
            raise ValueError("Semaphore released too many times")


_KINDS = {RLock: "RLock", Lock: "Lock", BoundedSemaphore: "BoundedSemaphore", Semaphore: "Semaphore"}

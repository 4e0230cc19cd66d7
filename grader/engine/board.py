"""One baton for the processes of a run: they run one at a time, in an order the seed decides.

Threads of one process already run one at a time (``scheduler``). Processes of the same run would
still run side by side, for real, and what they share (a Manager's dict, a Pipe, a Lock of
``multiprocessing``) would change in whatever order the machine's scheduler gave: the same file
and seed would not give the same report. So a run whose program forks gets a *board*: a page of
memory shared by every process forked from it, holding whose turn it is, the state of each
process (runnable, waiting for another, sleeping on the virtual clock, done) and the run's
virtual clock, with one POSIX semaphore per process as its gate. The process whose turn it is runs;
every other one waits on its gate. The turn passes

- at a scheduling point of the running process, when the seeded decision says so;
- when the running process must wait for another (a Pipe with nothing to read, a child to join,
  a ``multiprocessing`` Lock another process holds): it hands the turn on and looks again when it
  comes back;
- when all its threads sleep: the process whose sleep ends first runs next, the clock moves to it;
- when it ends.

Only processes the program forks take part (a ``spawn`` child starts from a fresh interpreter and
runs beside them, as before; so does a Manager's server once it serves). Nothing waits forever on
the board: a process whose turn it was and that died is passed over, and if the running one holds
the turn without a decision while computing nothing for a second (a wait the engine does not
know; a holder starved by a busy machine still computes), the board is given up and the
processes run side by side from then on (``free``), as without it.

Child side only; nothing here runs unless the program forks.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import errno
import mmap
import os
import select
import struct

from . import real, state

SLOTS = 256
RUNNABLE, WAITING, SLEEPING, DONE = 1, 2, 3, 4

_HEADER = struct.Struct("=iiqdqiii")  # holder, slots, steps, now, progress, free, cursor, quiet
_SLOT = struct.Struct("=iid")         # state, pid, deadline
_WRITES_AT = 48                       # writes of a race-directed run's key (``hold``)
_COUNT = struct.Struct("=q")
_SLOTS_AT = 64
_SEMS_AT = 8192                       # the board mutex, then one gate per slot
_SEM = 32                             # sizeof(sem_t) on 64-bit Linux (glibc and musl)
_SIZE = _SEMS_AT + _SEM * (SLOTS + 1)
_POLL = 0.05                          # real seconds between looks at a turn that does not come
_STALL = 1.0                          # seconds a turn's holder may compute nothing, with no decision
_SWITCH_ONE_IN = 4                    # at a scheduling point, the turn passes one time in four
_MASK = (1 << 64) - 1


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
for _name in ("sem_init", "sem_post", "sem_wait", "sem_timedwait"):
    getattr(_libc, _name).restype = ctypes.c_int


def _mix(x: int) -> int:
    """splitmix64: a decision that depends on the seed and the step only, whoever computes it."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


class Board:
    """The shared page (see the module's doc); ``me`` is this process's slot (None: not on it)."""

    def __init__(self, seed: int) -> None:
        self.mm = mmap.mmap(-1, _SIZE, flags=mmap.MAP_SHARED)
        self.base = ctypes.addressof(ctypes.c_char.from_buffer(self.mm))
        self.seed = seed & _MASK
        for i in range(SLOTS + 1):
            if _libc.sem_init(ctypes.c_void_p(self.base + _SEMS_AT + _SEM * i), 1, 1 if i == 0 else 0) != 0:
                raise OSError(ctypes.get_errno(), "sem_init")
        _HEADER.pack_into(self.mm, 0, 0, 1, 0, 0.0, 0, 0, 0, 0)
        _SLOT.pack_into(self.mm, _SLOTS_AT, RUNNABLE, os.getpid(), 0.0)
        self.me: int | None = 0
        self._pidfds: dict[int, int] = {}

    # -- the page -----------------------------------------------------------------------------

    def _head(self) -> list:
        return list(_HEADER.unpack_from(self.mm, 0))

    def _set_head(self, h: list) -> None:
        _HEADER.pack_into(self.mm, 0, *h)

    def _slot(self, k: int) -> tuple[int, int, float]:
        return _SLOT.unpack_from(self.mm, _SLOTS_AT + _SLOT.size * k)

    def _set_slot(self, k: int, st: int, pid: int, deadline: float = 0.0) -> None:
        _SLOT.pack_into(self.mm, _SLOTS_AT + _SLOT.size * k, st, pid, deadline)

    def _sem(self, i: int) -> ctypes.c_void_p:
        return ctypes.c_void_p(self.base + _SEMS_AT + _SEM * i)

    def _lock(self) -> None:
        while _libc.sem_wait(self._sem(0)) != 0:
            if ctypes.get_errno() != errno.EINTR:
                raise OSError(ctypes.get_errno(), "sem_wait")

    def _unlock(self) -> None:
        _libc.sem_post(self._sem(0))

    @property
    def free(self) -> bool:
        """The board was given up: processes run side by side."""
        return self.me is None or _HEADER.unpack_from(self.mm, 0)[5] != 0

    def on_board(self, pid: int) -> bool:
        """Is ``pid`` a process of the board that has not left it (its turn is needed to act)?"""
        if self.free:
            return False
        n = _HEADER.unpack_from(self.mm, 0)[1]
        return any(self._slot(k)[1] == pid and self._slot(k)[0] not in (DONE, 0) for k in range(n))

    # -- joining and leaving ------------------------------------------------------------------

    def reserve(self) -> None:
        """Before this process forks: a slot for the child, runnable from now on (the parent may
        hand it the turn before the child has even started)."""
        self._reserved = None
        if self.free:
            return
        self._lock()
        try:
            h = self._head()
            if h[1] >= SLOTS:
                self._give_up(h)
                return
            self._reserved = h[1]
            h[1] += 1
            self._set_head(h)
            self._set_slot(self._reserved, RUNNABLE, 0)  # pid 0: not known yet, taken as alive
        finally:
            self._unlock()

    def child(self) -> None:
        """In the process just forked: take the slot reserved for it and wait for a turn."""
        self._pidfds = {}
        self.me, self._reserved = getattr(self, "_reserved", None), None
        if self.me is None:
            return
        self._lock()
        try:
            self._set_slot(self.me, RUNNABLE, os.getpid())
        finally:
            self._unlock()
        self._wait_turn()

    def leave(self) -> None:
        """This process is done (or goes its own way, as a Manager's server): the turn passes on."""
        if self.me is None:
            return
        me, self.me = self.me, None
        self._lock()
        try:
            self._set_slot(me, DONE, os.getpid())
            h = self._head()
            h[7] = 0
            self._set_head(h)
            if h[0] == me and not h[5]:
                self._hand(h, self._next(h, me))
        finally:
            self._unlock()

    # -- the holder's decisions ----------------------------------------------------------------

    def point(self, sched) -> None:
        """A scheduling point of the running process: the turn may pass to another process."""
        if self.free:
            return
        self._lock()
        try:
            h = self._head()
            h[2] += 1
            self._set_head(h)
            roll = _mix(self.seed ^ (h[2] * 0x632BE59BD9B4E019))
            others = [k for k in range(h[1]) if k != self.me and self._slot(k)[0] in (RUNNABLE, WAITING)]
            if not others or roll % _SWITCH_ONE_IN:
                return
            target = others[(roll >> 8) % len(others)]
        finally:
            self._unlock()
        self._pass(sched, target, RUNNABLE)

    def block(self, sched) -> bool:
        """The running process waits for another: the turn passes, and comes back for it to look
        again. False when no other process of the board can run (the caller waits for real)."""
        if self.free:
            return False
        self._lock()
        try:
            h = self._head()
            h[7] += 1
            self._set_head(h)
            target = self._next(h, self.me, blocking=True)
            waiting = sum(1 for k in range(h[1]) if k != self.me and self._slot(k)[0] == WAITING)
            idle = target is not None and self._slot(target)[0] == WAITING and h[7] > waiting
        finally:
            self._unlock()
        if target is None:
            return False
        if idle:  # everyone has looked again and waits on: something outside the board is slow
            real.sleep(0.001)
        self._pass(sched, target, WAITING)
        return True

    def sleep_until(self, sched, deadline: float) -> None:
        """Every thread of the running process sleeps until ``deadline`` at the earliest: the
        processes that can run go first, then the one whose sleep ends first (the clock moves)."""
        if self.free:
            return
        self._lock()
        try:
            h = self._head()
            h[3] = max(h[3], sched.now)
            self._set_head(h)
            others = [k for k in range(h[1]) if k != self.me and self._slot(k)[0] in (RUNNABLE, WAITING)]
            sleepers = [(self._slot(k)[2], k) for k in range(h[1])
                        if k != self.me and self._slot(k)[0] == SLEEPING]
            target = None
            if others:
                target = self._pick(h, others)
            elif sleepers and min(sleepers)[0] < deadline:
                target = min(sleepers)[1]
        finally:
            self._unlock()
        if target is not None:
            self._pass(sched, target, SLEEPING, deadline)
        else:
            self._sync_now(sched, deadline)

    def writes(self) -> int:
        """How many writes of the race-directed key the processes made so far."""
        return _COUNT.unpack_from(self.mm, _WRITES_AT)[0]

    def wrote(self) -> None:
        self._lock()
        try:
            _COUNT.pack_into(self.mm, _WRITES_AT, self.writes() + 1)
        finally:
            self._unlock()

    def hold(self, sched, seen: int) -> None:
        """Race-directed: this process has just read the key; the others that can run go first
        until one of them has written it (``writes`` moved past ``seen``) or none can run."""
        while not self.free and self.writes() == seen:
            self._lock()
            try:
                h = self._head()
                runnable = [k for k in range(h[1]) if k != self.me and self._slot(k)[0] == RUNNABLE]
                target = self._pick(h, runnable) if runnable else None
            finally:
                self._unlock()
            if target is None:
                return
            self._pass(sched, target, WAITING)

    # -- the turn -----------------------------------------------------------------------------

    def _pick(self, h: list, ks: list[int]) -> int:
        h[2] += 1
        self._set_head(h)
        return ks[_mix(self.seed ^ (h[2] * 0x9E3779B97F4A7C15)) % len(ks)]

    def _next(self, h: list, me: int | None, blocking: bool = False) -> int | None:
        """Whose turn it is after ``me``'s (called with the board locked): a runnable process
        (seeded); else the waiting ones, in turn, to look again; once each has looked and waits on
        (``blocking``: ``me`` waits too, ``quiet`` hand-overs in a row), the first to wake."""
        runnable = [k for k in range(h[1]) if k != me and self._slot(k)[0] == RUNNABLE]
        if runnable:
            return self._pick(h, runnable)
        waiting = [k for k in range(h[1]) if k != me and self._slot(k)[0] == WAITING]
        sleepers = [(self._slot(k)[2], k) for k in range(h[1]) if k != me and self._slot(k)[0] == SLEEPING]
        if waiting and (not blocking or h[7] <= len(waiting) or not sleepers):
            after = [k for k in waiting if k > h[6]]
            k = (after or waiting)[0]
            h[6] = k
            self._set_head(h)
            return k
        if sleepers:
            return min(sleepers)[1]
        return None

    def _hand(self, h: list, target: int | None) -> None:
        """Give the turn to ``target`` (with the board locked); a sleeper's wake-up moves the clock."""
        if target is None:
            return
        st, pid, deadline = self._slot(target)
        if st == SLEEPING:
            h[3] = max(h[3], deadline)
        h[0] = target
        h[4] += 1
        self._set_head(h)
        _libc.sem_post(self._sem(1 + target))

    def _pass(self, sched, target: int, st: int, deadline: float = 0.0) -> None:
        if state.R is not None:
            state.R.flush()  # what this process printed comes before what the next one does
        self._lock()
        try:
            h = self._head()
            h[3] = max(h[3], sched.now)
            if st != WAITING:
                h[7] = 0  # something happened: the waiting ones look again before the clock moves
            self._set_slot(self.me, st, os.getpid(), deadline)
            self._hand(h, target)
        finally:
            self._unlock()
        self._wait_turn()
        self._lock()
        try:
            self._set_slot(self.me, RUNNABLE, os.getpid())
        finally:
            self._unlock()
        sched.now = max(sched.now, _HEADER.unpack_from(self.mm, 0)[3])

    def _sync_now(self, sched, deadline: float) -> None:
        self._lock()
        try:
            h = self._head()
            h[3] = max(h[3], deadline)
            h[4] += 1
            self._set_head(h)
        finally:
            self._unlock()

    def _wait_turn(self) -> None:
        """Wait on this process's gate until it is its turn (or the board is given up)."""
        gate = self._sem(1 + self.me)
        seen, stalled = None, 0.0
        look = cpu = None
        while True:
            h = _HEADER.unpack_from(self.mm, 0)
            if h[0] == self.me or h[5]:
                return
            if (h[0], h[4]) != seen:
                seen, stalled, look, cpu = (h[0], h[4]), 0.0, None, None
            t = real.wall_time() + _POLL  # sem_timedwait counts on CLOCK_REALTIME (the real one)
            ts = _Timespec(int(t), int((t % 1) * 1e9))
            if _libc.sem_timedwait(gate, ctypes.byref(ts)) == 0:
                continue
            holder = h[0]
            if holder != self.me and not self._alive(holder):
                self._recover(holder)
                continue
            # A turn stalls while its holder computes nothing at all: it waits for something the
            # board does not know. One that is runnable but starved by a busy machine still gets
            # some CPU between two looks; a late look (this process starved) counts one poll.
            now, used = real.monotonic(), _cpu_seconds(self._slot(holder)[1])
            if used is None:  # nothing to go by but the clock
                stalled += now - look if look is not None else _POLL
            elif cpu is not None and used <= cpu:
                stalled += min(now - look, _POLL)
            look, cpu = now, used
            if stalled > _STALL:
                self._lock()
                try:
                    h2 = self._head()
                    if (h2[0], h2[4]) == seen and not h2[5]:
                        self._give_up(h2)
                finally:
                    self._unlock()

    def _alive(self, k: int) -> bool:
        st, pid, _ = self._slot(k)
        if st == DONE:
            return False
        if pid <= 0:
            return True  # forked a moment ago: its pid is not written yet
        fd = self._pidfds.get(pid)
        if fd is None:
            try:
                fd = self._pidfds[pid] = os.pidfd_open(pid)
            except (OSError, AttributeError):
                try:
                    os.kill(pid, 0)
                    return True
                except OSError:
                    return False
        readable, _, _ = select.select([fd], [], [], 0)
        return not readable  # a pidfd reads as ready once its process has ended

    def _recover(self, dead: int) -> None:
        """The process whose turn it was ended without passing it (killed, ``os._exit``)."""

        self._lock()
        try:
            h = self._head()
            if h[0] == dead and not h[5]:
                self._set_slot(dead, DONE, self._slot(dead)[1])
                h[7] = 0
                self._hand(h, self._next(h, dead))
        finally:
            self._unlock()

    def _give_up(self, h: list) -> None:
        """No more turns (with the board locked): every process runs as it can."""
        h[5] = 1
        self._set_head(h)
        for k in range(h[1]):
            _libc.sem_post(self._sem(1 + k))


def _cpu_seconds(pid: int) -> float | None:
    """The CPU time of process ``pid`` (all its threads), from its CPU-time clock: readable in the
    run's sandbox, where /proc is not. None when it cannot be read."""
    if pid <= 0:
        return None
    try:
        return real.clock_gettime(((~pid) << 3) | 2)  # MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED)
    except (OSError, OverflowError, ValueError, AttributeError):
        return None


B: Board | None = None
"""The board of this process's run, once the program forks; None before (and for ``spawn`` children)."""


def before_fork(seed: int) -> None:
    """In a process about to fork: the board exists (made by the run's first fork)."""
    global B
    if B is None:
        try:
            B = Board(seed)
        except (OSError, ValueError, AttributeError):
            B = None
    if B is not None:
        B.reserve()


def after_fork_in_child() -> None:
    if B is not None:
        B.child()

"""Baton passing over real OS threads, with virtual time.

Exactly one managed thread runs at a time: it holds the baton. Every other managed thread is
parked on its own gate (a real lock). At a scheduling point the running thread asks the strategy
which runnable thread goes next, opens that thread's gate and parks on its own. A blocked
thread is simply not runnable; nothing spins.

Time is virtual: a sleep costs no real time. When no thread can run, the clock jumps to the
earliest deadline (a sleep ending or a timed wait expiring). When nothing can run and nothing
sleeps, the program is deadlocked and is stopped at once.

The scheduler knows nothing of ``threading``'s API; ``runtime`` maps that API onto it.
"""
from __future__ import annotations

from . import board, real

RUNNABLE, BLOCKED, DONE = "runnable", "blocked", "done"


class ThreadState:
    """One managed thread as the scheduler sees it."""

    __slots__ = ("vid", "gate", "state", "deadline", "on", "ln", "timed_out", "priority",
                 "thread", "daemon", "real_ident", "joiners", "polling")

    def __init__(self, vid: int, daemon: bool = False):
        self.vid = vid
        self.gate = real.allocate_lock()
        self.gate.acquire()  # closed until the scheduler hands this thread the baton
        self.state = RUNNABLE
        self.deadline: float | None = None
        self.on = None       # what it waits for (object or description), for deadlock reports
        self.ln: int | None = None
        self.timed_out = False
        self.priority = 0.0
        self.thread = None   # the threading.Thread object, once known
        self.daemon = daemon
        self.real_ident: int | None = None
        self.joiners: list[ThreadState] = []
        self.polling = False  # inside let_others_run: it waits for something outside the scheduler

    @property
    def name(self) -> str:
        return self.thread.name if self.thread is not None else f"thread-{self.vid}"


class Stop(Exception):
    """Raised inside the engine when the run must end (deadlock, budget); never seen by students."""


class Scheduler:
    """Runs managed threads one at a time in the order a strategy chooses."""

    def __init__(self, strategy, *, timed: bool = True, max_steps: int = 200_000,
                 max_vtime: float = 3600.0, on_stop=None):
        self.strategy = strategy
        self.timed = timed
        self.max_steps = max_steps
        self.max_vtime = max_vtime
        self.on_stop = on_stop  # called with (kind, detail) when the run must end; must not return
        self.now = 0.0
        self.steps = 0
        self.sub = 0
        """Accesses since the last decision: with ``steps``, an access's position (``memory``)."""
        self.gen = 0
        """Bumped whenever which threads can run may have changed (the fast path's guard)."""
        self._kept = (-1, None)  # (gen, thread) of the last full pick a fast path may repeat
        self._keep = getattr(strategy, "keep", None) if not getattr(strategy, "directing", False) else None
        self.on_switch = None
        """Called when the baton passes to another thread (the memory's stretch ends)."""
        self.directing = bool(getattr(strategy, "directing", False))
        """The strategy holds threads back until they race (``accessed`` must be called)."""
        self.threads: list[ThreadState] = []
        self.alive = 0  # threads not finished, MainThread included (kept, not counted: hot path)
        self.by_real: dict[int, ThreadState] = {}
        main = self._new_state(daemon=False)
        main.real_ident = real.get_ident()
        self.by_real[main.real_ident] = main
        self.current = main

    # -- threads ------------------------------------------------------------------------------

    def _new_state(self, daemon: bool) -> ThreadState:
        self.gen += 1
        ts = ThreadState(len(self.threads), daemon)
        self.threads.append(ts)
        self.alive += 1
        self.strategy.new_thread(ts)
        return ts

    def managed(self) -> bool:
        """True when the calling OS thread is the one holding the baton."""
        return real.get_ident() == self.current.real_ident

    def me(self) -> ThreadState | None:
        return self.by_real.get(real.get_ident())

    def spawn(self, body, daemon: bool) -> ThreadState:
        """Start a real OS thread that runs ``body()`` once it is first given the baton."""
        ts = self._new_state(daemon)

        def gatekeeper():
            ts.gate.acquire()  # park until scheduled for the first time
            ts.real_ident = real.get_ident()
            self.by_real[ts.real_ident] = ts
            try:
                body()
            finally:
                self.finish(ts)

        real.start_new_thread(gatekeeper, ())
        return ts

    def finish(self, ts: ThreadState) -> None:
        """``ts`` has ended: wake its joiners and hand the baton on without parking."""
        ts.state = DONE
        self.alive -= 1
        self.gen += 1
        for waiter in ts.joiners:
            self.wake(waiter)
        ts.joiners.clear()
        nxt = self._choose(count_step=True)
        if nxt is not None:
            if self.on_switch is not None:
                self.on_switch()
            self.current = nxt
            nxt.gate.release()

    def after_fork_in_child(self) -> None:
        """After ``os.fork``: only the forking thread survives; it holds the baton."""
        me = self.current
        for ts in self.threads:
            if ts is not me:
                ts.state = DONE
                ts.joiners.clear()
        me.joiners.clear()
        self.alive = 1
        self.gen += 1
        me.real_ident = real.get_ident()
        self.by_real = {me.real_ident: me}

    # -- scheduling points --------------------------------------------------------------------

    def point(self) -> None:
        """A scheduling point at a user-visible operation: the strategy may switch threads (and,
        where the program forked, the turn may pass to another process: ``board``)."""
        if board.B is not None:
            board.B.point(self)
        me = self.current
        keep = self._keep
        if (keep is not None and self._kept[0] == self.gen and self._kept[1] is me
                and keep(self.steps + 1)):
            # Nothing that decides the pick has changed since ``me`` was picked, and the strategy
            # would pick it again (PCT between its change points): no need for the full pick.
            self.steps += 1
            self.sub = 0
            if self.steps > self.max_steps:
                self._stop("steps", {"steps": self.steps})
            return
        nxt = self._choose(count_step=True)
        self._switch(me, nxt)

    def wait(self, on, deadline: float | None = None, ln: int | None = None) -> bool:
        """Block the running thread until ``wake`` (True) or the virtual deadline passes (False)."""
        me = self.current
        me.state, me.on, me.deadline, me.ln, me.timed_out = BLOCKED, on, deadline, ln, False
        self.gen += 1
        nxt = self._choose(count_step=False)
        self._switch(me, nxt)
        return not me.timed_out

    def wake(self, ts: ThreadState) -> None:
        """Make a blocked thread runnable again (it runs when the strategy picks it)."""
        if ts.state == BLOCKED:
            ts.state, ts.on, ts.deadline = RUNNABLE, None, None
            self.gen += 1

    def sleep(self, seconds: float, ln: int | None = None) -> None:
        """A sleep: in timed mode the thread waits on the virtual clock, else it only yields."""
        if self.timed and seconds > 0:
            self.wait("sleep", self.now + seconds, ln)
        else:
            if seconds > 0:
                self.now += 1e-6  # the clock still moves forward, so time differences stay >= 0
            self.point()

    def join(self, target: ThreadState, deadline: float | None, ln: int | None = None) -> bool:
        """Wait until ``target`` has finished; False when the deadline passed first."""
        while target.state != DONE:
            target.joiners.append(self.current)
            if not self.wait(("join", target), deadline, ln):
                if self.current in target.joiners:
                    target.joiners.remove(self.current)
                return False
        return True

    def accessed(self, op: str, key, site) -> None:
        """The running thread has just read or written a location (directed runs only)."""
        self.strategy.accessed(self.current.vid, op, key, site)

    def trap(self, st: int, sb: int) -> None:
        """Before the access at position ``(st, sb)``: a direction may hold the running thread
        here (directed runs only); it then waits, not runnable, until the direction lets it go."""
        me = self.current
        if self.strategy.hold_at(me.vid, st, sb):
            self.gen += 1
            self._switch(me, self._choose(count_step=True))

    def let_others_run(self) -> bool:
        """The running thread waits for something outside the scheduler (a pipe, say).

        Another runnable thread runs meanwhile; if none can, the clock jumps to the next wake-up.
        False when no other managed thread can ever run: the caller may then block for real.
        """
        me = self.current
        others = [t for t in self.threads if t is not me and t.state == RUNNABLE
                  and not (self.directing and t.vid in self.strategy.held)]
        if others:
            self.steps += 1
            # Threads that can make progress go first; two that both only wait would otherwise
            # hand the baton to each other for ever (a strategy by priority picks them every
            # time). Among waiting ones: each in turn, so every one of them looks again.
            fresh = [t for t in others if not t.polling]
            if fresh:
                target = self.strategy.pick(fresh, None, self.steps)
            else:
                target = min(others, key=lambda t: (t.vid <= me.vid, t.vid))
            me.polling = True
            try:
                self._switch(me, target)
            finally:
                me.polling = False
            return True
        timed = [t.deadline for t in self.threads
                 if t is not me and t.state == BLOCKED and t.deadline is not None]
        if timed:
            self.wait("io", min(timed))
            return True
        return False

    def stuck(self, on, ln: int | None = None) -> None:
        """The running thread waits for something that can no longer happen: a deadlock now."""
        me = self.current
        me.state, me.on, me.ln = BLOCKED, on, ln
        self._stop("deadlock", None)

    # -- the core -------------------------------------------------------------------------------

    def _switch(self, me: ThreadState, nxt: ThreadState) -> None:
        if nxt is me:
            return
        if self.on_switch is not None:
            self.on_switch()
        self.current = nxt
        nxt.gate.release()
        me.gate.acquire()  # parked until someone hands the baton back

    def _choose(self, count_step: bool) -> ThreadState | None:
        """The next thread to run; advances the clock or stops the run when none can."""
        if count_step:
            self.steps += 1
            self.sub = 0
            if self.steps > self.max_steps:
                self._stop("steps", {"steps": self.steps})
        held = ()
        if self.directing:
            self.strategy.activate(self.steps)
            held = self.strategy.held
        runnable = [t for t in self.threads if t.state == RUNNABLE and t.vid not in held]
        if not runnable:
            # A held thread waits its turn while the clock moves on for the others.
            runnable = [t for t in self._advance_clock() if t.vid not in held]
            if not runnable and held:
                self.strategy.give_up()
                runnable = [t for t in self.threads if t.state == RUNNABLE]
            if not runnable:
                if all(t.state == DONE for t in self.threads):
                    return None
                self._stop("deadlock", None)
        current = self.current if self.current.state == RUNNABLE else None
        picked = self.strategy.pick(runnable, current, self.steps)
        if self._keep is not None:
            self._kept = (self.gen, picked)
        return picked

    def _advance_clock(self) -> list[ThreadState]:
        timed = [t for t in self.threads if t.state == BLOCKED and t.deadline is not None]
        if not timed:
            return []
        soonest = min(t.deadline for t in timed)
        if board.B is not None:  # other processes run first, and those that wake sooner
            board.B.sleep_until(self, soonest)
        self.now = max(self.now, soonest)
        if self.now > self.max_vtime:
            self._stop("vtime", {"vtime": self.now})
        woken = []
        for t in timed:
            if t.deadline <= self.now:
                t.state, t.deadline, t.timed_out = RUNNABLE, None, t.on != "sleep"
                t.on = None
                woken.append(t)
        self.gen += 1
        return woken

    def blocked(self) -> list[ThreadState]:
        return [t for t in self.threads if t.state == BLOCKED]

    def _stop(self, kind: str, detail) -> None:
        if self.on_stop is not None:
            self.on_stop(kind, detail)
        raise Stop(kind)

"""Scheduling strategies: each answers one question, which runnable thread goes next.

The engine records what was chosen; a strategy only chooses. Both are seeded, so the same seed
gives the same schedule.
"""
from __future__ import annotations

import random


class RandomWalk:
    """At every scheduling point, any runnable thread with equal probability."""

    name = "random"

    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def new_thread(self, ts) -> None:
        """Called when a thread is registered."""

    def pick(self, runnable: list, current, step: int):
        """The thread to run next (``runnable`` is sorted by thread id)."""
        return runnable[self.rng.randrange(len(runnable))]


class PCT:
    """Probabilistic Concurrency Testing (Burckhardt et al., ASPLOS 2010).

    Invariants: every thread has a distinct priority; the highest-priority runnable thread runs;
    at ``depth - 1`` scheduling steps chosen uniformly in ``[1, horizon]`` the running thread's
    priority drops below every initial priority. A bug of depth d is then found with probability
    at least 1/(n * k^(d-1)). Only user-visible operations count as steps (the engine's caller
    decides which points are steps).
    """

    name = "pct"

    def __init__(self, seed: int, depth: int = 3, horizon: int = 200):
        self.rng = random.Random(seed)
        self.depth = max(1, depth)
        count = min(self.depth - 1, max(0, horizon - 1))
        self.change_points = sorted(self.rng.sample(range(1, horizon + 1), count)) if count else []
        self.lowered = 0

    def new_thread(self, ts) -> None:
        # Initial priorities lie above depth; lowered ones count down from depth - 1.
        ts.priority = self.depth + self.rng.random()

    def keep(self, step: int) -> bool:
        """Would ``pick`` at ``step`` leave the running thread running, when it ran the last pick
        and nothing else changed? Yes, unless a change point is due."""
        return not (self.change_points and step >= self.change_points[0])

    def pick(self, runnable: list, current, step: int):
        if self.change_points and step >= self.change_points[0]:
            self.change_points.pop(0)
            self.lowered += 1
            if current is not None:
                current.priority = self.depth - self.lowered
        return max(runnable, key=lambda ts: ts.priority)


class Directed:
    """A base strategy replayed exactly up to its first direction, then steered by its directions.

    A direction (``grader.explore.directed.Direction``, here as a dict) holds thread ``hold`` right
    before its access at position ``(step, sub)`` (``memory``: the decision count and the index of
    the access since it) until thread ``th`` has made the access it races with (``op`` of ``key`` at
    site ``site``); the held thread then goes first again when the running one stops. From the
    first direction on there is no preemption, so the run loses an update, if it does, with the
    fewest thread switches. A direction that cannot be met (the other thread never gets there) is
    given up, never waited on forever: when nothing else can run, or after ``PATIENCE`` decisions;
    one whose position the run passed without reaching it (it went another way) is dropped.
    """

    name = "directed"
    directing = True
    PATIENCE = 2000

    def __init__(self, base, directions: list[dict]):
        self.base = base
        self.pending = sorted(directions, key=lambda d: (d["step"], d.get("sub", 0)))
        self.active: list[dict] = []
        self.held: set[int] = set()
        self.resume: list[int] = []   # released threads, the most recent first
        self.steered = False

    def new_thread(self, ts) -> None:
        self.base.new_thread(ts)

    def hold_at(self, vid: int, step: int, sub: int) -> bool:
        """Thread ``vid`` is about to make the access at ``(step, sub)``: hold it there?"""
        held = False
        while self.pending and (self.pending[0]["step"], self.pending[0].get("sub", 0)) <= (step, sub):
            d = self.pending.pop(0)
            if (d["step"], d.get("sub", 0)) == (step, sub) and d["hold"] == vid:
                self.active.append(dict(d, since=step))
                self.held.add(vid)
                self.steered = held = True
        return held

    def activate(self, step: int) -> None:
        """Called at each decision before ``pick``: drop stale directions."""
        while self.pending and self.pending[0]["step"] < step:
            self.pending.pop(0)  # the run went another way: that access never came
        for d in list(self.active):
            if step - d["since"] > self.PATIENCE:
                self._release(d)

    def accessed(self, vid: int, op: str, key, site) -> None:
        """Thread ``vid`` made an access: a held thread whose race partner this was may go."""
        if type(key) is tuple:
            key = list(key)  # as the direction has it (JSON)
        for d in list(self.active):
            if d["th"] == vid and d["op"] == op and d["site"] == site and d["key"] == key:
                self._release(d)

    def give_up(self) -> None:
        """Nothing but held threads can run: release them all."""
        for d in list(self.active):
            self._release(d)

    def _release(self, d: dict) -> None:
        self.active.remove(d)
        if not any(a["hold"] == d["hold"] for a in self.active):
            self.held.discard(d["hold"])
            self.resume.insert(0, d["hold"])

    def pick(self, runnable: list, current, step: int):
        if not self.steered:
            return self.base.pick(runnable, current, step)
        if current is not None and current in runnable:
            return current
        by_vid = {t.vid: t for t in runnable}
        for vid in [d["th"] for d in self.active] + self.resume:
            if vid in by_vid:
                return by_vid[vid]
        return self.base.pick(runnable, None, step)


def make(name: str, seed: int, depth: int = 3, horizon: int = 200, directions: list | None = None):
    """A strategy by name (``pct`` or ``random``), steered by ``directions`` when there are any."""
    if name == "pct":
        base = PCT(seed, depth, horizon)
    elif name == "random":
        base = RandomWalk(seed)
    else:
        raise ValueError(f"unknown strategy {name!r}")
    return Directed(base, directions) if directions else base

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

    def pick(self, runnable: list, current, step: int):
        if self.change_points and step >= self.change_points[0]:
            self.change_points.pop(0)
            self.lowered += 1
            if current is not None:
                current.priority = self.depth - self.lowered
        return max(runnable, key=lambda ts: ts.priority)


def make(name: str, seed: int, depth: int = 3, horizon: int = 200):
    """A strategy by name (``pct`` or ``random``)."""
    if name == "pct":
        return PCT(seed, depth, horizon)
    if name == "random":
        return RandomWalk(seed)
    raise ValueError(f"unknown strategy {name!r}")

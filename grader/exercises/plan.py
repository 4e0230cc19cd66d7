"""From an exercise and a base seed to the list of runs: which schedule, which data, which mode.

Pure and deterministic: the same exercise and seed always give the same plan.
"""
from __future__ import annotations

import random

from ..engine.hashing import blake2b
from ..verdicts.observation import Schedule
from .catalog import Exercise


def derive_seed(base: int, *parts: object) -> int:
    """A stable 31-bit seed from the base seed and a path of names (no use of ``hash()``)."""
    text = ":".join(str(p) for p in (base, *parts))
    return int.from_bytes(blake2b(text.encode(), digest_size=4).digest(), "big") & 0x7FFFFFFF


def schedules(exercise: Exercise, base_seed: int) -> list[Schedule]:
    """The base runs of the exercise for ``base_seed``, numbered from 0 in the order they are reported.

    Within a group, run i takes data variant i mod |data|, strategy i mod |strategies| and time mode
    i mod |time modes|: three runs already cover every variant, both strategies and both time modes.
    Run 0 is always the course data, so its output is the one shown. The race-directed runs that
    follow are planned from what these runs did (``grader.explore``).
    """
    plan: list[Schedule] = []
    for group in exercise.groups:
        ns, nt, nv = len(group.strategies), len(group.time_modes), len(group.data)
        for i in range(group.schedules):
            plan.append(Schedule(
                index=len(plan),
                group=group.name,
                seed=derive_seed(base_seed, exercise.id, group.name, i),
                strategy=group.strategies[i % ns],
                time_mode=group.time_modes[i % nt],
                variant=group.data[i % nv],
                start_method=group.start_method,
                options=group.options,
                base_seed=base_seed,
            ))
    return plan


def data_variant(name: str, lines: list[str], base_seed: int) -> list[str]:
    """The course data varied so that a hard-coded answer fails and a correct program cannot.

    Every variant keeps the file's format: Pokémon of the same list, one per line, no header.
    ``course``: as is. ``shuffled``: lines in a seeded random order. ``rotated``: starts at a
    seeded line further down. ``reversed``: last Pokémon first.
    """
    rng = random.Random(derive_seed(base_seed, "data", name))
    if name == "course":
        return list(lines)
    if name == "shuffled":
        out = list(lines)
        rng.shuffle(out)
        return out
    if name == "rotated":
        k = rng.randrange(9, max(10, len(lines) - 9))
        return lines[k:] + lines[:k]
    if name == "reversed":
        return lines[::-1]
    raise ValueError(f"unknown data variant {name!r}")

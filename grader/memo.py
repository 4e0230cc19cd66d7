"""Memoising a pure analysis of a run's event list, several checks asking for the same one."""
from __future__ import annotations

import functools
from collections import OrderedDict

_KEPT = 16


def by_events(fn):
    """``fn(events, *args)`` computed once per event list (by identity and length: the lists are
    built, then only read) and per arguments; the last few lists are kept."""
    cache: OrderedDict = OrderedDict()

    @functools.wraps(fn)
    def memoised(events, *args, **kwargs):
        key = (id(events), len(events), args, tuple(sorted(kwargs.items())))
        try:
            hit = cache.get(key)
        except TypeError:  # an argument that cannot be a key: computed afresh
            return fn(events, *args, **kwargs)
        if hit is not None and hit[0] is events:
            cache.move_to_end(key)
            return hit[1]
        result = fn(events, *args, **kwargs)
        cache[key] = (events, result)
        if len(cache) > _KEPT:
            cache.popitem(last=False)
        return result

    return memoised

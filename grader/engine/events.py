"""The child's report: one JSON object per line, appended to the run's events file.

The child only *reports*; every verdict is computed in the parent from these lines. Each event
is a flat dict with a kind ``k`` and these common fields:

``n``   sequence number within its process (the file order is the global order: appends are atomic)
``pid`` the OS process id (the parent renumbers processes 0, 1, 2... in order of appearance)
``th``  the virtual thread id (0 = MainThread of that process; 1, 2... in start order)
``tn``  the thread's name at that moment
``t``   virtual clock, seconds since the program started
``ln``  line in the submission that caused it (absent when not known)

Kinds and their own fields:

``proc``      a process began: ``ppid``, ``method`` (fork/spawn/main)
``spawn``     thread ``th`` started a thread: ``child`` (vid), ``cn`` (its name)
``begin``     a thread began running: ``cls`` (class name), ``daemon``, ``ident``
``end``       a thread finished
``join``      ``th`` waits for ``target`` (``timeout`` or null); ``joined`` when it returns (``done``)
``new``       a sync object was created: ``obj`` (id), ``kind`` (Lock, RLock, Semaphore,
              BoundedSemaphore), ``value`` (initial count)
``acq``/``rel`` ``obj`` acquired/released, ``kind``, ``value`` (a semaphore's count afterwards)
``block``     ``th`` must wait for ``obj``
``sleep``     ``d`` seconds requested
``read``      a shared dict's item was read: ``obj`` (dict id), ``key``, ``val`` (``missing``: true
              when the key was absent and a default was used)
``write``     a shared dict's item was written: ``obj``, ``key``, ``val``
``call``      a traced function was entered: ``fn``, ``cid`` (call id), ``args``; ``ret`` when it
              returns: ``fn``, ``cid``, ``val`` (when the assignment records it), or ``exc``
``out``       text written to ``stream`` (out/err): ``s``
``enum``      ``threading.enumerate()`` was called: ``threads`` = list of {th, tn, repr}
``send``/``recv`` an object went through a multiprocessing Connection: ``type``, ``val``
``exc``       an exception ended thread ``th``: ``type``, ``msg``, ``tb`` (list of
              [file, line, function] in the submission)
``deadlock``  nothing can run: ``blocked`` = list of {th, tn, on, ln}
``limit``     a budget ran out: ``what`` (output, steps, vtime), ``detail``
``exit``      the process is about to exit: ``code``

Object ids (``obj``) are small integers in order of first appearance within a process, so two
runs of the same schedule write byte-identical files.
"""
from __future__ import annotations

import json

KINDS = frozenset(
    "proc spawn begin end join joined new acq rel block sleep read write call ret out enum "
    "send recv exc deadlock limit exit".split()
)

# Exit statuses the child uses for verdicts decided inside the engine.
EXIT_DEADLOCK = 97
EXIT_LIMIT = 98
EXIT_INTERNAL = 99


def jsonable(value, limit: int = 200):
    """``value`` as JSON data when it is small plain data, else its ``repr`` cut to ``limit``."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit] + "…"
    if isinstance(value, (list, tuple)) and len(value) <= 2000:
        return [jsonable(v, limit) for v in value]
    if isinstance(value, dict) and len(value) <= 200 and all(isinstance(k, str) for k in value):
        return {k: jsonable(v, limit) for k, v in value.items()}
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def encode(event: dict) -> bytes:
    """One event as a JSON line."""
    return (json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def decode_lines(data: bytes) -> list[dict]:
    """Events from an events file; a torn last line (the process was killed) is dropped."""
    body = data.strip(b"\n")
    try:  # one parse for the whole file: the common case, and much faster than a line at a time
        events = json.loads(b"[" + body.replace(b"\n", b",") + b"]") if body else []
        if all(isinstance(e, dict) and e.get("k") in KINDS for e in events):
            return events
    except ValueError:
        pass
    events = []
    for line in data.split(b"\n"):
        if not line:
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("k") in KINDS:
            events.append(event)
    return events

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
``begin``     a thread began running: ``cls`` (class name), ``daemon``, ``ident``, ``target``
              (``module.qualname`` of its target function, when it has one)
``end``       a thread finished
``join``      ``th`` waits for ``target`` (``timeout`` or null); ``joined`` when it returns (``done``)
``new``       a sync object was created: ``obj`` (id), ``kind`` (Lock, RLock, Semaphore,
              BoundedSemaphore), ``value`` (initial count)
``acq``/``rel`` ``obj`` acquired/released, ``kind``, ``value`` (a semaphore's count afterwards)
``block``     ``th`` must wait for ``obj``
``sleep``     ``d`` seconds requested
``read``      a location was read (``grader.engine.memory``): ``obj`` (its object's id), ``sp`` (the
              kind of location: absent for a container's item, ``a`` an attribute, ``g`` a module
              global, ``c`` a container's contents as a whole), ``key`` (the item's key, the
              attribute's or global's name; null for contents), ``val`` (the value, bounded; for
              contents the element checked or added), ``op`` (how: ``[]``, ``in``, ``get``, ``.``,
              ``global``, ``append``...; ``missing``: true when the key or attribute was absent),
              ``si`` (the site of the program that made it: the parent's table names it and gives
              its line), ``st``/``sb`` (its position: the scheduler's decision count and the index
              of the access since it; race-directed runs stop a thread there). No ``ln``: the
              parent adds it, and ``lbl`` (the object as the program names it) and ``ty``.
              An access to a location only one thread has touched yet is written down only when
              a second thread arrives, with the sequence number it had then: within a process the
              file is in the order of ``n`` once sorted by it.
``write``     a location was written: the same fields
``obj``       an object of which an access is written down for the first time: ``obj``, ``ty``
              (``dict``, ``list``, the class's name; ``globals`` for the program's module namespace,
              ``class`` for a class)
``call``      a traced function was entered: ``fn``, ``cid`` (call id), ``args``; ``ret`` when it
              returns: ``fn``, ``cid``, ``val`` (when the assignment records it), or ``exc``
``out``       text written to ``stream`` (out/err): ``s``
``enum``      ``threading.enumerate()`` was called: ``threads`` = list of {th, tn, repr}
``send``/``recv`` an object went through a multiprocessing Connection: ``type``, ``val``
``xmem``      state shared between processes was read or written (a Manager's dict or list through
              its proxy, a ``Value``, an ``Array``): ``x`` (its identity, the same in every process;
              the parent replaces it by a number in order of first appearance), ``ty`` (DictProxy,
              ListProxy, Value, Array), ``op`` (read/write), ``how`` (the method: ``get``,
              ``__setitem__``, ``value``...), ``key`` (null for the whole), ``val``, ``pn`` (the
              process's name)
``xmsg``      a ``multiprocessing`` Queue (JoinableQueue, SimpleQueue) or Event the program used: ``x``
              (as for ``xmem``), ``ty``, ``op`` (put/get; set/clear/wait), ``val`` (what was put or got;
              what wait returned), ``pn``
``xsync``     a ``multiprocessing`` Lock, RLock or Semaphore the program took or gave back:
              ``x`` (as for ``xmem``), ``kind``, ``op`` (acq/rel), ``pn``, ``value`` (its count
              when it was made, where the platform tells)
``xjoin``     a wait for a forked child process returned (``Process.join``): ``cpid`` (the child's OS
              pid, as the child's own events give it), ``done`` (it had ended; false: a timeout)
``exc``       an exception ended thread ``th``: ``type``, ``msg``, ``tb`` (list of
              [file, line, function] in the submission)
``deadlock``  nothing can run: ``blocked`` = list of {th, tn, on, ln}
``limit``     a budget ran out: ``what`` (output, steps, vtime), ``detail``
``exit``      the process is about to exit: ``code``
``probe``     the program looked inside the interpreter or the grader (``grader.engine.watch``):
              ``what`` (frames, gc, code, hooks, the grader's modules, descriptors), ``detail``
              (the audit event), ``ln`` (its line, when its own code asked)
``data``      the program opened the course data by this ``path`` (first time for each path); ``rel``:
              that path relative to the working directory, when it lies inside it

Object ids (``obj``) are small integers in order of first appearance within a process, so two
runs of the same schedule write byte-identical files.
"""
from __future__ import annotations

import json

from .hashing import blake2b

KINDS = frozenset(
    "proc spawn begin end join joined new acq rel block sleep read write obj call ret out enum "
    "send recv exc deadlock limit exit data probe xmem xsync xmsg xjoin".split()
)

# Exit statuses the child uses for verdicts decided inside the engine.
EXIT_DEADLOCK = 97
EXIT_LIMIT = 98
EXIT_INTERNAL = 99


def jsonable(value, limit: int = 200, depth: int = 0):
    """``value`` as JSON data when it is small plain data (at most 16 levels deep), else its
    ``repr`` cut to ``limit``."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit] + "…"
    if depth < 16:
        if isinstance(value, (list, tuple)) and len(value) <= 2000:
            return [jsonable(v, limit, depth + 1) for v in value]
        if isinstance(value, dict) and len(value) <= 200 and all(isinstance(k, str) for k in value):
            return {k: jsonable(v, limit, depth + 1) for k, v in value.items()}
    try:
        text = repr(value)
    except RecursionError:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[:limit] + "…"


def sealer(key: bytes):
    """A hasher keyed with ``key``, for ``seal``: a run holds this, never the key's bytes (each line
    is sealed on a copy of it), so the key is in no object a program could read it from."""
    return blake2b(key=key, digest_size=8)


def spawn_key(key: bytes) -> bytes:
    """The key a run's ``spawn`` children seal with (a fresh interpreter needs the bytes): derived
    from the run's, and accepted by the parent only for what spawned processes say."""
    return blake2b(b"spawned children", key=key, digest_size=16).digest()


def seal(line: bytes, key) -> bytes:
    """The MAC that proves a line was written by the engine, not appended by the program. ``key``:
    the key's bytes, or a ``sealer``."""
    if isinstance(key, (bytes, bytearray)):
        return blake2b(line, key=key, digest_size=8).hexdigest().encode()
    h = key.copy()
    h.update(line)
    return h.hexdigest().encode()


# One encoder for every event: json.dumps with these options would build a new one per call.
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def encode(event: dict, key=None) -> bytes:
    """One event as a JSON line, sealed with ``key`` (bytes or a ``sealer``: ``<json>\t<mac>``) when
    one is given."""
    line = _ENCODE(event).encode("utf-8")
    if key:
        line += b"\t" + seal(line, key)
    return line + b"\n"


def decode_lines(data: bytes, key: bytes | None = None, spawned: bytes | None = None) -> tuple[list[dict], int]:
    """Events of an events file, and how many lines failed their seal (written by the program).

    A torn last line (the process was killed mid-write) is dropped without counting. Unsealed
    lines are kept only for the children of a ``spawn`` run (they start without the key) and are
    marked ``"unsealed": true``; the checks never trust them about the main process.
    """
    import hmac  # the parent's side only

    lines = data.split(b"\n")
    last = len(lines) - 1
    entries: list[tuple[int, bytes, bool]] = []
    by_spawned: set[int] = set()  # lines sealed with the key of spawned children
    for i, line in enumerate(lines):
        if not line:
            continue
        body, _, mac = line.rpartition(b"\t")
        ok = bool(key) and bool(body) and hmac.compare_digest(mac, seal(body, key))
        if not ok and spawned and body and hmac.compare_digest(mac, seal(body, spawned)):
            ok = True
            by_spawned.add(i)
        entries.append((i, body if ok else line, ok))
    if key and not by_spawned and all(ok for _, _, ok in entries):
        try:  # one parse for the whole file: a run writes hundreds of small lines
            parsed = json.loads(b"[" + b",".join(body for _, body, _ in entries) + b"]")
        except (ValueError, RecursionError):
            parsed = None
        if parsed is not None and all(isinstance(e, dict) and e.get("k") in KINDS for e in parsed):
            return parsed, 0
    events, forged = [], 0
    for i, body, ok in entries:
        try:
            event = json.loads(body)
        except (ValueError, RecursionError):  # a line nested past what the parser takes: forged
            forged += i != last
            continue
        if not isinstance(event, dict) or event.get("k") not in KINDS:
            forged += 1
            continue
        if key and not ok:
            event["unsealed"] = True
        elif i in by_spawned:
            event["spawned_seal"] = True
        events.append(event)
    return events, forged

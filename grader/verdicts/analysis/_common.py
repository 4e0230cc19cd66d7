"""Small helpers shared by the analysis modules: identities, labels and value formatting."""
from __future__ import annotations

from grader.model import Msg

SYNC_KINDS = frozenset({"Lock", "RLock", "Semaphore", "BoundedSemaphore"})
LOCK_KINDS = frozenset({"Lock", "RLock"})
SEMAPHORE_KINDS = frozenset({"Semaphore", "BoundedSemaphore"})


def proc_of(e: dict) -> int:
    """The process number of an event (0 when the parent did not add one)."""
    return e.get("proc", 0) or 0


def tid(e: dict) -> tuple[int, int]:
    """The thread an event belongs to, as ``(proc, th)``."""
    return proc_of(e), e.get("th", 0) or 0


def thread_label(e: dict) -> str:
    """The thread's name as the student sees it (``Thread-3 (counter)``)."""
    name = e.get("tn")
    return name if name else f"thread {e.get('th', 0)}"


def fmt(value) -> str:
    """A key or value as shown in a trace: strings bare, everything else as Python writes it."""
    return value if isinstance(value, str) else repr(value)


def at_line(ln: int | None) -> Msg:
    """`` (19行目)`` / `` (line 19)``, or nothing when the line is unknown."""
    if not ln:
        return Msg("", "")
    return Msg(f" ({ln}行目)", f" (line {ln})")


def en_count(n: int, word: str, plural: str | None = None) -> str:
    """``one update`` / ``2 updates``."""
    if n == 1:
        return f"one {word}"
    return f"{n} {plural or word + 's'}"


def key_text(key) -> str:
    """A key as the program writes it in a subscript: ``'くさ'``, ``2``, ``('a', 1)``."""
    if isinstance(key, list):
        key = tuple(key)
    return repr(key)


def place(e: dict) -> str:
    """The location an access event touched, named as the program names it: ``cnt['くさ']``,
    ``COUNTS[2]``, ``src.balance``, ``cnt`` (a global), ``NAMES`` (a container's contents)."""
    sp, label, key = e.get("sp"), e.get("lbl") or "?", e.get("key")
    if not e.get("lbl") and sp is None:
        return fmt(key)
    if sp == "a":
        return f"{label}.{key}"
    if sp == "g":
        return str(key)
    if sp == "c":
        return label
    return f"{label}[{key_text(key)}]"


def place_msg(e: dict) -> Msg:
    """``place`` for a sentence: a global is called one (``グローバル変数 cnt`` / ``the global cnt``);
    the key alone when the object's name is not known (``くさ``)."""
    if e.get("sp") == "g":
        return Msg(f"グローバル変数 {e.get('key')}", f"the global {e.get('key')}")
    if not e.get("lbl") and e.get("sp") is None:
        return Msg.same(fmt(e.get("key")))
    return Msg.same(place(e))

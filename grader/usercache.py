"""The grader's folder in the user's cache (``$XDG_CACHE_HOME`` or ``~/.cache``), and writing a
file there so that a reader never sees half of it. A leaf: nothing of the grader imported."""
from __future__ import annotations

import os
from pathlib import Path


def cache_path(*parts: str) -> Path:
    """``<cache>/concurrency-grader/<parts...>``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base, "concurrency-grader", *parts)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a file of this process's own, renamed over it (parents
    made as needed). Raises OSError as writing does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)

"""Digests of the course files a verdict depends on, so that an edit is never graded as before.

An instructor edits checks.py or the data without bumping ``version:``; results kept by the batch
cache or the service must not outlive that edit, and a report says which files judged it.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from .catalog import Exercise, course_root, data_file

SHORT = 12
"""Hex digits shown in reports: enough to tell two versions of a course apart."""


def _files(root: Path):
    """The files under ``root`` that decide verdicts, in a stable order (caches and bytecode left out)."""
    if root.is_file():
        yield root
        return
    if not root.is_dir():
        return
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if "__pycache__" in path.parts or path.suffix in (".pyc", ".pyo") or path.name.startswith("."):
            continue
        yield path


def _digest(parts: list[tuple[str, Path]]) -> str:
    h = hashlib.sha256()
    for label, root in parts:
        for path in _files(root):
            rel = path.relative_to(root).as_posix() if root.is_dir() else path.name
            h.update(f"{label}/{rel}\0".encode())
            h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


_memo: dict[tuple, str] = {}


def _memoised(parts: list[tuple[str, Path]]) -> str:
    """``_digest``, kept while no file changes (a service or a batch asks for it per submission)."""
    stamp = []
    for label, root in parts:
        for path in _files(root):
            st = os.stat(path)
            stamp.append((label, str(path), st.st_size, st.st_mtime_ns))
    key = tuple(stamp)
    if key not in _memo:
        if len(_memo) > 64:
            _memo.clear()
        _memo[key] = _digest(parts)
    return _memo[key]


def exercise_fingerprint(exercise: Exercise) -> str:
    """What judges this exercise: its folder (YAML, checks.py...), course.yaml, the shared
    ``assignments/_lib/`` and the course's data file. Full sha256 hex."""
    assignments = exercise.folder.parent
    return _memoised([("exercise", exercise.folder), ("course", assignments / "course.yaml"),
                      ("lib", assignments / "_lib"), ("data", data_file())])


def course_fingerprint() -> str:
    """Every exercise of the course (``assignments/``) and its data file. Full sha256 hex."""
    return _memoised([("course", course_root() / "assignments"), ("data", data_file())])

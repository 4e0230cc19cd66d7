"""Finished results as JSON, so a batch can stop and go on, and shards can be merged.

``result_to_dict``/``result_from_dict`` round-trip a ``GradeResult`` exactly. The cache key of a
submission is its content, the exercise's files (their digest), the seed and the grader's version:
change any and it is graded again.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

from .. import __version__
from ..model import CheckResult, Failure, GradeResult, Msg, Note, Timeline, TimelineLink, TimelineMark, TimelineSpan
from ..usercache import write_atomic
from .model import Item, Student, Unmatched


def _msg(d) -> Msg | None:
    return None if d is None else Msg(d["ja"], d["en"], bool(d.get("lines", False)))


def _timeline(d) -> Timeline | None:
    if d is None:
        return None
    marks = tuple(TimelineMark(**{**m, "label": _msg(m["label"]), "note": _msg(m.get("note"))}) for m in d["marks"])
    spans = tuple(TimelineSpan(**{**s, "label": _msg(s["label"])}) for s in d.get("spans", ()))
    links = tuple(TimelineLink(**{**k, "label": _msg(k["label"])}) for k in d.get("links", ()))
    return Timeline(kind=d["kind"], lanes=tuple(d["lanes"]), marks=marks, caption=_msg(d["caption"]), spans=spans,
                    counts=tuple((int(a), int(n)) for a, n in d.get("counts", ())), limit=d.get("limit"),
                    links=links, times=tuple(d.get("times", ())), notes=tuple(_msg(n) for n in d.get("notes", ())))


def _failure(d) -> Failure | None:
    if d is None:
        return None
    return Failure(summary=_msg(d["summary"]), expected=_msg(d.get("expected")), observed=_msg(d.get("observed")),
                   where=_msg(d.get("where")), trace=tuple(_msg(t) for t in d.get("trace", ())),
                   replay=d.get("replay"), timeline=_timeline(d.get("timeline")))


def result_to_dict(result: GradeResult) -> dict:
    """A GradeResult as plain JSON data."""
    return asdict(result)


def result_from_dict(d: dict) -> GradeResult:
    """The GradeResult ``result_to_dict`` wrote."""
    checks = tuple(CheckResult(id=c["id"], title=_msg(c["title"]), points=c["points"], max_points=c["max_points"],
                               passed=c["passed"], failure=_failure(c.get("failure")), seconds=c.get("seconds", 0.0),
                               error=c.get("error", False), detail=c.get("detail", "")) for c in d["checks"])
    return GradeResult(
        exercise=d["exercise"], exercise_title=_msg(d["exercise_title"]), submission=d["submission"],
        checks=checks, seed=d["seed"], seconds=d["seconds"], timestamp=d["timestamp"], output=d.get("output", ""),
        notes=tuple(Note(_msg(n["msg"])) for n in d.get("notes", ())), student_key=d.get("student_key"),
        student_name=d.get("student_name"), properties=d.get("properties") or {},
    )


FORMAT = "2"
"""The shape of a stored result; results cached in an older shape are graded again (2: failures
carry their timeline, which the HTML feedback draws)."""


def cache_key(content: bytes, exercise: str, exercise_fingerprint: str, seed: int) -> str:
    """What decides a result: the file's bytes, the exercise and the digest of the files that
    judge it (``exercises.fingerprint``: an edited checks.py or data file counts, with or without
    a new ``version:``), the seed, the grader and the shape results are stored in."""
    h = hashlib.sha256()
    for part in (__version__, FORMAT, exercise, exercise_fingerprint, str(seed)):
        h.update(part.encode() + b"\0")
    h.update(content)
    return h.hexdigest()


class Cache:
    """Results by cache key, one small JSON file each (written atomically)."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def get(self, key: str) -> GradeResult | None:
        try:
            return result_from_dict(json.loads(self._path(key).read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, key: str, result: GradeResult) -> None:
        write_atomic(self._path(key), json.dumps(result_to_dict(result)))


def student_to_dict(s: Student) -> dict:
    return asdict(s)


def student_from_dict(d: dict) -> Student:
    return Student(**d)


def item_to_dict(item: Item) -> dict:
    return {"student": asdict(item.student), "exercise": item.exercise, "path": str(item.path),
            "relpath": item.relpath, "note": asdict(item.note) if item.note else None}


def item_from_dict(d: dict) -> Item:
    return Item(student_from_dict(d["student"]), d["exercise"], Path(d["path"]), d["relpath"],
                note=_msg(d.get("note")))


def unmatched_to_dict(u: Unmatched) -> dict:
    return {"relpath": u.relpath, "reason": asdict(u.reason),
            "student": asdict(u.student) if u.student else None}


def unmatched_from_dict(d: dict) -> Unmatched:
    return Unmatched(d["relpath"], _msg(d["reason"]), student_from_dict(d["student"]) if d.get("student") else None)

"""The class as a table: one row per student, one cell per exercise, ready for every writer.

``build_roster`` joins what discovery found with what was graded, once, so that the gradebook,
the LMS worksheets, the feedback files and the summary all agree on who handed in what.
A cell is ``graded`` (a result to report), ``missing`` (nothing handed in) or ``pending`` (a file
was handed in but has no result yet: the batch was interrupted).

When a student handed in several files for one exercise (``counter_lck.py`` and
``counter_lck (1).py``), the best-scoring one counts (ties: the first by path); the others are
kept in ``Cell.others`` so that feedback can say they were graded but not counted.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Iterable, Literal

from ..exercises.catalog import Exercise
from ..model import GradeResult
from .model import Discovery, Item, Student

__all__ = ["Cell", "Row", "build_roster", "file_stems", "number", "is_lms_id"]

Status = Literal["graded", "missing", "pending"]


@dataclass(frozen=True)
class Cell:
    """One student's standing on one exercise."""

    status: Status
    item: Item | None = None
    """The file that counts (None when nothing was handed in)."""
    result: GradeResult | None = None
    """Its result (only when ``status == "graded"``)."""
    others: tuple[tuple[Item, GradeResult], ...] = ()
    """Further graded files for the same exercise, not counted."""

    @property
    def score(self) -> float | None:
        """The score that counts, or None when there is none."""
        return self.result.score if self.result is not None else None


@dataclass(frozen=True)
class Row:
    """One student and their cells, by exercise id in the order of the exercise list."""

    student: Student
    cells: dict[str, Cell]

    @property
    def graded(self) -> list[str]:
        """Exercise ids with a result."""
        return [ex for ex, c in self.cells.items() if c.status == "graded"]

    @property
    def pending(self) -> list[str]:
        """Exercise ids handed in but not graded yet."""
        return [ex for ex, c in self.cells.items() if c.status == "pending"]

    def total(self, exercise_ids: Iterable[str] | None = None) -> float | None:
        """Sum of the scores over ``exercise_ids`` (all by default); a missing exercise counts 0.

        None when none of them has a result: nothing to report, which is not the same as 0.
        """
        ids = list(self.cells) if exercise_ids is None else list(exercise_ids)
        scores = [self.cells[ex].score for ex in ids if ex in self.cells and self.cells[ex].score is not None]
        return sum(scores) if scores else None


def _student_result(item: Item, result: GradeResult) -> GradeResult:
    """``result`` carrying the student's key and name (JUnit's classname and properties need them)."""
    if result.student_key == item.student.key and result.student_name == item.student.name:
        return result
    return replace(result, student_key=item.student.key, student_name=item.student.name)


def build_roster(
    discovery: Discovery,
    graded: list[tuple[Item, GradeResult]],
    exercises: list[Exercise],
) -> list[Row]:
    """One ``Row`` per student, sorted by key; cells in the order of ``exercises``.

    Students are those of ``discovery`` plus any that only appear in ``graded``. Results for an
    exercise not in ``exercises`` are left out. Every result in the roster carries the student's
    key and name.
    """
    order = [ex.id for ex in exercises]
    known = set(order)
    students: dict[str, Student] = {}
    for s in discovery.students:
        students.setdefault(s.key, s)
    results: dict[tuple[str, str], list[tuple[Item, GradeResult]]] = {}
    for item, result in graded:
        if item.exercise not in known:
            continue
        students.setdefault(item.student.key, item.student)
        results.setdefault((item.student.key, item.exercise), []).append((item, _student_result(item, result)))
    handed: dict[tuple[str, str], list[Item]] = {}
    for item in discovery.items:
        if item.exercise in known:
            students.setdefault(item.student.key, item.student)
            handed.setdefault((item.student.key, item.exercise), []).append(item)
    rows = []
    for key in sorted(students):
        cells: dict[str, Cell] = {}
        for ex in order:
            done = sorted(results.get((key, ex), []), key=lambda p: (-p[1].score, p[0].relpath))
            if done:
                (item, result), *others = done
                cells[ex] = Cell("graded", item, result, tuple(others))
            elif (key, ex) in handed:
                cells[ex] = Cell("pending", min(handed[(key, ex)], key=lambda i: i.relpath))
            else:
                cells[ex] = Cell("missing")
        rows.append(Row(students[key], cells))
    return rows


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_RESERVED = re.compile(r"(?i)^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$")


def _stem(key: str) -> str:
    stem = _UNSAFE.sub("_", key).lstrip(".") or "_"
    return f"_{stem}" if _RESERVED.match(stem) else stem


def file_stems(keys: Iterable[str]) -> dict[str, str]:
    """A safe, unique file name stem for each student key (keys are ASCII, but never trusted).

    Characters other than letters, digits, ``.``, ``_`` and ``-`` become ``_``; Windows device
    names get a leading ``_``; two keys that end up alike get ``~2``, ``~3``... in key order.
    """
    stems: dict[str, str] = {}
    taken: set[str] = set()
    for key in sorted(set(keys)):
        stem, n = _stem(key), 1
        candidate = stem
        while candidate.lower() in taken:  # case-insensitive file systems (Windows, macOS)
            n += 1
            candidate = f"{stem}~{n}"
        taken.add(candidate.lower())
        stems[key] = candidate
    return stems


def number(x: float | None) -> str:
    """A score as a CSV or text cell: ``7`` not ``7.0``, ``2.5`` as is, ``""`` for None."""
    if x is None:
        return ""
    if not math.isfinite(x):
        return ""
    x = round(float(x), 6)
    return str(int(x)) if x.is_integer() else repr(x)


_DIGITS = re.compile(r"[0-9]+")


def is_lms_id(value: str | None) -> bool:
    """True for an LMS id we can write (ASCII digits): Moodle participant ids, Canvas user ids."""
    return value is not None and _DIGITS.fullmatch(value) is not None

"""What a batch is made of: students, the files they handed in, and what could not be matched.

Plain data shared by discovery (which reads an LMS export), the runner (which grades each item)
and the writers (gradebook, JUnit, feedback, summary).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..model import Msg


@dataclass(frozen=True)
class Student:
    """One student as the export names them."""

    key: str
    """ASCII key, unique in the batch: the student number, or the LMS participant/user id."""
    name: str
    """Display name as in the export (may be Japanese, may contain spaces)."""
    lms: str = "folder"
    """Where the key comes from: ``moodle`` (participant id), ``canvas`` (user id), ``folder``."""
    lms_id: str | None = None
    """The LMS's own id (Moodle participant id, Canvas user id), when the export gives one."""
    late: bool = False
    """Canvas marks late submissions with ``_late_`` in the file name."""


@dataclass(frozen=True)
class Item:
    """One file of one student to grade for one exercise."""

    student: Student
    exercise: str
    path: Path
    """The file on disk (extracted from a zip when the input was one)."""
    relpath: str
    """The file's path inside the export, for messages (``山田 太郎_123456_assignsubmission_file_/counter_lck.py``)."""
    note: Msg | None = None
    """Why this file was taken for the exercise when its name did not say so exactly (a close misspelling)."""


@dataclass(frozen=True)
class Unmatched:
    """A file, or a student, that could not be matched to an exercise: listed in the summary."""

    relpath: str
    reason: Msg
    student: Student | None = None


@dataclass
class Discovery:
    """Everything found in the input."""

    layout: str
    """``moodle``, ``canvas`` or ``folders``."""
    students: list[Student] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    unmatched: list[Unmatched] = field(default_factory=list)

    def missing(self, exercises: list[str]) -> list[tuple[Student, str]]:
        """(student, exercise) pairs with nothing handed in."""
        have = {(i.student.key, i.exercise) for i in self.items}
        return [(s, ex) for s in self.students for ex in exercises if (s.key, ex) not in have]

"""Gradebook CSVs for the LMS: a generic ``grades.csv``, Moodle's grading worksheet, Canvas's import.

Every CSV is UTF-8 with a BOM (Excel then shows Japanese names; Moodle and Canvas both strip or
ignore it) and CRLF line ends, written by the ``csv`` module. Scores are written without a
trailing ``.0`` (``7``, ``2.5``).

``grades.csv`` — ``student_key,name,<exercise id>...,total``. An empty cell means "not handed in"
(or not graded yet), never 0: Canvas reads an empty cell as "no change", Moodle's "Import grades
from CSV" as "no grade" (it clears a grade already there, so map only the columns you want).
In Moodle, map ``student_key`` to "ID number" when the keys are student numbers (per-folder
input). Moodle aborts the whole import on one row it cannot match to a user; for a Moodle
assignment export, whose keys are participant ids, not user fields, upload the grading worksheet
below instead. Canvas needs its own header (``canvas_gradebook.csv``).

``moodle_grading_worksheet.csv`` (Moodle export only) — the format of Moodle's offline grading
worksheet ("Upload grading worksheet" in the assignment), read by assignfeedback_offline:
- rows are keyed ``Participant <id>``, the number in the export's folder names. That id belongs
  to the one assignment the export was downloaded from (Moodle keeps one per assignment and
  user), so the worksheet's Grade is the student's total over the exercises found in the export;
- a student without a participant id gets no row (Moodle skips or rejects rows it cannot match;
  such students are listed in the summary); a student with no result yet gets no row either;
- Moodle finds the columns by their names in the importing user's interface language: import
  with Moodle set to English. The Identifier must read ``Participant <id>`` for the same reason;
- ``Last modified (grade)`` is the time of grading (UTC, ISO 8601): Moodle keeps a grade that a
  teacher changed after it unless "Allow updating records that have been modified more recently"
  is ticked; a grade above the assignment's maximum grade is skipped, so set that maximum to at
  least ``Maximum Grade``;
- ``Feedback comments`` is stored by Moodle as HTML, so the one-line digest is HTML-escaped
  (``<Thread(...)>`` would otherwise vanish as an unknown tag).

``moodle_grading_worksheet_<exercise>.csv`` — the same for one exercise alone (Grade = that
exercise's score, rows only for students who handed it in), for a Moodle assignment graded on one
exercise. Same participant ids: upload it only to the assignment the export came from.

``canvas_gradebook.csv`` (Canvas export only) — Canvas's gradebook import format: header
``Student,ID,SIS User ID,SIS Login ID,Section,<title>...`` and a ``Points Possible`` row. Canvas
matches students by ``ID`` (the Canvas user id from the export's file names; students without
one get no row) and assignments by a trailing numeric ``(<assignment id>)`` or else by exact title;
our exercise ids are not Canvas ids, so Canvas shows the columns as new assignments, which the
import page lets you map onto existing ones.
"""
from __future__ import annotations

import csv
import html
import re
from pathlib import Path
from typing import Iterable, Sequence

from ..exercises.catalog import Exercise
from ..model import Lang
from ..reports.text import one_line, strip_ansi, visible
from .feedback import STATUS, one_line_feedback
from .roster import Row, is_lms_id, number

__all__ = [
    "write_csv",
    "grades_rows",
    "moodle_worksheet_rows",
    "canvas_rows",
    "canvas_column",
    "MOODLE_HEADER",
    "CANVAS_FIXED",
]

MOODLE_HEADER = (
    "Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade", "Grade can be changed",
    "Last modified (submission)", "Online text", "Last modified (grade)", "Feedback comments",
)
CANVAS_FIXED = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")

_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")


def write_csv(path: Path, rows: Iterable[Sequence[str]]) -> Path:
    """Write ``rows`` to ``path``: UTF-8 with BOM, CRLF line ends, minimal quoting."""
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f, lineterminator="\r\n").writerows(rows)
    return path


def text_cell(s: str) -> str:
    """Untrusted text (a name from a folder name) as a safe one-line cell.

    No control characters or ANSI sequences; a leading ``=``, ``+``, ``-`` or ``@`` gets a ``'``
    in front, so that a spreadsheet never runs it as a formula.
    """
    s = visible(one_line(strip_ansi(s), 1000))
    return "'" + s if s.startswith(_FORMULA) else s


def grades_rows(rows: list[Row], exercises: list[Exercise]) -> list[list[str]]:
    """``grades.csv``: header, then one row per student (empty cell: not handed in / not graded)."""
    out = [["student_key", "name", *(ex.id for ex in exercises), "total"]]
    for row in rows:
        scores = [number(row.cells[ex.id].score) for ex in exercises]
        out.append([row.student.key, text_cell(row.student.name), *scores, number(row.total())])
    return out


def _moodle_time(timestamps: Iterable[str]) -> str:
    """The latest grading time as ISO 8601 with an explicit UTC offset (PHP's strtotime reads it)."""
    valid = sorted(t for t in timestamps if _TIMESTAMP.fullmatch(t or ""))
    return f"{valid[-1]}+00:00" if valid else ""


def moodle_worksheet_rows(rows: list[Row], exercises: list[Exercise], lang: Lang) -> list[list[str]]:
    """Moodle's grading worksheet over ``exercises``: Grade is the total over them.

    A row only for a student with a Moodle participant id, at least one result among
    ``exercises`` and none still pending (a partial total is never uploaded).
    """
    ids = [ex.id for ex in exercises]
    maximum = number(sum(ex.max_score for ex in exercises))
    out = [list(MOODLE_HEADER)]
    for row in rows:
        s = row.student
        if s.lms != "moodle" or not is_lms_id(s.lms_id):
            continue
        cells = [row.cells[ex] for ex in ids]
        if any(c.status == "pending" for c in cells) or not any(c.status == "graded" for c in cells):
            continue
        out.append([
            f"Participant {s.lms_id}",
            text_cell(s.name),
            "",
            STATUS["graded"](lang),
            number(row.total(ids)),
            maximum,
            "Yes",
            "",
            "",
            _moodle_time(c.result.timestamp for c in cells if c.result is not None),
            html.escape(one_line_feedback(row, exercises, lang), quote=False),
        ])
    return out


def canvas_column(exercise: Exercise, lang: Lang) -> str:
    """The Canvas column title: ``<title> (<id>)``, or the title alone when it already names the id."""
    title = one_line(exercise.title(lang), 250)
    return title if exercise.id in title else f"{title} ({exercise.id})"


def canvas_rows(rows: list[Row], exercises: list[Exercise], lang: Lang) -> list[list[str]]:
    """Canvas's gradebook import: header, ``Points Possible`` row, one row per student with a Canvas id."""
    out = [
        [*CANVAS_FIXED, *(canvas_column(ex, lang) for ex in exercises)],
        ["Points Possible", "", "", "", "", *(number(ex.max_score) for ex in exercises)],
    ]
    for row in rows:
        s = row.student
        if s.lms != "canvas" or not is_lms_id(s.lms_id):
            continue
        out.append([text_cell(s.name), s.lms_id, "", "", "", *(number(row.cells[ex.id].score) for ex in exercises)])
    return out

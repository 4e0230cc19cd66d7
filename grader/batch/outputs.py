"""Everything ``grade batch`` writes into OUT, from results already graded: pure writers.

``write_outputs`` writes, for a class (students sorted by key, exercises in the given order):

- ``junit.xml``           one ``<testsuite>`` per graded student × exercise, classname
                          ``<student_key>.<exercise>`` (``grader.reports.junit``);
- ``grades.csv``          the gradebook (``grader.batch.gradebook`` explains its format and what
                          an empty cell means);
- ``moodle_grading_worksheet.csv`` and ``moodle_grading_worksheet_<exercise>.csv``
                          for a Moodle assignment export;
- ``canvas_gradebook.csv`` for a Canvas export;
- ``feedback/<student_key>.txt``            each student's feedback, in ``lang``;
- ``feedback/<student_key>.html``           the same as a page, interleavings drawn;
- ``index.html``          the TA's page: score distribution, failures per check, a link to each
                          student's page (it shows the whole class: not for students);
- ``results/<student_key>/<exercise>.json`` each result in Gradescope's ``results.json`` shape
                          (a further file for the same exercise: ``<exercise>~2.json``...);
- ``summary.txt`` and ``summary.json``      the class summary (``grader.batch.summary``).

Nothing here grades or runs anything. Feedback, results and worksheet files left over from an
earlier run for a student or exercise no longer in the class are removed, so that OUT always
describes one class.
"""
from __future__ import annotations

from pathlib import Path

from ..exercises.catalog import Exercise
from ..model import GradeResult, Lang
from ..reports.gradescope import dumps, render_gradescope
from ..reports.html import IndexExercise, IndexStudent, render_index
from ..reports.junit import render_junit
from .feedback import render_feedback, render_feedback_html
from .gradebook import canvas_rows, grades_rows, moodle_worksheet_rows, write_csv
from .model import Discovery, Item
from .roster import Row, build_roster, file_stems
from .summary import format_summary, render_summary, summarize, summary_from_roster

__all__ = ["write_outputs", "render_summary", "summarize"]


def _exercises_in_export(rows: list[Row], exercises: list[Exercise]) -> list[Exercise]:
    """The exercises somebody handed in: what the LMS assignment the export came from collects."""
    return [ex for ex in exercises if any(row.cells[ex.id].status != "missing" for row in rows)]


def _prune(folder: Path, pattern: str, keep: set[Path], empty_dirs: bool = False) -> None:
    """Remove files under ``folder`` matching ``pattern`` that this run did not write
    (and, with ``empty_dirs``, the sub-folders of ``folder`` left empty)."""
    if not folder.is_dir():
        return
    for path in sorted(folder.glob(pattern)):
        if path.is_file() and path not in keep:
            path.unlink()
    if empty_dirs:
        for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
            if not any(sub.iterdir()):
                sub.rmdir()


def _index_exercises(exercises: list[Exercise]) -> list[IndexExercise]:
    return [IndexExercise(ex.id, ex.title, ex.max_score, tuple((c.id, c.title, c.points) for c in ex.checks))
            for ex in exercises]


def _index_students(rows: list[Row], exercises: list[Exercise], stems: dict[str, str]) -> list[IndexStudent]:
    return [IndexStudent(row.student.key, row.student.name, f"feedback/{stems[row.student.key]}.html",
                         {ex.id: row.cells[ex.id].result if row.cells[ex.id].result is not None
                          else row.cells[ex.id].status for ex in exercises})
            for row in rows]


def write_outputs(
    out: Path,
    discovery: Discovery,
    graded: list[tuple[Item, GradeResult]],
    exercises: list[Exercise],
    lang: Lang,
) -> dict[str, Path]:
    """Write every batch output into ``out`` (created if needed) and return ``{name: path}``.

    Names are the file names above (``"junit.xml"``, ``"grades.csv"``,
    ``"moodle_grading_worksheet.csv"``, ``"moodle_grading_worksheet_<exercise>.csv"``,
    ``"canvas_gradebook.csv"``, ``"summary.txt"``, ``"summary.json"``, ``"index.html"``, ``"check-errors.txt"``
    when a check of the exercise itself failed) and ``"feedback"`` and
    ``"results"`` for the two folders. ``graded`` may be in any order and may hold results for
    exercises not in ``exercises`` (they are left out); the output is the same for the same input.
    """
    out.mkdir(parents=True, exist_ok=True)
    rows = build_roster(discovery, graded, exercises)
    stems = file_stems(row.student.key for row in rows)
    paths: dict[str, Path] = {}

    counted = [row.cells[ex.id].result for row in rows for ex in exercises if row.cells[ex.id].result is not None]
    paths["junit.xml"] = out / "junit.xml"
    paths["junit.xml"].write_bytes(render_junit(counted, lang))

    paths["grades.csv"] = write_csv(out / "grades.csv", grades_rows(rows, exercises))

    worksheets: set[Path] = set()
    if discovery.layout == "moodle":
        in_export = _exercises_in_export(rows, exercises)
        name = "moodle_grading_worksheet.csv"
        paths[name] = write_csv(out / name, moodle_worksheet_rows(rows, in_export, lang))
        worksheets.add(paths[name])
        for ex in in_export:
            name = f"moodle_grading_worksheet_{ex.id}.csv"
            paths[name] = write_csv(out / name, moodle_worksheet_rows(rows, [ex], lang))
            worksheets.add(paths[name])
    _prune(out, "moodle_grading_worksheet*.csv", worksheets)
    if discovery.layout == "canvas":
        paths["canvas_gradebook.csv"] = write_csv(out / "canvas_gradebook.csv", canvas_rows(rows, exercises, lang))
    elif (out / "canvas_gradebook.csv").is_file():
        (out / "canvas_gradebook.csv").unlink()

    feedback_dir, results_dir = out / "feedback", out / "results"
    feedback_dir.mkdir(exist_ok=True)
    results_dir.mkdir(exist_ok=True)
    written: set[Path] = set()
    for row in rows:
        stem = stems[row.student.key]
        path = feedback_dir / f"{stem}.txt"
        path.write_text(render_feedback(row, exercises, discovery.unmatched, lang), encoding="utf-8", newline="\n")
        written.add(path)
        path = feedback_dir / f"{stem}.html"
        path.write_text(render_feedback_html(row, exercises, discovery.unmatched, lang), encoding="utf-8", newline="\n")
        written.add(path)
        for ex in exercises:
            cell = row.cells[ex.id]
            if cell.result is None:
                continue
            folder = results_dir / stem
            folder.mkdir(exist_ok=True)
            for n, result in enumerate([cell.result, *(r for _, r in cell.others)], 1):
                path = folder / (f"{ex.id}.json" if n == 1 else f"{ex.id}~{n}.json")
                path.write_text(dumps(render_gradescope(result, lang)), encoding="utf-8", newline="\n")
                written.add(path)
    _prune(feedback_dir, "*.txt", written)
    _prune(feedback_dir, "*.html", written)
    paths["index.html"] = out / "index.html"
    paths["index.html"].write_text(render_index(_index_students(rows, exercises, stems), _index_exercises(exercises),
                                                lang), encoding="utf-8", newline="\n")
    _prune(results_dir, "*/*.json", written, empty_dirs=True)
    paths["feedback"], paths["results"] = feedback_dir, results_dir

    summary = summary_from_roster(rows, discovery, exercises, lang)
    paths["summary.json"] = out / "summary.json"
    paths["summary.json"].write_text(dumps(summary), encoding="utf-8", newline="\n")
    paths["summary.txt"] = out / "summary.txt"
    paths["summary.txt"].write_text(format_summary(summary, lang), encoding="utf-8", newline="\n")
    errors = out / "check-errors.txt"
    blocks = [f"{row.student.key} {ex.id}: check {c.id} could not be judged\n{c.detail}\n"
              for row in rows for ex in exercises if row.cells[ex.id].result is not None
              for c in row.cells[ex.id].result.checks if c.detail]
    if blocks:  # for the instructor: what in the exercise's checks.py failed, once per student and check
        errors.write_text("\n".join(blocks), encoding="utf-8", newline="\n")
        paths["check-errors.txt"] = errors
    elif errors.exists():
        errors.unlink()
    return paths

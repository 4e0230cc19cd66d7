"""What every platform's grading step does: find the exercise's file among what a student handed
in, grade it, and never fail with a traceback (a file that cannot be graded is a result too)."""
from __future__ import annotations

import argparse
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from ..model import GradeResult, GraderInputError, Msg
from ..reports.fragment import Ungraded


def check_specs(exercise) -> tuple[tuple[str, Msg, float], ...]:
    return tuple((c.id, c.title, c.points) for c in exercise.checks)


def gradable_files(root: Path) -> list[Path]:
    """The ``.py`` and ``.ipynb`` files under ``root``, shallowest first, as ``grade batch`` walks a
    hand-in: junk and virtualenvs left out, symbolic links never taken (one could name the model
    answer inside the installed grader)."""
    from ..batch.layouts import walk
    from ..sources.infer import GRADABLE_SUFFIXES

    found = [f.path for f in walk(root, "") if not f.symlink and f.name.casefold().endswith(GRADABLE_SUFFIXES)]
    return sorted(found, key=lambda p: (len(p.relative_to(root).parts), p.relative_to(root).as_posix()))


def find_submission(root: Path, exercise_id: str, only_exercise: bool) -> tuple[Path | None, Msg | None]:
    """The file under ``root`` for ``exercise_id``, found by name as ``grade FILE`` tells the
    exercise (``s2212345_counter_lck (1).py`` works); when the assignment has this one exercise
    and the student handed in one file of another name, that file. Else (None, why)."""
    from ..exercises import catalog
    from ..sources.infer import infer_exercise

    ex = catalog.get(exercise_id)
    files = gradable_files(root) if root.is_dir() else []
    known = catalog.exercises()
    matches = [p for p in files if infer_exercise(p.name, known) == exercise_id]
    if matches:
        return matches[0], None
    if only_exercise and len(files) == 1 and infer_exercise(files[0].name, known) is None:
        return files[0], None  # one file of a name of its own: it is the answer (another exercise's is not)
    shown = ", ".join(str(p.relative_to(root)) for p in files[:10]) or "-"
    return None, Msg(
        f"{ex.file} が提出されていません（課題 {exercise_id} のファイル。提出されたファイル: {shown}）",
        f"no {ex.file} was handed in (the file of exercise {exercise_id}; files handed in: {shown})")


def grade_file(path: Path, exercise_id: str, seed: int = 1, shown: str | None = None) -> GradeResult | Ungraded:
    """Grade the file at ``path`` as ``exercise_id`` (``shown``: its name in the report). A file
    that cannot be graded, or a fault of the grader's, gives an ``Ungraded`` saying why."""
    from ..exercises import catalog

    try:
        ex = catalog.get(exercise_id)
    except GraderInputError as exc:
        return Ungraded(exercise_id, Msg.same(exercise_id), exc.msg)
    try:
        from ..grading import grade_submission
        from ..sources.infer import infer_exercise
        from ..sources.submission import read_submission_bytes, submission_from_bytes

        data, name = read_submission_bytes(str(path))
        # the student's name for it in every message (decoding refusals too), not the platform's path
        submission = submission_from_bytes(data, shown or name, name)
        explicit = infer_exercise(name, catalog.exercises()) != ex.id
        return grade_submission(submission, ex, seed, explicit_exercise=explicit)
    except GraderInputError as exc:
        return Ungraded(ex.id, ex.title, exc.msg, check_specs(ex))
    except Exception as exc:  # the grader's own fault: a result saying so, never a traceback
        if os.environ.get("GRADER_DEBUG"):
            import traceback
            traceback.print_exc()
        return Ungraded(ex.id, ex.title, internal_error(exc), check_specs(ex))


def internal_error(exc: BaseException) -> Msg:
    what = f"{type(exc).__name__}: {exc}"
    return Msg(f"採点器の内部エラーのため採点できませんでした（{what}）。担当教員に連絡してください。",
               f"the grader failed with an internal error ({what}); please tell your instructor.")


def grade_folder(root: Path, exercise_ids: list[str], seed: int = 1) -> list[GradeResult | Ungraded]:
    """Every exercise of ``exercise_ids``, each from its file under ``root``."""
    from ..exercises import catalog

    items: list[GradeResult | Ungraded] = []
    for eid in exercise_ids:
        try:
            ex = catalog.get(eid)
        except GraderInputError as exc:
            items.append(Ungraded(eid, Msg.same(eid), exc.msg))
            continue
        path, why = find_submission(root, eid, len(exercise_ids) == 1)
        if path is None:
            items.append(Ungraded(ex.id, ex.title, why, check_specs(ex)))
            continue
        items.append(grade_file(path, eid, seed, shown=path.relative_to(root).as_posix()))
    return items


def _cannot_write(path: Path, exc: OSError) -> GraderInputError:
    return GraderInputError(Msg(f"書き込めません: {path}: {exc.strerror}", f"cannot write {path}: {exc.strerror}"))


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Writing to ``path`` inside: a failure is one line naming it, exit status 2."""
    try:
        yield
    except OSError as exc:
        raise _cannot_write(path, exc) from None


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data``, making the folder; a failure is one line, exit status 2."""
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8), making the folder; a failure is one line, exit status 2."""
    write_bytes(path, text.encode("utf-8"))


def out_folder(out: Path) -> None:
    """``--out`` names a folder (made as needed), never an existing file."""
    if out.exists() and not out.is_dir():
        raise GraderInputError(Msg(f"--out はフォルダにしてください（{out} はファイルです）",
                                   f"--out must be a folder ({out} is a file)"))


def step_parser(prog: str) -> argparse.ArgumentParser:
    """The parser of a grading step on the platform, with the options every step takes."""
    p = argparse.ArgumentParser(prog=prog)
    p.add_argument("--lang", choices=("ja", "en"), default="ja")
    p.add_argument("--seed", type=int, default=1)
    return p


def dispatch(argv: list[str] | None, commands: dict[str, Callable[[list[str]], int]], usage: str) -> int:
    """``python -m grader.export.<platform> COMMAND ...``: run the command, or print ``usage``."""
    argv = sys.argv[1:] if argv is None else argv
    command = commands.get(argv[0]) if argv else None
    if command is None:
        say(f"usage: {usage}")
        return 2
    return command(argv[1:])


def say(text: str) -> None:
    sys.stderr.write(text.rstrip("\n") + "\n")

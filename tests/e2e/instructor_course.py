"""A course folder of an instructor's own, made for a test: the project's data and course.yaml, and
exercises given as their assignment.yaml and checks.py texts; ``GRADER_COURSE`` points at it while
the test uses it. Nothing in grader/ knows of these exercises."""
from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from grader.exercises import catalog

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def instructor_course(root: Path, exercises: dict[str, tuple[str, str]]) -> Iterator[Path]:
    """``root`` made a course with ``exercises`` (id -> (assignment.yaml, checks.py)), selected."""
    shutil.copytree(ROOT / "data", root / "data")
    (root / "assignments").mkdir(parents=True)
    shutil.copy(ROOT / "assignments" / "course.yaml", root / "assignments" / "course.yaml")
    for ident, (yaml_text, checks) in exercises.items():
        folder = root / "assignments" / ident
        folder.mkdir()
        (folder / "assignment.yaml").write_text(yaml_text, encoding="utf-8")
        (folder / "checks.py").write_text(checks, encoding="utf-8")
    saved = os.environ.get("GRADER_COURSE")
    os.environ["GRADER_COURSE"] = str(root)
    catalog.exercises.cache_clear()
    try:
        yield root
    finally:
        if saved is None:
            os.environ.pop("GRADER_COURSE", None)
        else:
            os.environ["GRADER_COURSE"] = saved
        catalog.exercises.cache_clear()

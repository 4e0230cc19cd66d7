"""Results in GitHub Classroom's runner shape: what its autograding actions put in the output named
``result`` (base64 of this JSON) and ``classroom-resources/autograding-grading-reporter`` reads.

The shape, as the reporter and the runners (``autograding-command-grader``, ``-io-grader``,
``-python-grader``) write and read it: ``version: 1``, ``status`` (``pass``, ``fail`` or
``error``: the reporter fails the workflow on either of the last two), ``max_score``, ``tests``
with ``name``, ``status``, ``score``, ``message`` (shown under a failed test), ``test_code``,
``filename``. The reporter's total for Classroom is the sum of the tests' ``score`` over the
runners' ``max_score``: one test per check with its points gives the grader's own score.

No ``duration``/``execution_time``: the same file and seed give byte-identical JSON (the reporter
reads neither).
"""
from __future__ import annotations

import base64
from typing import Any

from grader.model import GradeResult, Lang, Msg
from grader.reports.fragment import failure_text
from grader.reports.gradescope import dumps, json_number
from grader.reports.text import clean

__all__ = ["render_classroom", "error_classroom", "encode_result"]


def _status(check) -> str:
    if check.passed:
        return "pass"
    return "error" if check.error else "fail"


def render_classroom(result: GradeResult, lang: Lang) -> dict[str, Any]:
    """``result`` as one runner's result: one test per check, scored with the check's points."""
    tests = [{
        "name": clean(f"{c.id}: {c.title(lang)}"),
        "status": _status(c),
        "score": json_number(c.points),
        "max_score": json_number(c.max_points),
        "message": failure_text(c, lang),
        "test_code": clean(c.failure.replay) if c.failure is not None and c.failure.replay else "",
        "filename": clean(result.submission),
    } for c in result.checks]
    status = "pass" if result.passed else ("error" if any(c.error for c in result.checks) else "fail")
    return {"version": 1, "status": status, "max_score": json_number(result.max_score), "tests": tests}


def error_classroom(reason: Msg, lang: Lang, checks: tuple[tuple[str, Msg, float], ...] = (),
                    name: str = "grade") -> dict[str, Any]:
    """A file that could not be graded: ``status: error``, every check 0 (``checks``: the
    exercise's ``(id, title, points)`` when known) and the reason as each test's message."""
    text = clean(reason(lang))
    tests = [{"name": clean(f"{cid}: {title(lang)}"), "status": "error", "score": 0,
              "max_score": json_number(pts), "message": text, "test_code": "", "filename": ""}
             for cid, title, pts in checks] or [
        {"name": name, "status": "error", "score": 0, "max_score": 0, "message": text, "test_code": "", "filename": ""}]
    return {"version": 1, "status": "error", "max_score": json_number(sum(p for _, _, p in checks)),
            "message": text, "tests": tests}


def encode_result(obj: dict[str, Any]) -> str:
    """The value of a runner's ``result`` output: the JSON, base64-encoded (as the runners do)."""
    return base64.b64encode(dumps(obj).encode("utf-8")).decode("ascii")

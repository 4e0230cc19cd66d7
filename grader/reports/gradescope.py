"""Results JSON in Gradescope's ``results.json`` shape (spec summarised in schemas/SOURCES.md).

All text goes through ``strip_ansi`` and ``xml_safe``: the JSON is shown as plain text
(``output_format: "text"``), and a lone surrogate would make the file impossible to write as UTF-8.
"""
from __future__ import annotations

import json
import math
from typing import Any

from grader.model import CheckResult, GradeResult, Lang
from grader.reports.text import clean, failure_text

__all__ = ["render_gradescope", "dumps"]


def json_number(x: float) -> float | int:
    """``2`` for ``2.0`` (JSON reads better), other numbers unchanged; never NaN or infinity."""
    if isinstance(x, float):
        if not math.isfinite(x):
            return 0
        if x.is_integer():
            return int(x)
        return round(x, 6)
    return x


def _points(x: float) -> str:
    value = json_number(x)
    return str(value)


def _summary(result: GradeResult, lang: Lang) -> str:
    failed = [c.id for c in result.checks if not c.passed]
    score = f"{_points(result.score)}/{_points(result.max_score)}"
    title = result.exercise_title(lang)
    if lang == "ja":
        head = f"{title} ({result.exercise}): {score} 点"
        tail = "すべてのチェックに合格しました。" if not failed else f"不合格のチェック: {', '.join(failed)}"
    else:
        head = f"{title} ({result.exercise}): {score} points"
        tail = "All checks passed." if not failed else f"Failed checks: {', '.join(failed)}"
    return f"{head}\n{tail}"


def _test(number: int, check: CheckResult, lang: Lang) -> dict[str, Any]:
    output = failure_text(check, lang)
    return {
        "name": clean(f"{check.id}: {check.title(lang)}"),
        "number": str(number),
        "score": json_number(check.points),
        "max_score": json_number(check.max_points),
        "status": "passed" if check.passed else "failed",
        "output": clean(output),
        "visibility": "visible",
    }


def render_gradescope(result: GradeResult, lang: Lang) -> dict[str, Any]:
    """``result`` as a Gradescope ``results.json`` object (a plain dict, ready for ``dumps``).

    Top level: ``score``, ``output`` (notes, then a summary line),
    ``output_format: "text"``, ``tests`` (one per check, numbered from ``"1"``, with ``status``
    so that a 0-point check still shows as passed or failed) and ``extra_data``. No
    ``execution_time``: the same file and seed must give byte-identical JSON (Gradescope times
    the run itself).
    """
    notes = [f"- {note.msg(lang)}" for note in result.notes]
    output = "\n".join([*notes, "", _summary(result, lang)] if notes else [_summary(result, lang)])
    return {
        "score": json_number(result.score),
        "output": clean(output),
        "output_format": "text",
        "tests": [_test(i, check, lang) for i, check in enumerate(result.checks, 1)],
        "extra_data": {
            "exercise": result.exercise,
            "seed": result.seed,
            "submission": clean(result.submission),
            **{str(k): str(v) for k, v in result.properties.items()},
        },
    }


def dumps(obj: Any) -> str:
    """``obj`` as JSON text: UTF-8-friendly (no ``\\u`` escapes), indented, keys sorted, final newline."""
    return json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True, allow_nan=False) + "\n"


# ------------------------------------------------------------------- the autograder's results.json

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
FORMATS = ("md", "html")


def render_gradescope_autograder(items, lang: Lang, fmt: str = "md", visibility: str = "visible") -> dict[str, Any]:
    """What ``run_autograder`` writes to ``/autograder/results/results.json``: one object for every
    exercise of the assignment (``items``: ``GradeResult`` or ``fragment.Ungraded``, in order).

    Top level: ``score`` (the sum of the checks' points; 0 for an exercise that could not be
    graded), ``output`` (the report, in Markdown or HTML: ``output_format``), ``visibility``,
    ``stdout_visibility`` (``hidden``: the log is the instructor's), ``tests`` (one per check, its
    points, ``status`` passed/failed, why it failed in the same format, the same ``visibility``),
    ``extra_data``. No ``execution_time``: the same files and seed give byte-identical JSON.
    """
    from grader.reports.fragment import (Ungraded, failure_html, failure_markdown, report_html,
                                         report_markdown, ungraded_html, ungraded_markdown)

    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    if visibility not in VISIBILITIES:
        raise ValueError(f"unknown visibility {visibility!r}")
    several = len(items) > 1
    tests: list[dict[str, Any]] = []
    reports: list[str] = []
    score = 0.0
    extra: list[dict[str, Any]] = []
    for item in items:
        prefix = f"{item.exercise}/" if several else ""
        if isinstance(item, Ungraded):
            reason = clean(item.reason(lang))
            reports.append(ungraded_markdown(item, lang) if fmt == "md" else ungraded_html(item, lang))
            for cid, title, pts in item.checks:
                tests.append({"name": clean(f"{prefix}{cid}: {title(lang)}"), "score": 0,
                              "max_score": json_number(pts), "status": "failed",
                              "output": reason if fmt == "md" else f"<p>{_html_escape(reason)}</p>",
                              "output_format": fmt, "visibility": visibility})
            extra.append({"exercise": item.exercise, "graded": False, "reason": reason})
            continue
        score += item.score
        reports.append(report_markdown(item, lang) if fmt == "md"
                       else report_html(item, lang, ident=f"cg-{item.exercise}"))
        for check in item.checks:
            if check.passed:
                output = ""
            elif fmt == "md":
                output = failure_markdown(check, lang)
            else:
                output = failure_html(check, lang, ident=f"cg-{item.exercise}-t")
            tests.append({"name": clean(f"{prefix}{check.id}: {check.title(lang)}"),
                          "score": json_number(check.points), "max_score": json_number(check.max_points),
                          "status": "passed" if check.passed else "failed", "output": output,
                          "output_format": fmt, "visibility": visibility})
        extra.append({"exercise": item.exercise, "graded": True, "seed": item.seed,
                      "submission": clean(item.submission)})
    for number, test in enumerate(tests, 1):
        test["number"] = str(number)
    joiner = "\n---\n\n" if fmt == "md" else "<hr>\n"
    return {
        "score": json_number(score),
        "output": joiner.join(reports),
        "output_format": fmt,
        "test_output_format": fmt,
        "test_name_format": "text",
        "visibility": visibility,
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"exercises": extra},
    }


def _html_escape(text: str) -> str:
    from grader.reports.text import html_text
    return html_text(text)

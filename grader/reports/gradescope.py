"""Results JSON in Gradescope's ``results.json`` shape (spec summarised in schemas/SOURCES.md).

All text goes through ``strip_ansi`` and ``xml_safe``: the JSON is shown as plain text
(``output_format: "text"``), and a lone surrogate would make the file impossible to write as UTF-8.
"""
from __future__ import annotations

import json
import math
from typing import Any

from grader.model import CheckResult, GradeResult, Lang
from grader.reports.text import strip_ansi, visible, xml_safe

__all__ = ["render_gradescope", "dumps"]


def _clean(s: str) -> str:
    return xml_safe(strip_ansi(s))


def _number(x: float) -> float | int:
    """``2`` for ``2.0`` (JSON reads better), other numbers unchanged; never NaN or infinity."""
    if isinstance(x, float):
        if not math.isfinite(x):
            return 0
        if x.is_integer():
            return int(x)
        return round(x, 6)
    return x


def _points(x: float) -> str:
    value = _number(x)
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
    if check.passed:
        output = ""
    elif check.failure is not None:
        output = check.failure.text(lang, visible)
    else:
        output = "不合格" if lang == "ja" else "failed"
    return {
        "name": _clean(f"{check.id}: {check.title(lang)}"),
        "number": str(number),
        "score": _number(check.points),
        "max_score": _number(check.max_points),
        "status": "passed" if check.passed else "failed",
        "output": _clean(output),
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
        "score": _number(result.score),
        "output": _clean(output),
        "output_format": "text",
        "tests": [_test(i, check, lang) for i, check in enumerate(result.checks, 1)],
        "extra_data": {
            "exercise": result.exercise,
            "seed": result.seed,
            "submission": _clean(result.submission),
        },
    }


def dumps(obj: Any) -> str:
    """``obj`` as JSON text: UTF-8-friendly (no ``\\u`` escapes), indented, keys sorted, final newline."""
    return json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True, allow_nan=False) + "\n"

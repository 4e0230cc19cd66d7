"""Results in PrairieLearn's external grader shape (``/grade/results/results.json``).

As PrairieLearn's "External Grading" documentation describes it: ``score`` a fraction in
[0, 1]; ``gradable: false`` (with ``format_errors``) for a submission that could not be graded, so
that the student loses no attempt; ``message`` and ``output`` for the whole submission; ``tests``
with ``name``, ``description``, ``points``, ``max_points``, ``message``, ``output`` and ``images``
(``{"label", "url"}``, the URL a ``data:`` URL), which its ``<pl-external-grader-results>`` element
shows. A failing interleaving is the failed test's image: the same SVG timeline the HTML report
draws. The file must stay under 1 MB: the pictures go first when it would not.
"""
from __future__ import annotations

from typing import Any

from grader.model import GradeResult, Lang, Msg
from grader.reports.fragment import failure_text, points, svg_data_url, timeline_svg
from grader.reports.gradescope import dumps, json_number
from grader.reports.terminal import render_terminal
from grader.reports.text import clean, head_tail

__all__ = ["render_prairielearn", "ungradable_prairielearn", "SIZE_LIMIT"]

SIZE_LIMIT = 1_000_000
"""PrairieLearn's limit on results.json (1 MB)."""

_SUMMARY = Msg("{score}/{max} 点。{verdict}", "{score}/{max} points. {verdict}")
_ALL = Msg("すべてのチェックに合格しました。", "All checks passed.")
_FAILED = Msg("不合格のチェック: {ids}", "Failed checks: {ids}")


def _message(result: GradeResult, lang: Lang) -> str:
    failed = [c.id for c in result.checks if not c.passed]
    verdict = _FAILED(lang).format(ids=", ".join(failed)) if failed else _ALL(lang)
    return _SUMMARY(lang).format(score=points(result.score), max=points(result.max_score), verdict=verdict)


def render_prairielearn(result: GradeResult, lang: Lang, images: bool = True) -> dict[str, Any]:
    """``result`` as PrairieLearn's results object (a plain dict, ready for ``gradescope.dumps``)."""
    tests = []
    for check in result.checks:
        test: dict[str, Any] = {
            "name": clean(f"{check.id}: {check.title(lang)}"),
            "description": clean(check.title(lang)),
            "points": json_number(check.points),
            "max_points": json_number(check.max_points),
            "message": "" if check.passed or check.failure is None else clean(check.failure.summary(lang)),
            "output": failure_text(check, lang),
        }
        svg = timeline_svg(check, lang, f"pl-{check.id}") if images else None
        if svg is not None:
            caption = check.failure.timeline.caption(lang)  # type: ignore[union-attr]
            test["images"] = [{"label": clean(caption), "url": svg_data_url(svg)}]
        tests.append(test)
    share = result.score / result.max_score if result.max_score else 0.0
    obj = {
        "gradable": True,
        "score": json_number(max(0.0, min(1.0, share))),
        "message": clean(_message(result, lang)),
        "output": clean(render_terminal(result, lang, color=False)),
        "tests": tests,
    }
    def too_big() -> bool:
        return len(dumps(obj).encode("utf-8")) > SIZE_LIMIT * 0.95

    if images and too_big():  # the pictures go first
        for test in tests:
            test.pop("images", None)
    if too_big():  # texts of a pathological size
        obj["output"] = head_tail(obj["output"], 64 * 1024)
        for test in tests:
            test["output"] = head_tail(test["output"], 32 * 1024)
    return obj


def ungradable_prairielearn(reason: Msg, lang: Lang) -> dict[str, Any]:
    """A submission that could not be graded: PrairieLearn marks it invalid and takes no attempt."""
    text = clean(reason(lang))
    return {"gradable": False, "score": 0, "message": text, "format_errors": [text], "output": text, "tests": []}

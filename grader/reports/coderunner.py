"""What a Moodle CodeRunner combinator template grader prints: one JSON object.

As CodeRunner's documentation (its "template grader" help) describes it: ``fraction`` the mark in
[0, 1]; ``testresults`` a table, its first row the column headers (a column headed ``iscorrect``
shows a tick or a cross for 1 or 0); ``columnformats`` one ``%s``/``%h`` per column other than
``iscorrect``; ``prologuehtml`` and ``epiloguehtml`` HTML shown before and after the table (here the
report, the failing interleaving drawn, everything from the program escaped); ``showoutputonly``
false, since this question is marked.
"""
from __future__ import annotations

from typing import Any

from grader.model import GradeResult, Lang, Msg
from grader.reports.fragment import points, report_html
from grader.reports.text import clean, html_text as esc, one_line

__all__ = ["render_coderunner", "error_coderunner", "HEADER"]

HEADER = {
    "ja": ["iscorrect", "チェック", "内容", "点", "理由"],
    "en": ["iscorrect", "Check", "What it checks", "Mark", "Why it failed"],
}


def render_coderunner(result: GradeResult, lang: Lang) -> dict[str, Any]:
    """``result`` as the combinator template grader's JSON object."""
    rows = [[1 if c.passed else 0, c.id, clean(c.title(lang)), f"{points(c.points)}/{points(c.max_points)}",
             "" if c.passed or c.failure is None else one_line(clean(c.failure.summary(lang)), 300)]
            for c in result.checks]
    share = result.score / result.max_score if result.max_score else 0.0
    return {
        "fraction": round(max(0.0, min(1.0, share)), 6),
        "testresults": [HEADER[lang], *rows],
        "columnformats": ["%s", "%s", "%s", "%s"],
        "prologuehtml": "",
        "epiloguehtml": report_html(result, lang, ident="cr"),
        "showoutputonly": False,
    }


def error_coderunner(reason: Msg, lang: Lang) -> dict[str, Any]:
    """An answer that could not be graded: mark 0 and the reason, in one line."""
    return {
        "fraction": 0.0,
        "testresults": [HEADER[lang], [0, "-", "", "0", one_line(clean(reason(lang)), 300)]],
        "columnformats": ["%s", "%s", "%s", "%s"],
        "prologuehtml": f"<p><strong>{esc(reason(lang))}</strong></p>",
        "epiloguehtml": "",
        "showoutputonly": False,
    }

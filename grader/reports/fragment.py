"""The report as a piece of someone else's page: Markdown or an HTML fragment, and each failing
interleaving as a standalone SVG picture.

Learning platforms show our report inside their own pages (Gradescope's results, a Moodle
CodeRunner question's feedback, PrairieLearn's results panel): a full page with its own stylesheet
(``reports.html``) does not fit there. These fragments carry no ``<style>``, no script and no id
that could clash with the host page; all their styling is inline, and every text that came from the
student's program is escaped. Pure functions of the result, like every renderer.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass

from grader.model import CheckResult, GradeResult, Lang, Msg
from grader.reports.svg import render_timeline_svg
from grader.reports.text import clean, failure_text, html_text as esc, points, visible

__all__ = ["report_markdown", "report_html", "failure_text", "failure_markdown", "failure_html",
           "timeline_svg", "svg_data_url", "points", "Ungraded", "ungraded_markdown", "ungraded_html"]

_L = {
    "file": Msg("ファイル", "file"),
    "total": Msg("合計", "total"),
    "check": Msg("チェック", "check"),
    "points": Msg("点", "points"),
    "failures": Msg("不合格の理由", "Why checks failed"),
    "all_passed": Msg("すべてのチェックに合格しました。", "All checks passed."),
    "notes": Msg("お知らせ", "Notes"),
    "failed": Msg("不合格", "failed"),
    "passed": Msg("合格", "passed"),
    "picture": Msg("図: 失敗したインターリーブ（上から下へ実行された順、列はスレッド）",
                   "Picture: the failing interleaving (time runs top to bottom, one column per thread)"),
}


def timeline_svg(check: CheckResult, lang: Lang, ident: str = "tl") -> str | None:
    """The failing interleaving of ``check`` as one standalone SVG document, or None."""
    f = check.failure
    if check.passed or f is None or f.timeline is None or not f.timeline.lanes:
        return None
    return render_timeline_svg(f.timeline, lang, ident, words=True)


def svg_data_url(svg: str) -> str:
    """``svg`` as a ``data:image/svg+xml;base64,...`` URL."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


# ------------------------------------------------------------------------------------ Markdown

def _fence(text: str) -> str:
    """``text`` in a fenced code block whose fence no line of the text can close."""
    longest = run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def _md_inline(text: str) -> str:
    """A short text of ours in a Markdown table cell or heading: one line, ``|`` and markup escaped."""
    out = visible(clean(text))
    for ch in "\\`*_[]<>|#":
        out = out.replace(ch, "\\" + ch)
    return out


def failure_markdown(check: CheckResult, lang: Lang) -> str:
    """Why ``check`` failed, in Markdown (its text in a code block)."""
    text = failure_text(check, lang)
    return _fence(text) if text else ""


def report_markdown(result: GradeResult, lang: Lang, heading: int = 2) -> str:
    """The student's report in Markdown: the checks as a table, each failure explained, the notes."""
    h = "#" * max(1, min(heading, 5))
    lines = [f"{h} {_md_inline(result.exercise_title(lang))} \\[{_md_inline(result.exercise)}\\]", "",
             f"{_L['file'](lang)}: {_md_inline(result.submission)} — "
             f"{_L['total'](lang)}: **{points(result.score)}/{points(result.max_score)}**", "",
             f"| | {_L['check'](lang)} | | {_L['points'](lang)} |", "|---|---|---|---:|"]
    for c in result.checks:
        mark = "✓" if c.passed else "✗"
        lines.append(f"| {mark} | {_md_inline(c.id)} | {_md_inline(c.title(lang))} | "
                     f"{points(c.points)}/{points(c.max_points)} |")
    failed = [c for c in result.checks if not c.passed]
    lines.append("")
    if failed:
        lines += [f"{h}# {_L['failures'](lang)}", ""]
        for c in failed:
            lines += [f"**✗ {_md_inline(c.id)}**: {_md_inline(c.title(lang))}", "", failure_markdown(c, lang), ""]
    else:
        lines += [_L["all_passed"](lang), ""]
    if result.notes:
        lines += [f"{h}# {_L['notes'](lang)}", ""]
        lines += [f"- {_md_inline(n.msg(lang))}" for n in result.notes]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


# ---------------------------------------------------------------------------------------- HTML

_PRE = ('style="white-space:pre-wrap;overflow-wrap:anywhere;background:#f7f7f5;border:1px solid #e2e2de;'
        'border-radius:4px;padding:.5em;margin:.3em 0"')
_CELL = 'style="border-bottom:1px solid #e4e4df;padding:.25em .5em;text-align:left;vertical-align:top"'


def failure_html(check: CheckResult, lang: Lang, ident: str = "cg", picture: bool = True) -> str:
    """Why ``check`` failed as an HTML fragment: the explanation in a ``<pre>``, then the failing
    interleaving drawn (``picture``), scrolling sideways when it is wider than the page."""
    text = failure_text(check, lang)
    if not text:
        return ""
    parts = [f"<pre {_PRE}>{esc(text)}</pre>"]
    svg = timeline_svg(check, lang, f"{ident}-{_ident(check.id)}") if picture else None
    if svg is not None:
        parts.append(f'<figure style="margin:.5em 0"><figcaption>{esc(_L["picture"](lang))}</figcaption>'
                     f'<div style="overflow-x:auto;max-width:100%">{svg}</div></figure>')
    return "".join(parts)


def _ident(text: str) -> str:
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "-" for ch in text) or "x"


def report_html(result: GradeResult, lang: Lang, ident: str = "cg", heading: int = 3, picture: bool = True) -> str:
    """The student's report as an HTML fragment (no page, no stylesheet, no script): the checks as
    a table, each failure explained with its interleaving drawn, the notes."""
    ident = _ident(ident)
    h1, h2 = f"h{max(1, min(heading, 6))}", f"h{max(1, min(heading + 1, 6))}"
    rows = "".join(
        f'<tr><td {_CELL}>{"✓" if c.passed else "✗"}<span style="position:absolute;left:-9999px">'
        f'{esc(_L["passed" if c.passed else "failed"](lang))}</span></td>'
        f"<td {_CELL}><code>{esc(c.id)}</code></td><td {_CELL}>{esc(c.title(lang))}</td>"
        f'<td {_CELL[:-1]};text-align:right">{points(c.points)}/{points(c.max_points)}</td></tr>'
        for c in result.checks)
    parts = [
        f'<div class="concurrency-grader" data-exercise="{esc(result.exercise)}">',
        f"<{h1}>{esc(result.exercise_title(lang))} <small>[{esc(result.exercise)}]</small></{h1}>",
        f"<p>{esc(_L['file'](lang))}: <code>{esc(result.submission)}</code> — {esc(_L['total'](lang))}: "
        f"<strong>{points(result.score)}/{points(result.max_score)}</strong></p>",
        f'<table style="border-collapse:collapse">{rows}</table>',
    ]
    failed = [c for c in result.checks if not c.passed]
    if failed:
        parts.append(f"<{h2}>{esc(_L['failures'](lang))}</{h2}>")
        for c in failed:
            parts.append(f"<p><strong>✗ <code>{esc(c.id)}</code></strong> {esc(c.title(lang))} "
                         f"({points(c.points)}/{points(c.max_points)})</p>")
            parts.append(failure_html(c, lang, ident, picture))
    else:
        parts.append(f"<p>{esc(_L['all_passed'](lang))}</p>")
    if result.notes:
        parts.append(f"<{h2}>{esc(_L['notes'](lang))}</{h2}><ul>"
                     + "".join(f"<li>{esc(n.msg(lang))}</li>" for n in result.notes) + "</ul>")
    parts.append("</div>")
    return "\n".join(parts) + "\n"


# ----------------------------------------------------------------------------- not graded


@dataclass(frozen=True)
class Ungraded:
    """An exercise a platform asked for that could not be graded (no file for it, an unreadable
    file...): every one of its checks counts 0 points, and ``reason`` says why in one line."""

    exercise: str
    title: Msg
    reason: Msg
    checks: tuple[tuple[str, Msg, float], ...] = ()
    """``(check id, title, points)`` of the exercise, when it is known."""

    @property
    def max_score(self) -> float:
        return sum(p for _, _, p in self.checks)


def ungraded_markdown(item: Ungraded, lang: Lang, heading: int = 2) -> str:
    h = "#" * max(1, min(heading, 5))
    return (f"{h} {_md_inline(item.title(lang))} \\[{_md_inline(item.exercise)}\\]\n\n"
            f"**{_md_inline(item.reason(lang))}**\n\n"
            f"{_L['total'](lang)}: **0/{points(item.max_score)}**\n")


def ungraded_html(item: Ungraded, lang: Lang, heading: int = 3) -> str:
    h1 = f"h{max(1, min(heading, 6))}"
    return (f'<div class="concurrency-grader" data-exercise="{esc(item.exercise)}">'
            f"<{h1}>{esc(item.title(lang))} <small>[{esc(item.exercise)}]</small></{h1}>"
            f"<p><strong>{esc(item.reason(lang))}</strong></p>"
            f"<p>{esc(_L['total'](lang))}: <strong>0/{points(item.max_score)}</strong></p></div>\n")

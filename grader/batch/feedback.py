"""What each student reads: a feedback file of their own, and a one-line digest for the LMS.

``render_feedback`` is the whole text (``feedback/<key>.txt``): the student's name and key, the
total, then per exercise the same report the single-file command prints (``render_terminal``
without colour) and why that file was taken when its name was only close, or why there is none
(not handed in, not graded yet), then any file of theirs
that could not be matched to an exercise. ``render_feedback_html`` is the same as a page
(``feedback/<key>.html``), each failure's interleaving drawn as ``grade FILE --html`` draws it.
``one_line_feedback`` is the short form that goes into the "Feedback comments" column of Moodle's
grading worksheet.
"""
from __future__ import annotations

from ..model import CheckResult, Lang, Msg
from ..reports.html import esc, render_page, result_section
from ..reports.terminal import render_terminal
from ..reports.text import one_line, strip_ansi, xml_safe
from ..exercises.catalog import Exercise
from .model import Unmatched
from .roster import Cell, Row, number

__all__ = ["render_feedback", "render_feedback_html", "one_line_feedback", "cell_digest", "STATUS"]

STATUS: dict[str, Msg] = {
    "graded": Msg("採点済み", "Graded"),
    "missing": Msg("未提出", "Not handed in"),
    "pending": Msg("未採点（採点が中断されました）", "Not graded yet (the batch was interrupted)"),
}

_L = {
    "title": Msg("採点結果", "Grading feedback"),
    "total": Msg("合計", "Total"),
    "points": Msg("点", "points"),
    "handed": Msg("提出", "handed in"),
    "missing_text": Msg(
        "このファイルは提出されていません（見つかりませんでした）。ファイル名が課題名（例: {file}）を含んでいるか確認してください。",
        "Not handed in (no file found). Check that the file name contains the exercise's name (e.g. {file}).",
    ),
    "pending_text": Msg(
        "提出されたファイル {file} はまだ採点されていません（採点が途中で中断されました）。",
        "The file {file} was handed in but is not graded yet (the batch was interrupted).",
    ),
    "others": Msg(
        "同じ課題のファイルが複数ありました。点数の最も高い {file} を採点に使いました。ほかのファイル:",
        "Several files were handed in for this exercise; the best-scoring one, {file}, counts. The others:",
    ),
    "unmatched": Msg("課題に対応づけられなかったファイル:", "Files that could not be matched to an exercise:"),
    "failed": Msg("不合格", "failed"),
}


def _clean(s: str) -> str:
    return xml_safe(strip_ansi(s))


def _check_digest(check: CheckResult, lang: Lang) -> str:
    if check.passed:
        return f"✓ {check.id}"
    why = check.failure.summary(lang) if check.failure is not None else _L["failed"](lang)
    return f"✗ {check.id} ({one_line(_clean(why), 200)})"


def cell_digest(exercise: Exercise, cell: Cell, lang: Lang) -> str:
    """One line for one exercise: ``counter_lck 4/7: ✓ runs, ✗ tally (an update was lost…), ✓ lock``,
    or ``counter_lck: Not handed in``."""
    if cell.result is None:
        return f"{exercise.id}: {STATUS[cell.status](lang)}"
    r = cell.result
    checks = ", ".join(_check_digest(c, lang) for c in r.checks)
    return f"{exercise.id} {number(r.score)}/{number(r.max_score)}: {checks}"


def one_line_feedback(row: Row, exercises: list[Exercise], lang: Lang) -> str:
    """The digest of every exercise in ``exercises`` for this student, on one line (`` | `` between)."""
    return " | ".join(cell_digest(ex, row.cells[ex.id], lang) for ex in exercises if ex.id in row.cells)


def _rule(text: str) -> str:
    return f"======== {text} ========"


def render_feedback(row: Row, exercises: list[Exercise], unmatched: list[Unmatched], lang: Lang) -> str:
    """The student's feedback file as text (ends in a newline), in ``lang``.

    ``unmatched`` is every unmatched entry of the batch; the student's own are listed.
    """
    s = row.student
    lines = [f"{_clean(s.name)} ({s.key})", _L["title"](lang), ""]
    graded = row.graded
    total = row.total()
    max_total = sum(ex.max_score for ex in exercises)
    lines.append(
        f"{_L['total'](lang)}: {number(total or 0)}/{number(max_total)} {_L['points'](lang)}"
        f" ({_L['handed'](lang)} {len(graded) + len(row.pending)}/{len(exercises)})"
    )
    for n, ex in enumerate(exercises, 1):
        cell = row.cells[ex.id]
        lines += ["", _rule(f"{n}. {ex.id} — {ex.title(lang)}"), ""]
        if cell.status == "graded":
            lines.append(render_terminal(cell.result, lang, color=False).rstrip("\n"))
            if cell.others:
                lines += ["", _L["others"](lang).format(file=_clean(cell.item.relpath))]
                for item, result in cell.others:
                    lines.append(f"  - {_clean(item.relpath)}: {number(result.score)}/{number(result.max_score)}")
        elif cell.status == "pending":
            lines.append(_L["pending_text"](lang).format(file=_clean(cell.item.relpath)))
        else:
            lines.append(_L["missing_text"](lang).format(file=ex.file))
        if cell.item is not None and cell.item.note is not None:
            lines += ["", f"※ {_clean(cell.item.note(lang))}"]
    own = sorted((u for u in unmatched if u.student is not None and u.student.key == s.key), key=lambda u: u.relpath)
    if own:
        lines += ["", _L["unmatched"](lang)]
        lines += [f"  - {_clean(u.relpath)}: {_clean(u.reason(lang))}" for u in own]
    return "\n".join(lines) + "\n"


def render_feedback_html(row: Row, exercises: list[Exercise], unmatched: list[Unmatched], lang: Lang) -> str:
    """The student's feedback as a self-contained HTML page in ``lang``: what ``render_feedback``
    says, with each exercise's report as ``grade FILE --html`` shows it (timelines included)."""
    s = row.student
    total = row.total()
    max_total = sum(ex.max_score for ex in exercises)
    handed = len(row.graded) + len(row.pending)
    parts = [
        '<div class="card">',
        f"<h1>{esc(s.name)}" + (f" <span class=\"muted\">({esc(s.key)})</span>" if s.name != s.key else "") + "</h1>",
        f"<p>{esc(_L['title'](lang))}</p>",
        f'<p class="score">{esc(_L["total"](lang))}: <strong>{number(total or 0)}</strong> / {number(max_total)} '
        f"{esc(_L['points'](lang))} ({esc(_L['handed'](lang))} {handed}/{len(exercises)})</p>",
        "</div>",
    ]
    for n, ex in enumerate(exercises, 1):
        cell = row.cells[ex.id]
        extra = []
        if cell.status == "graded":
            parts.append(result_section(cell.result, lang, level=2, prefix=f"ex{n}-"))
            if cell.others:
                extra.append(f"<p>{esc(_L['others'](lang).format(file=cell.item.relpath))}</p><ul>" + "".join(
                    f"<li><code>{esc(item.relpath)}</code>: {number(result.score)}/{number(result.max_score)}</li>"
                    for item, result in cell.others) + "</ul>")
        else:
            text = _L["pending_text" if cell.status == "pending" else "missing_text"](lang)
            file = cell.item.relpath if cell.status == "pending" else ex.file
            parts.append(f'<section class="card result" id="ex{n}-result" data-exercise="{esc(ex.id)}">'
                         f"<h2>{esc(ex.title(lang))} <span class=\"muted\">[{esc(ex.id)}]</span></h2>"
                         f"<p>{esc(text.format(file=file))}</p></section>")
        if cell.item is not None and cell.item.note is not None:
            extra.append(f"<p>※ {esc(cell.item.note(lang))}</p>")
        if extra:
            parts.append('<div class="card">' + "".join(extra) + "</div>")
    own = sorted((u for u in unmatched if u.student is not None and u.student.key == s.key), key=lambda u: u.relpath)
    if own:
        parts.append(f'<div class="card"><p>{esc(_L["unmatched"](lang))}</p><ul>' + "".join(
            f"<li><code>{esc(u.relpath)}</code>: {esc(u.reason(lang))}</li>" for u in own) + "</ul></div>")
    return render_page(f"{s.name} ({s.key}) — {_L['title'](lang)}", "\n".join(parts), lang)

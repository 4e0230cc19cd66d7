"""The report as one self-contained HTML page: what a student would rather look at.

``render_html`` is the page of one graded submission (``grade FILE --html PATH``): the exercise and
file, every check with its points, and for each failure what was expected, what happened and where,
as in the terminal, with the failing interleaving drawn as a timeline (``grader.reports.svg``).
``render_index`` is the TA's page for a batch: the score distribution, failures per check, a link
to each student's page. ``render_page`` and ``result_section`` are the parts the batch uses to build
a student's page of several exercises.

Pure functions of the results, like the JUnit and JSON renderers: no I/O, no clock, no randomness,
so the same result gives the same bytes. The page carries no script and loads nothing (styles and
pictures are inline, fonts are the system's): it opens offline, from a USB stick, in any browser.
Everything that came from the student's program is escaped (``html_text``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from grader import __version__
from grader.model import CheckResult, Failure, GradeResult, Lang, Msg, Timeline
from grader.reports.svg import (FONT_STACK, describe_timeline, hbars_svg, histogram_svg, legend,
                                render_timeline_svg, timeline_steps)
from grader.reports.text import head_tail, html_text as esc, points

__all__ = ["render_html", "render_index", "render_page", "result_section", "IndexExercise", "IndexStudent", "esc"]

OUTPUT_LIMIT = 16 * 1024
"""Bytes of program output kept on the page (head and tail)."""

_L: dict[str, Msg] = {
    "report": Msg("採点結果", "Grading report"),
    "file": Msg("ファイル", "file"),
    "total": Msg("合計", "total"),
    "points": Msg("点", "points"),
    "checks": Msg("チェック", "Checks"),
    "failures": Msg("不合格の理由", "Why checks failed"),
    "all_passed": Msg("すべてのチェックに合格しました。", "All checks passed."),
    "some_failed": Msg("{n} 個のチェックが不合格です。", "{n} check(s) failed."),
    "passed": Msg("合格", "passed"),
    "failed": Msg("不合格", "failed"),
    "error": Msg("採点器のエラー", "grader error"),
    "expected": Msg("期待", "expected"),
    "observed": Msg("実際", "observed"),
    "where": Msg("場所", "where"),
    "trace": Msg("インターリーブ（実行された順）", "Interleaving (in the order it ran)"),
    "replay": Msg("再現", "replay"),
    "picture": Msg("図: 実行の流れ", "Picture: how it ran"),
    "flow": Msg("上から下へ、実行された順（スケジュール順）。列はスレッドです。",
                "Time runs top to bottom, in the order things ran (schedule order). Each column is a thread."),
    "as_text": Msg("図を文章で読む", "The picture in words"),
    "legend": Msg("記号の意味", "Key"),
    "notes": Msg("お知らせ", "Notes"),
    "output": Msg("プログラムの出力（最初のスケジュール）", "Program output (first schedule)"),
    "no_output": Msg("（出力なし）", "(no output)"),
    "seed": Msg("シード", "seed"),
    "exercise_version": Msg("課題の版", "exercise version"),
    "made_by": Msg("concurrency grader {v} が作成", "made by concurrency grader {v}"),
    "to_failure": Msg("理由を見る", "see why"),
}


def _t(key: str, lang: Lang, **kw) -> str:
    text = _L[key](lang)
    return text.format(**kw) if kw else text


def _ident(text: str) -> str:
    """``text`` usable in an id attribute and a ``#fragment``."""
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "-" for ch in text) or "x"


# ------------------------------------------------------------------------------------ page

_BREAKS = tuple(range(400, 1201, 40))
"""Screen widths (px) below which a figure swaps its wide picture for the narrow one."""


_CSS = """
:root{color-scheme:light}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;font-family:{font};font-size:16px;line-height:1.6;color:#1a1a1a;background:#f4f4f1}
main{max-width:980px;margin:0 auto;padding:12px}
h1,h2,h3,h4{line-height:1.35;margin:0 0 .4rem}
h1{font-size:1.35rem}h2{font-size:1.15rem;margin-top:1.2rem}h3{font-size:1.05rem}h4{font-size:1rem}
a{color:#0b5cad}
code,pre,kbd{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,'Noto Sans Mono CJK JP','Noto Sans Mono',monospace;font-size:.92em}
code{overflow-wrap:anywhere;background:#f1f1ee;border-radius:3px;padding:0 .2em}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f7f7f5;border:1px solid #e2e2de;border-radius:6px;padding:.6rem;margin:.4rem 0;max-height:32rem;overflow:auto}
.card{background:#fff;border:1px solid #dcdcd6;border-radius:10px;padding:14px 16px;margin:0 0 14px}
.muted{color:#555}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);clip-path:inset(50%);white-space:nowrap}
.score{font-size:1.1rem;margin:.3rem 0}
.score strong{font-size:1.6rem}
.meter{height:10px;border-radius:5px;background:#e6e6e1;overflow:hidden;max-width:420px;margin:0 0 .9rem}
.meter span{display:block;height:100%;background:#0072B2}
.checks{list-style:none;margin:.2rem 0 0;padding:0}
.check{display:grid;grid-template-columns:1.2em max-content minmax(0,1fr) max-content;align-items:baseline;gap:.1rem .6rem;padding:.45rem .15rem;border-bottom:1px solid #ecece8}
.check:last-child{border-bottom:0}
.check .mark{font-weight:bold}
.check .pts{white-space:nowrap;font-variant-numeric:tabular-nums;text-align:right}
.pass .mark{color:#00704f}.fail .mark,.failure h3 .mark,.failure h4 .mark{color:#a33a00}
.failure{border-left:5px solid #D55E00}
.failure .summary{font-weight:bold;margin:.3rem 0 .5rem}
dl.facts{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.15rem .9rem;margin:.3rem 0 .6rem}
dl.facts dt{color:#555}
dl.facts dd{margin:0;overflow-wrap:anywhere}
dl.facts dd pre{margin:0}
figure{margin:.8rem 0}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;border:1px solid #e2e2de;border-radius:8px;background:#fff;width:fit-content;max-width:100%}
div.table.scroll{width:auto}
.scroll svg{display:block;height:auto;max-width:100%}
figcaption{font-weight:bold;margin:.45rem 0 .2rem}
.flow{margin:.1rem 0 .3rem;font-size:.92rem}
.tl-notes{margin:.2rem 0;padding-left:1.2rem;font-size:.95rem}
.legend{display:flex;flex-wrap:wrap;gap:.2rem 1rem;list-style:none;padding:0;margin:.3rem 0;font-size:.9rem}
.legend li{display:flex;align-items:center;gap:.35rem}
.legend svg{flex:none}
details{margin:.4rem 0}
summary{cursor:pointer;color:#0b5cad}
ol.trace{margin:.3rem 0;padding-left:1.6rem}
ol.trace li{overflow-wrap:anywhere}
table{border-collapse:collapse;font-size:.95rem;min-width:100%}
th,td{border-bottom:1px solid #e4e4df;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f1;white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.charts{display:flex;flex-wrap:wrap;gap:14px}
.charts figure{margin:0}
footer{color:#555;font-size:.85rem;margin:1rem 0 2rem}
.tl-narrow{display:none}
ol.steps{margin:.4rem 0;padding-left:2rem;font-size:.95rem}
ol.steps li{overflow-wrap:anywhere;margin:.1rem 0}
strong.lost{color:#a33a00}
{breaks}
@media (max-width:560px){main{padding:8px}.card{padding:12px}dl.facts{grid-template-columns:minmax(0,1fr)}dl.facts dt{font-weight:bold;color:#1a1a1a}dl.facts dd{margin-bottom:.3rem}}
@media print{body{background:#fff}.card{border:0;padding:0}details{display:block}summary{display:none}}
""".replace("{font}", FONT_STACK).replace("{breaks}", "\n".join(
    f"@media (max-width:{b - 0.02}px){{.bp-{b} .tl-wide{{display:none}}.bp-{b} .tl-narrow{{display:block}}}}"
    for b in _BREAKS))


def render_page(title: str, body: str, lang: Lang) -> str:
    """A complete HTML document: ``title`` (plain text, escaped here) and ``body`` (HTML, as is)."""
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="color-scheme" content="light">\n'
        f"<title>{esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n{body}\n"
        f'<footer>{esc(_t("made_by", lang, v=__version__))}</footer>\n</main>\n</body>\n</html>\n'
    )


# ---------------------------------------------------------------------------------- result


def _check_item(check: CheckResult, lang: Lang, prefix: str) -> str:
    state = "pass" if check.passed else "fail"
    mark = "✓" if check.passed else "✗"
    word = _t("passed", lang) if check.passed else _t("error" if check.error else "failed", lang)
    cid = f"<code>{esc(check.id)}</code>"
    if not check.passed:
        cid = f'<a href="#{prefix}fail-{_ident(check.id)}" title="{esc(_t("to_failure", lang))}">{cid}</a>'
    return (f'<li class="check {state}" data-check="{esc(check.id)}"><span class="mark" aria-hidden="true">{mark}</span>'
            f'<span class="sr">{esc(word)}: </span>{cid}<span class="ctitle">{esc(check.title(lang))}</span>'
            f'<span class="pts">{points(check.points)}/{points(check.max_points)}</span></li>')


def _figure(tl: Timeline, lang: Lang, ident: str) -> str:
    wide = render_timeline_svg(tl, lang, f"{ident}-w", words=True)
    narrow = render_timeline_svg(tl, lang, f"{ident}-n", words=False)
    # a picture shrinks to fit down to 80 %, then scrolls sideways rather than make its text tiny;
    # a screen too narrow for the wide one at 80 % gets the narrow one and its steps as a list
    width = _svg_width(wide)
    need = width * 0.8 + 56
    breakpoint = next((b for b in _BREAKS if b >= need), _BREAKS[-1])
    wide = wide.replace("<svg ", f'<svg style="min-width:{math.floor(width * 0.8)}px" ', 1)
    narrow = narrow.replace("<svg ", f'<svg style="min-width:{math.floor(_svg_width(narrow) * 0.8)}px" ', 1)
    steps = []
    for r, items in enumerate(timeline_steps(tl, lang)):
        text = "<br>".join(f'<strong class="lost">{esc(t)}</strong>' if lost else esc(t) for t, lost in items)
        steps.append(f'<li value="{r + 1}">{text}</li>')
    notes = "".join(f"<li>{esc(n(lang))}</li>" for n in tl.notes)
    keys = "".join(f"<li>{icon}<span>{text}</span></li>" for icon, text in legend(tl, lang))
    words = "".join(f"<li>{esc(line)}</li>" for line in describe_timeline(tl, lang))
    return (
        f'<figure class="timeline-figure bp-{breakpoint}" data-kind="{esc(tl.kind)}" aria-labelledby="{ident}-cap">'
        f'<figcaption id="{ident}-cap">{esc(tl.caption(lang))}</figcaption>'
        f'<p class="flow muted">{esc(_t("flow", lang))}</p>'
        f'<div class="scroll tl-wide">{wide}</div>'
        f'<div class="tl-narrow"><div class="scroll">{narrow}</div><ol class="steps">{"".join(steps)}</ol></div>'
        + (f'<ul class="tl-notes">{notes}</ul>' if notes else "")
        + f'<ul class="legend" aria-label="{esc(_t("legend", lang))}">{keys}</ul>'
        f'<details class="as-text"><summary>{esc(_t("as_text", lang))}</summary><ol class="trace">{words}</ol></details>'
        "</figure>"
    )


def _svg_width(svg: str) -> float:
    head = svg[: svg.find(">")]
    at = head.find(' width="')
    if at < 0:
        return 0.0
    try:
        return float(head[at + 8: head.find('"', at + 8)])
    except ValueError:
        return 0.0


def _fact(text: str) -> str:
    """A fact of a failure: a text of several lines (a source line and its caret) keeps its lines."""
    text = text.rstrip("\n")
    return f"<pre>{esc(text)}</pre>" if "\n" in text else esc(text)


def _failure_block(check: CheckResult, lang: Lang, level: int, prefix: str) -> str:
    ident = f"{prefix}fail-{_ident(check.id)}"
    h = f"h{min(level, 6)}"
    head = (f'<{h}><span class="mark" aria-hidden="true">✗</span> <code>{esc(check.id)}</code> '
            f'{esc(check.title(lang))} <span class="muted">{points(check.points)}/{points(check.max_points)}</span></{h}>')
    f: Failure | None = check.failure
    parts = [f'<section class="card failure" id="{ident}" data-check="{esc(check.id)}">', head]
    if f is None:
        parts.append(f'<p class="summary">{esc(_t("failed", lang))}</p></section>')
        return "".join(parts)
    parts.append(f'<p class="summary">{esc(f.summary(lang))}</p>')
    facts = [(key, part) for key, part in (("expected", f.expected), ("observed", f.observed), ("where", f.where))
             if part is not None]
    if facts:
        parts.append('<dl class="facts">' + "".join(
            f"<dt>{esc(_t(key, lang))}</dt><dd>{_fact(part(lang))}</dd>" for key, part in facts) + "</dl>")
    if f.timeline is not None and f.timeline.lanes:
        parts.append(_figure(f.timeline, lang, f"{ident}-tl"))
    if f.trace:
        items = "".join(f"<li>{esc(step(lang))}</li>" for step in f.trace)
        parts.append(f'<p class="muted">{esc(_t("trace", lang))}</p><ol class="trace">{items}</ol>')
    if f.replay:
        parts.append(f'<p>{esc(_t("replay", lang))}: <code>{esc(f.replay)}</code></p>')
    parts.append("</section>")
    return "".join(parts)


def result_section(result: GradeResult, lang: Lang, level: int = 1, prefix: str = "") -> str:
    """One graded submission as an HTML fragment: its heading at ``h<level>``, then the checks, the
    failures explained (with their timelines), the notes and the program's output. ``prefix`` keeps
    the ids unique when a page holds several results."""
    prefix = _ident(prefix) if prefix else ""
    h1, h2 = f"h{min(level, 6)}", f"h{min(level + 1, 6)}"
    failed = [c for c in result.checks if not c.passed]
    share = 0.0 if not result.max_score else max(0.0, min(1.0, result.score / result.max_score))
    verdict = _t("all_passed", lang) if not failed else _t("some_failed", lang, n=len(failed))
    parts = [
        f'<section class="result" id="{prefix}result" data-exercise="{esc(result.exercise)}">',
        '<div class="card">',
        f'<{h1}>{esc(result.exercise_title(lang))} <span class="muted">[{esc(result.exercise)}]</span></{h1}>',
        f'<p class="muted">{esc(_t("file", lang))}: <code>{esc(result.submission)}</code></p>',
        f'<p class="score">{esc(_t("total", lang))}: <strong>{points(result.score)}</strong> / '
        f'{points(result.max_score)} {esc(_t("points", lang))} — {esc(verdict)}</p>',
        f'<div class="meter" aria-hidden="true"><span style="width:{share * 100:.1f}%"></span></div>',
        f'<{h2}>{esc(_t("checks", lang))}</{h2}>',
        '<ul class="checks">' + "".join(_check_item(c, lang, prefix) for c in result.checks) + "</ul>",
        "</div>",
    ]
    if failed:
        parts.append(f'<{h2}>{esc(_t("failures", lang))}</{h2}>')
        parts.extend(_failure_block(c, lang, level + 2, prefix) for c in failed)
    if result.notes:
        notes = "".join(f"<li>{esc(n.msg(lang))}</li>" for n in result.notes)
        parts.append(f'<div class="card"><{h2}>{esc(_t("notes", lang))}</{h2}><ul>{notes}</ul></div>')
    output = head_tail(result.output.replace("\r\n", "\n"), OUTPUT_LIMIT) if result.output else ""
    parts.append(f'<details class="card output"><summary>{esc(_t("output", lang))}</summary>'
                 f'<pre>{esc(output) if output else esc(_t("no_output", lang))}</pre></details>')
    judged = result.properties.get("exercise_fingerprint")
    version = result.properties.get("exercise_version")
    extra = (f' · {esc(_t("exercise_version", lang))} {esc(version)}' if version else "") + (
        f' ({esc(judged)})' if judged else "")
    parts.append(f'<p class="muted">{esc(_t("seed", lang))}: {result.seed}{extra}</p>')
    parts.append("</section>")
    return "\n".join(parts)


def render_html(result: GradeResult, lang: Lang) -> str:
    """The report of one graded submission as a complete, self-contained HTML page in ``lang``."""
    title = f"{_t('report', lang)}: {result.exercise_title(lang)} — {result.submission}"
    return render_page(title, result_section(result, lang, level=1), lang)


# ----------------------------------------------------------------------------------- index


@dataclass(frozen=True)
class IndexExercise:
    """An exercise as the class page shows it."""

    id: str
    title: Msg
    max_score: float
    checks: tuple[tuple[str, Msg, float], ...] = ()
    """``(check id, title, points)`` in the exercise's order."""


@dataclass(frozen=True)
class IndexStudent:
    """One student's line on the class page."""

    key: str
    name: str
    href: str | None = None
    """Link to the student's own page, relative to the index (``feedback/s2212345.html``)."""
    cells: Mapping[str, "GradeResult | str"] = field(default_factory=dict)
    """By exercise id: the result that counts, or ``"missing"`` / ``"pending"``."""


_I: dict[str, Msg] = {
    "title": Msg("クラスの採点結果", "Class results"),
    "counts": Msg("学生 {students} 人、採点したファイル {graded} 件、未提出 {missing} 件",
                  "{students} students, {graded} files graded, {missing} not handed in"),
    "distribution": Msg("合計点の分布", "Distribution of total scores"),
    "review": Msg("確認が必要なプログラム（integrity）", "Programs to review (integrity)"),
    "exercise": Msg("課題", "exercise"),
    "review_note": Msg("インタプリタや採点器の内部を調べているプログラムです（0点の確認項目）。採点結果が正しいか確認してください。",
                       "These programs look inside the interpreter or the grader (a check worth 0 points): check that "
                       "their results are what they earned."),
    "dist_x": Msg("合計点（{max} 点満点）", "total score (out of {max})"),
    "dist_y": Msg("人数", "students"),
    "failures": Msg("チェックごとの不合格数", "Failures per check"),
    "fail_title": Msg("{ex}: チェックごとの不合格数（採点した {n} 件のうち）",
                      "{ex}: failures per check (of {n} graded)"),
    "average": Msg("採点 {n} 件、平均 {avg} / {max} 点", "{n} graded, average {avg} / {max}"),
    "none_graded": Msg("まだ採点された提出がありません", "nothing graded yet"),
    "students": Msg("学生", "Students"),
    "key": Msg("学籍番号 / ID", "student number / id"),
    "name": Msg("氏名", "name"),
    "total": Msg("合計", "total"),
    "report": Msg("レポート", "report"),
    "open": Msg("開く", "open"),
    "missing": Msg("未提出", "not handed in"),
    "pending": Msg("未採点", "not graded yet"),
    "table": Msg("数値で見る", "As numbers"),
    "score": Msg("点数", "score"),
    "failed_n": Msg("不合格", "failed"),
    "private": Msg("このページにはクラス全員の成績が載っています。学生には各自のレポートだけを渡してください。",
                   "This page shows the whole class's grades: give students only their own report."),
}


def _i(key: str, lang: Lang, **kw) -> str:
    text = _I[key](lang)
    return text.format(**kw) if kw else text


def _total(student: IndexStudent, exercises: Sequence[IndexExercise]) -> float | None:
    scores = [c.score for c in (student.cells.get(ex.id) for ex in exercises) if isinstance(c, GradeResult)]
    return sum(scores) if scores else None


def _bins(totals: list[float], max_total: float) -> list[tuple[str, int]]:
    """Columns of the score histogram: one per point up to 30 points, else 15 equal ranges."""
    top = max(1, math.ceil(max_total))
    if top <= 30:
        counts = [0] * (top + 1)
        for t in totals:
            counts[max(0, min(top, math.floor(t + 1e-9)))] += 1
        return [(str(k), n) for k, n in enumerate(counts)]
    width = top / 15
    counts = [0] * 15
    for t in totals:
        counts[max(0, min(14, math.floor(t / width)))] += 1
    return [(f"{points(k * width)}–{points((k + 1) * width)}", n) for k, n in enumerate(counts)]


def render_index(students: Sequence[IndexStudent], exercises: Sequence[IndexExercise], lang: Lang,
                 title: Msg | None = None) -> str:
    """The TA's page for a batch, complete and self-contained: how many handed in, the class's
    score distribution, per exercise how many failed each check (small charts, and the same numbers
    as tables), and one row per student linking to their own page. Students in the given order."""
    head = title(lang) if title is not None else _i("title", lang)
    graded = sum(1 for s in students for c in s.cells.values() if isinstance(c, GradeResult))
    missing = sum(1 for s in students for ex in exercises if s.cells.get(ex.id, "missing") == "missing")
    max_total = sum(ex.max_score for ex in exercises)
    totals = [t for t in (_total(s, exercises) for s in students) if t is not None]
    parts = [f'<div class="card"><h1>{esc(head)}</h1>',
             f'<p>{esc(_i("counts", lang, students=len(students), graded=graded, missing=missing))}</p>',
             f'<p class="muted">{esc(_i("private", lang))}</p></div>']
    # the distribution of totals
    bins = _bins(totals, max_total)
    rows = "".join(f'<tr><td class="num">{esc(lab)}</td><td class="num">{n}</td></tr>' for lab, n in bins)
    parts.append(
        f'<section class="card" id="distribution"><h2>{esc(_i("distribution", lang))}</h2>'
        f'<figure><div class="scroll">'
        + histogram_svg(bins, _i("distribution", lang), _i("dist_x", lang, max=points(max_total)),
                        _i("dist_y", lang), ident="dist")
        + f'</div></figure><details><summary>{esc(_i("table", lang))}</summary><div class="scroll table"><table>'
        f'<thead><tr><th class="num">{esc(_i("score", lang))}</th><th class="num">{esc(_i("dist_y", lang))}</th></tr>'
        f"</thead><tbody>{rows}</tbody></table></div></details></section>")
    # failures per check, per exercise
    parts.append(f'<section class="card" id="failures"><h2>{esc(_i("failures", lang))}</h2><div class="charts">')
    for ex in exercises:
        results = [c for c in (s.cells.get(ex.id) for s in students) if isinstance(c, GradeResult)]
        n = len(results)
        checks = list(ex.checks) or [(c.id, c.title, c.max_points) for c in (results[0].checks if results else ())]
        failed = [(cid, sum(1 for r in results for c in r.checks if c.id == cid and not c.passed)) for cid, _, _ in checks]
        label = f"{ex.id} — {ex.title(lang)}"
        if n:
            avg = points(round(sum(r.score for r in results) / n, 1))
            sub = _i("average", lang, n=n, avg=avg, max=points(ex.max_score))
        else:
            sub = _i("none_graded", lang)
        bars = [(f"{cid} ({points(pts)})", k, n) for (cid, _, pts), (_, k) in zip(checks, failed)]
        table = "".join(f"<tr><td><code>{esc(cid)}</code></td><td>{esc(t(lang))}</td>"
                        f'<td class="num">{k}/{n}</td></tr>' for (cid, t, _), (_, k) in zip(checks, failed))
        parts.append(
            f'<figure id="ex-{_ident(ex.id)}" data-exercise="{esc(ex.id)}"><h3>{esc(label)}</h3>'
            f'<p class="muted">{esc(sub)}</p><div class="scroll">'
            + hbars_svg(bars, _i("fail_title", lang, ex=ex.id, n=n), ident=f"fails-{_ident(ex.id)}")
            + f'</div><details><summary>{esc(_i("table", lang))}</summary><div class="scroll table"><table><thead><tr>'
            f'<th>{esc(_t("checks", lang))}</th><th></th><th class="num">{esc(_i("failed_n", lang))}</th></tr></thead>'
            f"<tbody>{table}</tbody></table></div></details></figure>")
    parts.append("</div></section>")
    # programs that looked inside the grader: for the TA to review
    review = []
    for s in students:
        for ex in exercises:
            c = s.cells.get(ex.id)
            bad = next((x for x in c.checks if x.id == "integrity" and not x.passed), None) \
                if isinstance(c, GradeResult) else None
            if bad is not None:
                seen = bad.failure.observed(lang) if bad.failure and bad.failure.observed else ""
                link = f'<a href="{esc(s.href)}">{esc(s.key)}</a>' if s.href else esc(s.key)
                review.append(f'<tr data-review="{esc(s.key)}"><td>{link}</td><td>{esc(s.name)}</td>'
                              f"<td><code>{esc(ex.id)}</code></td><td>{esc(seen)}</td></tr>")
    if review:
        parts.append(
            f'<section class="card" id="review"><h2>{esc(_i("review", lang))}</h2>'
            f'<p>{esc(_i("review_note", lang))}</p><div class="scroll table"><table><thead><tr>'
            f'<th scope="col">{esc(_i("key", lang))}</th><th scope="col">{esc(_i("name", lang))}</th>'
            f'<th scope="col">{esc(_i("exercise", lang))}</th><th scope="col"></th></tr></thead>'
            f'<tbody>{"".join(review)}</tbody></table></div></section>')
    # the students
    head_cells = "".join(f'<th class="num" scope="col"><abbr title="{esc(ex.title(lang))}">{esc(ex.id)}</abbr></th>'
                         for ex in exercises)
    body = []
    for s in students:
        cells = []
        for ex in exercises:
            c = s.cells.get(ex.id, "missing")
            if isinstance(c, GradeResult):
                bad = sum(1 for x in c.checks if not x.passed)
                mark = "✓" if not bad else "✗"
                cells.append(f'<td class="num">{points(c.score)}/{points(c.max_score)} '
                             f'<span aria-hidden="true">{mark}</span></td>')
            else:
                cells.append(f'<td class="num muted">{esc(_i("pending" if c == "pending" else "missing", lang))}</td>')
        total = _total(s, exercises)
        link = f'<a href="{esc(s.href)}">{esc(_i("open", lang))}</a>' if s.href else ""
        body.append(f'<tr data-student="{esc(s.key)}"><td><code>{esc(s.key)}</code></td><td>{esc(s.name)}</td>'
                    f'{"".join(cells)}<td class="num">{"" if total is None else points(total)}</td><td>{link}</td></tr>')
    parts.append(
        f'<section class="card" id="students"><h2>{esc(_i("students", lang))}</h2><div class="scroll table"><table>'
        f'<thead><tr><th scope="col">{esc(_i("key", lang))}</th><th scope="col">{esc(_i("name", lang))}</th>{head_cells}'
        f'<th class="num" scope="col">{esc(_i("total", lang))} ({points(max_total)})</th>'
        f'<th scope="col">{esc(_i("report", lang))}</th></tr></thead><tbody>{"".join(body)}</tbody></table></div></section>')
    return render_page(head, "\n".join(parts), lang)

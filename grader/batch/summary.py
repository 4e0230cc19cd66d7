"""The class summary: what the lecturer should explain again next week.

``summarize`` builds it as plain data (``summary.json``); ``render_summary`` as text
(``summary.txt``, also printed by ``grade batch``). Both say how many students and submissions
there were, what was not handed in or could not be matched, and per exercise the mean score and
the spread of scores; per check, how many failed out of how many graded, and the three most
common failure messages. Messages are grouped after ``normalise_message`` takes out what differs
from one student to the next (numbers, thread names, the student's key, name and file), so that
"くさ が 3 ではなく 2" and "どく が 3 ではなく 1" count as the same mistake.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Any

from ..exercises.catalog import Exercise
from ..model import GradeResult, Lang, Msg
from ..reports.text import one_line, visible
from .model import Discovery, Item
from .roster import Row, build_roster, is_lms_id, number

__all__ = ["summarize", "render_summary", "format_summary", "normalise_message", "TOP"]

TOP = 3
"""How many of the most common failure messages are shown per check."""

_HEX = re.compile(r"0x[0-9a-fA-F]+")
_THREAD = re.compile(r"\b(Thread|Process|ForkProcess|SpawnProcess|Dummy)-\d+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_SPACES = re.compile(r"\s+")


def normalise_message(text: str, *, key: str | None = None, name: str | None = None,
                      submission: str | None = None) -> str:
    """``text`` with what varies between students taken out, for grouping equal mistakes.

    The submission's path becomes ``<file>``, the student's name ``<name>`` and key ``<key>``;
    then ``0x7f3a…`` becomes ``0xN``, ``Thread-12`` ``Thread-N`` (and ``Process-3`` ``Process-N``),
    every other run of digits ``N`` (``1.5`` too); whitespace is collapsed to one space.
    """
    s = visible(_SPACES.sub(" ", text))  # whitespace collapsed first: a newline is a space here
    for literal, marker in sorted(((submission, "<file>"), (name, "<name>"), (key, "<key>")),
                                  key=lambda p: -len(p[0] or "")):
        if literal and len(literal) >= 2:
            s = s.replace(literal, marker)
    s = _HEX.sub("\ue000", s)  # a private-use character holds the place, so that its 0 stays
    s = _THREAD.sub(lambda m: f"{m.group(1)}-N", s)
    s = _NUMBER.sub("N", s).replace("\ue000", "0xN")
    return _SPACES.sub(" ", s).strip()


def _failure_text(result: GradeResult, check, lang: Lang) -> str:
    if check.failure is not None:
        text = check.failure.summary(lang)
    else:
        text = f"{check.title(lang)}: {'不合格' if lang == 'ja' else 'failed'}"
    return normalise_message(text, key=result.student_key, name=result.student_name, submission=result.submission)


def _exercise_summary(ex: Exercise, rows: list[Row], lang: Lang) -> dict[str, Any]:
    cells = [row.cells[ex.id] for row in rows]
    results = [c.result for c in cells if c.result is not None]
    scores = [r.score for r in results]
    spread = Counter(round(s, 6) for s in scores)
    checks = []
    check_ids = [c.id for c in ex.checks]
    for r in results:  # a check the catalog does not declare (added beside them) still counts
        check_ids += [c.id for c in r.checks if c.id not in check_ids]
    for cid in check_ids:
        graded = failed = errors = 0
        messages: Counter[str] = Counter()
        for r in results:
            for c in r.checks:
                if c.id != cid:
                    continue
                graded += 1
                if c.error:
                    errors += 1
                elif not c.passed:
                    failed += 1
                    messages[_failure_text(r, c, lang)] += 1
        top = sorted(messages.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]
        spec = next((c for c in ex.checks if c.id == cid), None)
        title = spec.title if spec is not None else Msg.same(cid)
        checks.append({
            "id": cid,
            "title": {"ja": title.ja, "en": title.en},
            "graded": graded,
            "failed": failed,
            "errors": errors,
            "top_failures": [{"message": m, "count": n} for m, n in top],
        })
    mean = round(sum(scores) / len(scores), 2) if scores else None
    return {
        "id": ex.id,
        "title": {"ja": ex.title.ja, "en": ex.title.en},
        "max_score": float(ex.max_score),
        "handed_in": sum(1 for c in cells if c.status != "missing"),
        "graded": len(results),
        "pending": sum(1 for c in cells if c.status == "pending"),
        "not_handed_in": sum(1 for c in cells if c.status == "missing"),
        "all_passed": sum(1 for r in results if r.passed),
        "mean": mean,
        "distribution": [{"score": float(s), "count": spread[s]} for s in sorted(spread, reverse=True)],
        "checks": checks,
    }


def _ints(obj: Any) -> Any:
    """Floats that are whole numbers as ints, everywhere in ``obj`` (``7`` reads better than ``7.0``)."""
    if isinstance(obj, float) and obj.is_integer():
        return int(obj)
    if isinstance(obj, dict):
        return {k: _ints(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_ints(v) for v in obj]
    return obj


def summary_from_roster(rows: list[Row], discovery: Discovery, exercises: list[Exercise], lang: Lang) -> dict[str, Any]:
    """``summarize`` from an already built roster (``write_outputs`` builds it once)."""
    def who(row: Row, ex: str) -> dict[str, str]:
        return {"student_key": row.student.key, "name": row.student.name, "exercise": ex}

    missing = [who(row, ex) for row in rows for ex, c in row.cells.items() if c.status == "missing"]
    pending = [who(row, ex) for row in rows for ex, c in row.cells.items() if c.status == "pending"]
    faulty = [who(row, ex) for row in rows for ex, c in row.cells.items()
              if c.result is not None and any(check.error for check in c.result.checks)]
    unmatched = sorted(discovery.unmatched, key=lambda u: (u.relpath, u.reason.en))
    summary: dict[str, Any] = {
        "layout": discovery.layout,
        "lang": lang,
        "students": len(rows),
        "submissions_graded": sum(len(row.graded) for row in rows),
        "not_handed_in": len(missing),
        "pending": len(pending),
        "not_handed_in_list": missing,
        "pending_list": pending,
        "grader_errors": faulty,
        "unmatched": [{"relpath": u.relpath, "reason": {"ja": u.reason.ja, "en": u.reason.en},
                       "student_key": u.student.key if u.student else None} for u in unmatched],
        "exercises": [_exercise_summary(ex, rows, lang) for ex in exercises],
    }
    if discovery.layout in ("moodle", "canvas"):
        summary["without_lms_id"] = [row.student.key for row in rows
                                     if row.student.lms != discovery.layout or not is_lms_id(row.student.lms_id)]
    return _ints(summary)


def summarize(discovery: Discovery, graded: list[tuple[Item, GradeResult]], exercises: list[Exercise],
              lang: Lang) -> dict[str, Any]:
    """The class summary as plain JSON data (``summary.json``); failure messages in ``lang``.

    Keys: ``layout``, ``lang``, ``students``, ``submissions_graded``, ``not_handed_in``,
    ``pending`` (handed in, not graded: the batch was interrupted), their lists
    (``{student_key, name, exercise}``), ``grader_errors`` (the same for results with a check the
    grader itself failed on: to regrade with ``--force``), ``unmatched`` (``{relpath, reason: {ja, en},
    student_key}``), for an LMS export ``without_lms_id`` (keys left out of the LMS files), and
    ``exercises``: per exercise ``id``, ``title``, ``max_score``, ``handed_in``, ``graded``,
    ``pending``, ``not_handed_in``, ``all_passed``, ``mean`` (None if nothing was graded),
    ``distribution`` (``{score, count}``, best first) and ``checks``: per check ``id``, ``title``,
    ``graded``, ``failed`` (the student's fault), ``errors`` (the grader's) and ``top_failures``
    (``{message, count}``, normalised, at most ``TOP``, most common first, ties by text).
    """
    return summary_from_roster(build_roster(discovery, graded, exercises), discovery, exercises, lang)


_T = {
    "head": Msg("採点のまとめ（{layout}）", "Batch summary ({layout})"),
    "students": Msg("学生", "students"),
    "graded": Msg("採点した提出", "submissions graded"),
    "missing": Msg("未提出", "not handed in"),
    "pending": Msg("未採点（中断）", "not graded yet (interrupted)"),
    "faulty": Msg("採点器のエラーがあった提出（--force で採点し直してください）",
                  "submissions the grader failed on (grade them again with --force)"),
    "unmatched": Msg("課題に対応づけられなかったファイル", "files not matched to an exercise"),
    "no_lms": Msg("LMS の ID がなく LMS 用ファイルから除いた学生", "students without an LMS id, left out of the LMS files"),
    "exercise": Msg("{graded} 件採点, 平均 {mean}/{max}, 全チェック合格 {passed} 件",
                    "{graded} graded, mean {mean}/{max}, all checks passed {passed}"),
    "nothing": Msg("採点した提出はありません", "nothing graded"),
    "scores": Msg("得点分布", "scores"),
    "checks": Msg("チェックごとの不合格（来週もう一度説明すること）", "Failed checks (what to explain again next week)"),
    "failed": Msg("{failed}/{graded} 不合格", "{failed}/{graded} failed"),
    "errors": Msg("採点器のエラー {n} 件", "grader errors: {n}"),
    "moodle": Msg(
        "Moodle: 課題の評定画面の \"Upload grading worksheet\" で moodle_grading_worksheet.csv を取り込んでください（Moodle の表示言語を英語にして取り込むこと。列名は表示言語で照合されます）。",
        "Moodle: upload moodle_grading_worksheet.csv with the assignment's \"Upload grading worksheet\" (with Moodle's language set to English: it matches column names in the interface language).",
    ),
    "canvas": Msg(
        "Canvas: 成績表の「インポート」で canvas_gradebook.csv を取り込み、列を既存の課題に対応づけてください。",
        "Canvas: import canvas_gradebook.csv in the Gradebook (Import), and map its columns onto the existing assignments.",
    ),
}


def _clean(s: str) -> str:
    return visible(one_line(s, 300))


def format_summary(summary: dict[str, Any], lang: Lang) -> str:
    """The text of a ``summarize`` result, in ``lang`` (ends in a newline)."""
    t = {k: m(lang) for k, m in _T.items()}
    lines = [t["head"].format(layout=summary["layout"]), ""]
    lines.append(f"{t['students']}: {summary['students']}")
    lines.append(f"{t['graded']}: {summary['submissions_graded']}")
    lines.append(f"{t['missing']}: {summary['not_handed_in']}")
    lines += [f"  - {w['student_key']} {_clean(w['name'])}: {w['exercise']}" for w in summary["not_handed_in_list"]]
    if summary["pending"]:
        lines.append(f"{t['pending']}: {summary['pending']}")
        lines += [f"  - {w['student_key']} {_clean(w['name'])}: {w['exercise']}" for w in summary["pending_list"]]
    if summary["grader_errors"]:
        lines.append(f"{t['faulty']}: {len(summary['grader_errors'])}")
        lines += [f"  - {w['student_key']} {_clean(w['name'])}: {w['exercise']}" for w in summary["grader_errors"]]
    lines.append(f"{t['unmatched']}: {len(summary['unmatched'])}")
    lines += [f"  - {_clean(u['relpath'])}: {_clean(u['reason'][lang])}" for u in summary["unmatched"]]
    if summary.get("without_lms_id"):
        lines.append(f"{t['no_lms']}: {', '.join(summary['without_lms_id'])}")
    for ex in summary["exercises"]:
        lines += ["", f"== {ex['id']} — {_clean(ex['title'][lang])} =="]
        if not ex["graded"]:
            lines.append(f"  {t['nothing']}")
            continue
        lines.append("  " + t["exercise"].format(graded=ex["graded"], mean=number(ex["mean"]),
                                                  max=number(ex["max_score"]), passed=ex["all_passed"]))
        spread = ", ".join(f"{number(d['score'])}/{number(ex['max_score'])} ×{d['count']}" for d in ex["distribution"])
        lines.append(f"  {t['scores']}: {spread}")
        lines.append(f"  {t['checks']}:")
        width = max(len(c["id"]) for c in ex["checks"]) if ex["checks"] else 0
        for c in ex["checks"]:
            line = f"    {c['id']:<{width}}  {t['failed'].format(failed=c['failed'], graded=c['graded'])}"
            if c["errors"]:
                line += f"  ({t['errors'].format(n=c['errors'])})"
            lines.append(line)
            lines += [f"      ×{f['count']} {_clean(f['message'])}" for f in c["top_failures"]]
    hint = {"moodle": t["moodle"], "canvas": t["canvas"]}.get(summary["layout"])
    if hint:
        lines += ["", hint]
    return "\n".join(lines) + "\n"


def render_summary(discovery: Discovery, graded: list[tuple[Item, GradeResult]], exercises: list[Exercise],
                   lang: Lang) -> str:
    """The class summary as text in ``lang``: what ``grade batch`` prints and saves as ``summary.txt``."""
    return format_summary(summarize(discovery, graded, exercises, lang), lang)

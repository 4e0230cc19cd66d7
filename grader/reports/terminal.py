"""The report a student reads in their terminal, in Japanese or English, with or without colour."""
from __future__ import annotations

import unicodedata
from grader.model import LANGS, GradeResult, Lang
from grader.reports.text import visible

__all__ = ["render_terminal", "pick_lang"]

_LABELS: dict[str, dict[str, str]] = {
    "ja": {
        "file": "ファイル",
        "total": "合計",
        "failures": "不合格の理由",
        "notes": "お知らせ",
        "all_passed": "すべてのチェックに合格しました。",
        "failed": "不合格",
    },
    "en": {
        "file": "file",
        "total": "total",
        "failures": "Why checks failed",
        "notes": "Notes",
        "all_passed": "All checks passed.",
        "failed": "failed",
    },
}

_RESET, _BOLD, _RED, _GREEN, _YELLOW = "\x1b[0m", "\x1b[1m", "\x1b[31m", "\x1b[32m", "\x1b[33m"


def _clean(s: str) -> str:
    """Untrusted text made harmless for a terminal: no escape sequences, controls made visible,
    one line."""
    return visible(s)


def _width(s: str) -> int:
    """Columns ``s`` takes in a terminal (East Asian wide and full-width characters count 2)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _pad(s: str, width: int) -> str:
    return s + " " * max(0, width - _width(s))


def _points(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _paint(s: str, code: str, color: bool) -> str:
    return f"{code}{s}{_RESET}" if color else s


def render_terminal(result: GradeResult, lang: Lang, color: bool) -> str:
    """The student's report as text ending in a newline.

    A header (exercise title and id, the file), one line per check (``✓``/``✗``, id, title,
    points such as ``2/2``), the total, then each failure explained (``Failure.text``, indented),
    then the notes. ANSI colours only when ``color`` is true; labels in Japanese when ``lang``
    is ``"ja"``.
    """
    labels = _LABELS["ja" if lang == "ja" else "en"]
    lines = [
        _paint(f"{_clean(result.exercise_title(lang))} [{result.exercise}]", _BOLD, color),
        f"{labels['file']}: {_clean(result.submission)}",
        "",
    ]
    id_width = max((_width(c.id) for c in result.checks), default=0)
    titles = [_clean(c.title(lang)) for c in result.checks]
    title_width = max((_width(t) for t in titles), default=0)
    for check, title in zip(result.checks, titles):
        mark = _paint("✓", _GREEN, color) if check.passed else _paint("✗", _RED, color)
        points = f"{_points(check.points)}/{_points(check.max_points)}"
        lines.append(f"  {mark} {_pad(check.id, id_width)}  {_pad(title, title_width)}  {points}".rstrip())
    total = f"{labels['total']}: {_points(result.score)}/{_points(result.max_score)}"
    lines += ["", _paint(total, _BOLD, color)]
    failed = [c for c in result.checks if not c.passed]
    if failed:
        lines += ["", _paint(labels["failures"], _BOLD, color)]
        for check in failed:
            text = check.failure.text(lang, visible) if check.failure is not None else labels["failed"]
            first, *rest = text.split("\n") or [""]
            lines.append(f"{_paint('✗', _RED, color)} {check.id}: {first}")
            lines.extend(f"    {line}" if line else "" for line in rest)
    else:
        lines += ["", _paint(labels["all_passed"], _GREEN, color)]
    if result.notes:
        lines += ["", _paint(labels["notes"], _YELLOW, color)]
        lines.extend(f"  - {_clean(note.msg(lang))}" for note in result.notes)  # a note: one line of ours
    return "\n".join(lines) + "\n"


def pick_lang(explicit: str | None, course_lang: str | None = None) -> Lang:
    """The report language: ``explicit`` (``"ja"`` or ``"en"``, from ``--lang``) if given, else the
    course's language: ``course_lang``, or when that is None the ``language`` of the course's
    ``course.yaml`` (Japanese for this course).

    The locale (``LANG``, ``LC_ALL``) plays no part: a student on an English-language machine still
    gets the course's language unless they ask for another. A course language other than ``ja`` or
    ``en`` gives English. An explicit value other than ``ja``/``en`` is a ValueError.
    """
    if explicit:
        if explicit not in LANGS:
            raise ValueError(f"unknown language {explicit!r} (expected one of {', '.join(LANGS)})")
        return explicit  # type: ignore[return-value]
    if course_lang is None:
        from ..exercises.catalog import course  # reads course.yaml once (cached)
        course_lang = course().language
    language = str(course_lang).strip().lower().replace("_", "-")
    return "ja" if language == "ja" or language.startswith("ja-") else "en"

"""Pictures for the HTML report, as inline SVG text: a failure's timeline and the batch's charts.

Pure string functions: a ``Timeline`` (built in ``grader.verdicts.analysis.timeline``) in, SVG out,
the same bytes for the same input. No fonts are fetched and nothing is measured by a browser, so
text widths are estimated (a wide East Asian character as one em, anything else as 0.6 em, a
little more than common fonts need) and every column is made wide enough for its longest label:
nothing is clipped, in Japanese or English.

The drawing reads top to bottom, in schedule order: one narrow column ("lane") per thread with its
marks, bars and arrows, and on the right what happened at each row, in words. Nothing is written
inside the lanes, so arrows cross no text, and two to four lanes fit a phone's width. Meaning never rests on colour alone:
reads are hollow circles, writes filled squares, a lost write a diamond with a ring, waits are
hatched bars, and every highlighted mark also carries a line of text. Colours are from the
Okabe–Ito palette, which stays distinct under the common colour-vision deficiencies.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Sequence

from grader.model import Lang, Msg, Timeline, TimelineMark, TimelineSpan
from grader.reports.text import html_text as _esc

__all__ = ["render_timeline_svg", "timeline_steps", "describe_timeline", "legend", "histogram_svg", "hbars_svg", "text_width",
           "FONT_STACK"]

FONT_STACK = ("system-ui, -apple-system, 'Segoe UI', 'Hiragino Sans', 'Hiragino Kaku Gothic ProN', "
              "'Yu Gothic UI', 'Yu Gothic', Meiryo, 'Noto Sans CJK JP', 'Noto Sans JP', sans-serif")

# Okabe–Ito colours, and darker shades of them where text must reach a 4.5:1 contrast on white.
BLUE, SKY, GREEN, ORANGE, VERMILLION, PURPLE = "#0072B2", "#56B4E9", "#009E73", "#E69F00", "#D55E00", "#CC79A7"
TEXT, MUTED, LOST_TEXT, WAIT_DARK, GRID = "#1A1A1A", "#555555", "#A33A00", "#8A5A00", "#E4E4E4"

LABEL, SMALL, HEAD = 13, 11, 11
"""Font sizes (px) of what happened, line numbers and lane names."""
PAD = 10
MIN_LANE, MAX_LANE = 56, 116
"""Width of a thread's column: room for its name on up to three lines, and for bars side by side."""
LOG_MIN, LOG_MAX = 170, 340
"""Width of the column that says what happened at each row (longer texts wrap, never clipped)."""
GAP = 12
NUMBER_W = 24
"""Width of the row numbers that replace the words in the narrow picture."""
LINE_H = 16
COUNT_NUM = 16
"""Width kept for the number in the count column (right-aligned)."""


def text_width(text: str, size: float, bold: bool = False) -> float:
    """An upper estimate of the width in px of ``text`` at ``size`` px in a common sans-serif font."""
    em = 0.0
    for ch in text:
        if unicodedata.east_asian_width(ch) in "WF":
            em += 1.0
        elif ch == " ":
            em += 0.32
        elif unicodedata.combining(ch):
            continue
        else:
            em += 0.62
    return em * size * (1.06 if bold else 1.0)


def _num(x: float) -> str:
    """A coordinate: at most one decimal, no ``-0``, the same text for the same number."""
    s = f"{x:.1f}"
    if s.endswith(".0"):
        s = s[:-2]
    return "0" if s in ("-0", "") else s


def _seconds(t: float, lang: Lang) -> str:
    s = f"{t:.2f}".rstrip("0").rstrip(".")
    return f"{s}秒" if lang == "ja" else f"{s} s"


def _wrap(text: str, width: float, size: float, lines: int = 3) -> list[str]:
    """``text`` broken into at most ``lines`` lines of at most ``width`` px (the last ends in … if cut)."""
    words = text.split(" ")
    out: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if text_width(candidate, size) <= width:
            current = candidate
            continue
        if current:
            out.append(current)
        current = ""
        for ch in word:  # a word too long for a line is broken between characters
            if text_width(current + ch, size) > width and current:
                out.append(current)
                current = ""
            current += ch
    if current:
        out.append(current)
    if len(out) > lines:
        last = out[lines - 1]
        while last and text_width(last + "…", size) > width:
            last = last[:-1]
        out = out[: lines - 1] + [last + "…"]
    return out or [""]


# --------------------------------------------------------------------------------- timeline


@dataclass
class _Layout:
    lane_x: list[float]
    """The x of each lane's line (the centre of its column)."""
    lane_w: list[float]
    header: list[list[str]]
    log_x: float
    """Left edge of the column where each row says what happened."""
    log_w: float
    rows: list[list[list[tuple[str, int, str, str]]]]
    """Per row, its text lines; a line is segments ``(text, size, fill, weight)``."""
    row_y: list[float]
    """Where each row's marks sit."""
    top: float
    bottom: float
    width: float
    height: float
    time_x: float | None
    count_x: float | None
    count_unit: float


def _n_rows(tl: Timeline) -> int:
    """How many moments the picture has: up to the last mark or bar of a lane that exists."""
    lanes = len(tl.lanes)
    ats = [m.at for m in tl.marks if 0 <= m.lane < lanes]
    ats += [x for sp in tl.spans if 0 <= sp.lane < lanes for x in (sp.start, sp.end)]
    return 1 + max([a for a in ats if a >= 0] + [0])


def _tags(tl: Timeline) -> list[str]:
    """A short name per lane for the start of its lines: the first word of the thread's name when
    that is enough to tell the lanes apart (``Thread-11`` for ``Thread-11 (counter)``)."""
    firsts = [name.split(" ")[0] if name else "?" for name in tl.lanes]
    return [f if firsts.count(f) == 1 and len(f) <= 20 else name for f, name in zip(firsts, tl.lanes)]


def _row_lines(marks: Sequence[TimelineMark], tags: list[str], lang: Lang, width: float | None
               ) -> list[list[tuple[str, int, str, str]]]:
    """The text of one row: per mark, ``<thread> <what>``, then the line number (and a plain
    note) in grey, then an emphasised note. Wrapped to ``width`` px (None: not wrapped)."""
    lines: list[list[tuple[str, int, str, str]]] = []

    def wrapped(text: str, size: int, bold: bool) -> list[str]:
        if width is None:
            return [text]
        return _wrap(text, width / (1.06 if bold else 1.0), size, 8)

    for m in marks:
        tag = tags[m.lane] if 0 <= m.lane < len(tags) else "?"
        label = m.label(lang)
        colour, weight = (LOST_TEXT, "bold") if m.lost else (TEXT, "normal")
        first = True
        for piece in wrapped(f"{tag} {label}", LABEL, m.lost):
            if first and piece.startswith(tag + " "):
                lines.append([(tag, LABEL, MUTED, "bold"), (piece[len(tag):], LABEL, colour, weight)])
            else:
                lines.append([(piece, LABEL, colour, weight)])
            first = False
        small = []
        if m.line:
            small.append(f"{m.line}行目" if lang == "ja" else f"line {m.line}")
        note = m.note(lang) if m.note is not None else ""
        if note and not m.lost:
            small.append(note)
        if small:
            lines.extend([(piece, SMALL, MUTED, "normal")] for piece in wrapped(" · ".join(small), SMALL, False))
        if note and m.lost:
            lines.extend([(piece, SMALL + 1, LOST_TEXT, "bold")] for piece in wrapped(note, SMALL + 1, True))
    return lines


def _line_width(line: list[tuple[str, int, str, str]]) -> float:
    return sum(text_width(t, size, weight == "bold") for t, size, _, weight in line)


def _layout(tl: Timeline, lang: Lang, words: bool = True) -> _Layout:
    n_lanes = max(1, len(tl.lanes))
    n_rows = _n_rows(tl)
    by_row: list[list[TimelineMark]] = [[] for _ in range(n_rows)]
    for m in sorted(tl.marks, key=lambda m: (m.at, m.lane)):
        if 0 <= m.at < n_rows and 0 <= m.lane < n_lanes:
            by_row[m.at].append(m)
    tags = _tags(tl)
    if words:
        natural = max([_line_width(line) for row in by_row for line in _row_lines(row, tags, lang, None)] + [0])
        log_w = max(LOG_MIN, min(LOG_MAX, natural + 4))
        rows = [_row_lines(row, tags, lang, log_w) for row in by_row]
    else:  # only the row's number: the page lists the steps under the picture
        log_w = NUMBER_W
        rows = [[[(str(r + 1), SMALL, TEXT, "bold")]] for r in range(n_rows)]
    lane_w, header = [], []
    for name in (tl.lanes or ("",)):
        words = max([text_width(w, HEAD, True) for w in name.split(" ")] + [0])
        w = max(MIN_LANE, min(MAX_LANE, words + 10))
        lane_w.append(w)
        header.append(_wrap(name, w - 6, HEAD * 1.06, 3))
    x = PAD
    time_x = count_x = None
    if tl.times:
        time_x = x
        x += max(text_width("時刻" if lang == "ja" else "time", HEAD),
                 max(text_width(_seconds(t, lang), SMALL) for t in tl.times)) + 10
    unit = 8.0
    if tl.counts or tl.limit:
        count_x = x
        top_n = max([n for _, n in tl.counts] + [tl.limit or 0, 1])
        unit = min(8.0, 48.0 / top_n)
        x += max([COUNT_NUM + 4 + unit * top_n + 6] + [text_width(h, HEAD) for h in _count_heads(tl, lang)]) + 12
    lane_x = []
    for w in lane_w:
        lane_x.append(x + w / 2)
        x += w
    log_x = x + (GAP if words else 6)
    head_lines = max([len(h) for h in header] + [len(_count_heads(tl, lang)) if count_x is not None else 1])
    top = PAD + head_lines * (HEAD + 3) + 12
    row_y, y = [], top
    for lines in rows:
        row_y.append(y + 11)
        y += max(26.0, len(lines) * LINE_H + 10)
    bottom = y
    tail = 24 if any(s.open_end for s in tl.spans) else 6
    return _Layout(lane_x, lane_w, header, log_x, log_w, rows, row_y, top, bottom, log_x + log_w + PAD,
                   bottom + tail, time_x, count_x, unit)


def _count_heads(tl: Timeline, lang: Lang) -> list[str]:
    heads = ["中の数" if lang == "ja" else "inside"]
    if tl.limit:
        heads.append(f"上限 {tl.limit}" if lang == "ja" else f"limit {tl.limit}")
    return heads


def _slots(spans: Sequence[TimelineSpan]) -> dict[int, int]:
    """A side-by-side position for each span of one lane, so that overlapping bars do not hide each other."""
    taken: list[list[tuple[int, int]]] = []
    out: dict[int, int] = {}
    for k, s in sorted(enumerate(spans), key=lambda p: (p[1].start, p[1].end, p[0])):
        for slot, used in enumerate(taken):
            if all(s.start > b or s.end < a for a, b in used):
                used.append((s.start, s.end))
                out[k] = slot
                break
        else:
            taken.append([(s.start, s.end)])
            out[k] = len(taken) - 1
    return out


_SPAN_STYLE = {
    "hold": (10, f'fill="{SKY}" stroke="{BLUE}"'),
    "wait": (10, f'fill="url(#{{id}}-hatch)" stroke="{WAIT_DARK}"'),
    "run": (6, 'fill="#D6D6D6" stroke="#8C8C8C"'),
    "sleep": (4, 'fill="#FFFFFF" stroke="#8C8C8C" stroke-dasharray="2 2"'),
    "inside": (8, f'fill="{PURPLE}" fill-opacity="0.35" stroke="{PURPLE}"'),
}


def _shape(m: TimelineMark, x: float, y: float) -> str:
    """The mark's symbol at (x, y): its shape tells its kind, colour only repeats it."""
    colour = VERMILLION if m.lost else BLUE
    k = m.kind
    parts = []
    if m.lost:
        parts.append(f'<circle cx="{_num(x)}" cy="{_num(y)}" r="11" fill="#FFFFFF" stroke="{VERMILLION}" stroke-width="2.5"/>')
    if k == "read" or k == "check":
        parts.append(f'<circle cx="{_num(x)}" cy="{_num(y)}" r="5.5" fill="#FFFFFF" stroke="{colour}" stroke-width="2.5"/>')
    elif k == "write":
        if m.lost:
            parts.append(f'<path d="M{_num(x)} {_num(y - 7)}L{_num(x + 7)} {_num(y)}L{_num(x)} {_num(y + 7)}'
                         f'L{_num(x - 7)} {_num(y)}Z" fill="{VERMILLION}"/>')
        else:
            parts.append(f'<rect x="{_num(x - 5.5)}" y="{_num(y - 5.5)}" width="11" height="11" fill="{colour}"/>')
    elif k == "acquire":
        c = VERMILLION if m.lost else GREEN
        parts.append(f'<path d="M{_num(x - 6)} {_num(y - 6)}L{_num(x + 6)} {_num(y - 6)}L{_num(x)} {_num(y + 5)}Z" fill="{c}"/>')
    elif k == "release":
        c = VERMILLION if m.lost else GREEN
        parts.append(f'<path d="M{_num(x - 6)} {_num(y + 6)}L{_num(x + 6)} {_num(y + 6)}L{_num(x)} {_num(y - 5)}Z" '
                     f'fill="#FFFFFF" stroke="{c}" stroke-width="2"/>')
    elif k == "wait":
        c = VERMILLION if m.lost else WAIT_DARK
        parts.append(f'<rect x="{_num(x - 6)}" y="{_num(y - 6)}" width="12" height="12" rx="2" fill="#FFFFFF" '
                     f'stroke="{c}" stroke-width="2"/><path d="M{_num(x - 2)} {_num(y - 3)}V{_num(y + 3)}'
                     f'M{_num(x + 2)} {_num(y - 3)}V{_num(y + 3)}" stroke="{c}" stroke-width="2"/>')
    elif k == "print":
        c = VERMILLION if m.lost else TEXT
        parts.append(f'<rect x="{_num(x - 7)}" y="{_num(y - 5)}" width="14" height="10" fill="#FFFFFF" stroke="{c}" '
                     f'stroke-width="2"/><path d="M{_num(x - 4)} {_num(y)}H{_num(x + 1)}" stroke="{c}" stroke-width="1.5"/>')
    elif k == "start":
        parts.append(f'<path d="M{_num(x - 5)} {_num(y - 6)}L{_num(x + 6)} {_num(y)}L{_num(x - 5)} {_num(y + 6)}Z" fill="{MUTED}"/>')
    elif k == "end":
        parts.append(f'<rect x="{_num(x - 7)}" y="{_num(y - 1.5)}" width="14" height="3" fill="{MUTED}"/>')
    else:
        parts.append(f'<circle cx="{_num(x)}" cy="{_num(y)}" r="4" fill="{colour}"/>')
    return "".join(parts)


def render_timeline_svg(tl: Timeline, lang: Lang, ident: str = "tl", style: str | None = None,
                        words: bool = True) -> str:
    """The timeline as one ``<svg>`` element (a complete XML document on its own).

    Left to right: the virtual time, the count of threads inside (when the timeline has counts),
    one narrow column per thread with its marks, bars and arrows, then what happened at each row
    in words. ``ident`` prefixes the element ids (the title, the description, patterns,
    arrowheads): give each picture of a page its own. The picture is labelled for screen readers
    by its caption (``<title>``) and a step-by-step description (``<desc>``, the text of
    ``describe_timeline``). ``style`` is put on the root element as is (the page's sizing rules).

    ``words=False`` draws the narrow picture for phones: each row is numbered instead of
    described, and the page gives the same rows as a list (``timeline_steps``) under it.
    """
    ident = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "-" for ch in ident) or "tl"
    lay = _layout(tl, lang, words)
    lanes = len(tl.lanes)
    w, h = lay.width, lay.height
    styled = f' style="{_esc(style)}"' if style else ""
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline"{styled} width="{_num(w)}" height="{_num(h)}" '
        f'viewBox="0 0 {_num(w)} {_num(h)}" role="img" aria-labelledby="{ident}-title {ident}-desc" '
        f'font-family="{_esc(FONT_STACK)}" data-kind="{_esc(tl.kind)}" data-lanes="{lanes}" '
        f'data-words="{"yes" if words else "no"}">',
        f'<title id="{ident}-title">{_esc(tl.caption(lang))}</title>',
        f'<desc id="{ident}-desc">{_esc(" / ".join(describe_timeline(tl, lang)))}</desc>',
        f'<defs><pattern id="{ident}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="6" height="6" fill="#FFF1D0"/>'
        f'<rect width="3" height="6" fill="{ORANGE}"/></pattern>'
        + "".join(f'<marker id="{ident}-arrow-{kind}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
                  f'markerHeight="7" orient="auto-start-reverse"><path d="M0 0L10 5L0 10Z" fill="{colour}"/></marker>'
                  for kind, colour in (("overwrites", VERMILLION), ("waits", WAIT_DARK)))
        + "</defs>",
        f'<rect width="{_num(w)}" height="{_num(h)}" fill="#FFFFFF"/>',
    ]
    # a faint line along each row, from the lanes to its words, and a strong one where a result
    # was printed too early
    for r, y in enumerate(lay.row_y):
        early = any(m.kind == "print" and m.lost and m.at == r for m in tl.marks)
        stroke = f'stroke="{VERMILLION}" stroke-width="1.5" stroke-dasharray="6 4"' if early \
            else f'stroke="{GRID}" stroke-width="1"'
        out.append(f'<path d="M{_num(PAD)} {_num(y)}H{_num(lay.log_x - 4)}" {stroke}/>')
    # headers
    head_y = PAD + HEAD
    if lay.time_x is not None:
        out.append(f'<text x="{_num(lay.time_x)}" y="{_num(head_y)}" font-size="{HEAD}" fill="{MUTED}">'
                   f'{_esc("時刻" if lang == "ja" else "time")}</text>')
    if lay.count_x is not None:
        for k, line in enumerate(_count_heads(tl, lang)):
            out.append(f'<text x="{_num(lay.count_x)}" y="{_num(head_y + k * (HEAD + 3))}" font-size="{HEAD}" '
                       f'fill="{MUTED if k == 0 else TEXT}">{_esc(line)}</text>')
    for lane in range(lanes):
        x, lines, full = lay.lane_x[lane], lay.header[lane], tl.lanes[lane]
        title = f"<title>{_esc(full)}</title>" if " ".join(lines) != full else ""
        tspans = "".join(f'<tspan x="{_num(x)}" dy="{0 if k == 0 else HEAD + 3}">{_esc(line)}</tspan>'
                         for k, line in enumerate(lines))
        out.append(f'<text class="lane-name" x="{_num(x)}" y="{_num(head_y)}" font-size="{HEAD}" font-weight="bold" '
                   f'text-anchor="middle" fill="{TEXT}">{title}{tspans}</text>')
        out.append(f'<path d="M{_num(x)} {_num(lay.top - 6)}V{_num(lay.bottom)}" stroke="#9A9A9A" stroke-width="1.5"/>')
    if words:
        out.append(f'<text x="{_num(lay.log_x)}" y="{_num(head_y)}" font-size="{HEAD}" fill="{MUTED}">'
                   f'{_esc("起きたこと" if lang == "ja" else "what happened")}</text>')
    # the time column: the virtual clock where it moved
    if lay.time_x is not None:
        last = None
        for r, y in enumerate(lay.row_y):
            t = tl.times[r] if r < len(tl.times) else None
            if t is not None and t != last:
                out.append(f'<text x="{_num(lay.time_x)}" y="{_num(y + 4)}" font-size="{SMALL}" fill="{MUTED}">'
                           f'{_esc(_seconds(t, lang))}</text>')
                last = t
    # the count column: how many threads were inside, row by row, and the limit
    if lay.count_x is not None:
        levels = _count_levels(tl, len(lay.row_y))
        for r, y in enumerate(lay.row_y):
            n = levels[r]
            over = tl.limit is not None and n > tl.limit
            out.append(f'<text x="{_num(lay.count_x + COUNT_NUM)}" y="{_num(y + 4)}" font-size="{SMALL}" text-anchor="end" '
                       f'font-weight="{"bold" if over else "normal"}" fill="{LOST_TEXT if over else TEXT}">{n}</text>')
            if n:
                out.append(f'<rect x="{_num(lay.count_x + COUNT_NUM + 4)}" y="{_num(y - 6)}" '
                           f'width="{_num(n * lay.count_unit)}" height="12" fill="{VERMILLION if over else GREEN}"/>')
        if tl.limit:
            lx = lay.count_x + COUNT_NUM + 4 + tl.limit * lay.count_unit
            out.append(f'<path d="M{_num(lx)} {_num(lay.top - 4)}V{_num(lay.bottom)}" stroke="{TEXT}" '
                       f'stroke-width="1.5" stroke-dasharray="4 3"/>')
    # bars: holds, waits, lives
    by_lane: dict[int, list[TimelineSpan]] = {}
    for s in tl.spans:
        if 0 <= s.lane < lanes:
            by_lane.setdefault(s.lane, []).append(s)
    for lane, spans in sorted(by_lane.items()):
        slots = _slots(spans)
        for k, s in enumerate(spans):
            width, style_ = _SPAN_STYLE.get(s.kind, (8, f'fill="{PURPLE}" stroke="{PURPLE}"'))
            style_ = style_.replace("{id}", ident)
            slot = slots[k]  # 0 on the lane line, then left, right, further left...
            cx = lay.lane_x[lane] + (0 if slot == 0 else -13 * ((slot + 1) // 2) if slot % 2 else 13 * (slot // 2))
            y1 = lay.top - 4 if s.open_start else _row(lay, s.start)
            y2 = lay.height - 6 if s.open_end else _row(lay, s.end)
            if y2 - y1 < 6:
                y2 = y1 + 6
            out.append(f'<rect class="span span-{_esc(s.kind)}" data-lane="{lane}" x="{_num(cx - width / 2)}" '
                       f'y="{_num(y1)}" width="{width}" height="{_num(y2 - y1)}" rx="2" {style_} stroke-width="1">'
                       f'<title>{_esc(tl.lanes[lane])}: {_esc(s.label(lang))}</title></rect>')
            if s.open_end:  # the bar goes on after the picture
                out.append(f'<path d="M{_num(cx)} {_num(y2)}v6m0 3v3" stroke="{MUTED}" stroke-width="2"/>')
            if s.open_start:  # it began before
                out.append(f'<path d="M{_num(cx)} {_num(y1)}v-3m0-3v-2" stroke="{MUTED}" stroke-width="2"/>')
    # arrows, under the marks
    for link in tl.links:
        if not (0 <= link.src < len(tl.marks) and 0 <= link.dst < len(tl.marks)):
            continue
        a, b = tl.marks[link.src], tl.marks[link.dst]
        if not (0 <= a.lane < lanes and 0 <= b.lane < lanes):
            continue
        x1, y1 = lay.lane_x[a.lane], _row(lay, a.at)
        x2, y2 = lay.lane_x[b.lane], _row(lay, b.at)
        kind = "overwrites" if link.kind == "overwrites" else "waits"
        colour = VERMILLION if kind == "overwrites" else WAIT_DARK
        dash = ' stroke-dasharray="6 3"' if kind == "overwrites" else ""
        if a.lane == b.lane:  # a loop on the lane's left side
            bend = x1 - min(26.0, lay.lane_w[a.lane] / 2 - 2)
            d = f"M{_num(x1 - 9)} {_num(y1)}C{_num(bend)} {_num(y1)} {_num(bend)} {_num(y2)} {_num(x2 - 12)} {_num(y2)}"
        else:  # nothing is written inside the lanes, so a straight arrow crosses no text
            dx, dy = x2 - x1, y2 - y1
            length = max((dx * dx + dy * dy) ** 0.5, 1.0)
            d = (f"M{_num(x1 + dx / length * 10)} {_num(y1 + dy / length * 10)}"
                 f"L{_num(x2 - dx / length * 13)} {_num(y2 - dy / length * 13)}")
        out.append(f'<path class="link link-{_esc(link.kind)}" d="{d}" fill="none" stroke="{colour}" stroke-width="2"'
                   f'{dash} marker-end="url(#{ident}-arrow-{kind})"><title>{_esc(link.label(lang))}</title></path>')
    # marks
    for m in tl.marks:
        if not 0 <= m.lane < lanes:
            continue
        attrs = f' data-key="{_esc(m.key)}"' if m.key is not None else ""
        attrs += f' data-value="{_esc(m.value)}"' if m.value is not None else ""
        attrs += f' data-line="{m.line}"' if m.line else ""
        out.append(f'<g class="mark mark-{_esc(m.kind)}{" lost" if m.lost else ""}" data-lane="{m.lane}" '
                   f'data-at="{m.at}"{attrs}>{_shape(m, lay.lane_x[m.lane], _row(lay, m.at))}'
                   f'<title>{_esc(tl.lanes[m.lane])}: {_esc(m.label(lang))}</title></g>')
    # what happened, row by row (or just its number, the page saying the rest)
    if not words:
        for r, y in enumerate(lay.row_y):
            lost = any(m.lost and m.at == r for m in tl.marks)
            out.append(f'<circle cx="{_num(lay.log_x + 10)}" cy="{_num(y)}" r="9" fill="{VERMILLION if lost else "#FFFFFF"}" '
                       f'stroke="{VERMILLION if lost else MUTED}" stroke-width="1.5"/>'
                       f'<text class="what" data-at="{r}" x="{_num(lay.log_x + 10)}" y="{_num(y + 4)}" font-size="{SMALL}" '
                       f'font-weight="bold" text-anchor="middle" fill="{"#FFFFFF" if lost else TEXT}">{r + 1}</text>')
        out.append("</svg>")
        return "".join(out)
    for r, lines in enumerate(lay.rows):
        y = lay.row_y[r] + 4.5
        for k, line in enumerate(lines):
            spans = "".join(f'<tspan font-size="{size}" font-weight="{weight}" fill="{fill}">{_esc(text)}</tspan>'
                            for text, size, fill, weight in line)
            out.append(f'<text class="what" data-at="{r}" x="{_num(lay.log_x)}" y="{_num(y + k * LINE_H)}" '
                       f'font-size="{LABEL}" fill="{TEXT}">{spans}</text>')
    out.append("</svg>")
    return "".join(out)


def timeline_steps(tl: Timeline, lang: Lang) -> list[list[tuple[str, bool]]]:
    """The rows of the picture as text, for the list under the narrow picture: per row, its
    marks as ``(text, highlighted)``: ``Thread-11 みず = 0 を読む（14行目）``."""
    tags = _tags(tl)
    rows = _n_rows(tl)
    out: list[list[tuple[str, bool]]] = [[] for _ in range(rows)]
    for m in sorted(tl.marks, key=lambda m: (m.at, m.lane)):
        if not (0 <= m.lane < len(tl.lanes) and 0 <= m.at < rows):
            continue
        bits = [f"{m.line}行目" if lang == "ja" else f"line {m.line}"] if m.line else []
        if m.note is not None and m.note(lang):
            bits.append(m.note(lang))
        extra = (f"（{'、'.join(bits)}）" if lang == "ja" else f" ({'; '.join(bits)})") if bits else ""
        out[m.at].append((f"{tags[m.lane]}: {m.label(lang)}{extra}", m.lost))
    return out


_LEGEND_MARKS = (
    ("read", False, Msg("読む", "read")),
    ("write", False, Msg("書く", "write")),
    ("acquire", False, Msg("取得（acquire）", "acquire")),
    ("release", False, Msg("解放（release）", "release")),
    ("wait", False, Msg("待つ", "wait")),
    ("start", False, Msg("スレッドを開始", "start a thread")),
    ("print", False, Msg("表示（print）", "print")),
    ("end", False, Msg("スレッドの終了", "thread ends")),
)
_LEGEND_SPANS = {
    "hold": Msg("Lock / Semaphore を持っている間", "while a Lock / Semaphore is held"),
    "wait": Msg("待っている間", "while waiting"),
    "run": Msg("スレッドが動いている間", "while the thread runs"),
    "sleep": Msg("sleep の間", "while sleeping"),
    "inside": Msg("保護区間の中", "inside the guarded section"),
}


def legend(tl: Timeline, lang: Lang) -> list[tuple[str, str]]:
    """What the symbols of this picture mean: ``(small inline SVG, text)`` for each kind it uses."""
    items: list[tuple[str, str]] = []
    kinds = {m.kind for m in tl.marks}

    def icon(body: str, w: int = 22) -> str:
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="22" viewBox="0 0 {w} 22" '
                f'aria-hidden="true" focusable="false">{body}</svg>')

    for kind, lost, text in _LEGEND_MARKS:
        if kind in kinds:
            items.append((icon(_shape(TimelineMark(0, 0, kind, text, lost=lost), 11, 11)), _esc(text(lang))))
    if any(m.lost for m in tl.marks):
        sample = next(m for m in tl.marks if m.lost)
        shown = Msg("失われた更新", "the lost update") if sample.kind == "write" and tl.kind == "lost_update" \
            else Msg("問題の箇所", "where it goes wrong")
        items.append((icon(_shape(TimelineMark(0, 0, sample.kind, shown, lost=True), 11, 11)), _esc(shown(lang))))
    for kind in sorted({s.kind for s in tl.spans}):
        width, style = _SPAN_STYLE.get(kind, (8, f'fill="{PURPLE}" stroke="{PURPLE}"'))
        style = style.replace("{id}", "legend")
        pattern = ""
        if kind == "wait":
            pattern = (f'<defs><pattern id="legend-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
                       f'patternTransform="rotate(45)"><rect width="6" height="6" fill="#FFF1D0"/>'
                       f'<rect width="3" height="6" fill="{ORANGE}"/></pattern></defs>')
        body = f'{pattern}<rect x="{_num(11 - width / 2)}" y="2" width="{width}" height="18" rx="2" {style} stroke-width="1"/>'
        items.append((icon(body), _esc(_LEGEND_SPANS.get(kind, Msg(kind, kind))(lang))))
    for kind in sorted({k.kind for k in tl.links}):
        colour = VERMILLION if kind == "overwrites" else WAIT_DARK
        dash = ' stroke-dasharray="5 3"' if kind == "overwrites" else ""
        body = (f'<path d="M2 11H22" stroke="{colour}" stroke-width="2"{dash}/>'
                f'<path d="M22 6L30 11L22 16Z" fill="{colour}"/>')
        text = Msg("この書き込みが相手の更新を上書き", "this write overwrites the other update") \
            if kind == "overwrites" else Msg("待っている相手", "whom it waits for")
        items.append((icon(body, 32), _esc(text(lang))))
    if tl.counts or tl.limit:
        body = f'<rect x="2" y="5" width="16" height="12" fill="{GREEN}"/>'
        items.append((icon(body), _esc(Msg("保護区間の中にいるスレッドの数（上限を超えると朱色）",
                                           "threads inside the guarded section (vermillion above the limit)")(lang))))
    return items


def _row(lay: _Layout, at: int) -> float:
    if not lay.row_y:
        return lay.top
    return lay.row_y[max(0, min(at, len(lay.row_y) - 1))]


def _count_levels(tl: Timeline, rows: int) -> list[int]:
    """The count at each row, from ``Timeline.counts`` (a step function: ``(at, n)`` from ``at`` on)."""
    levels = [0] * rows
    steps = sorted(tl.counts)
    for r in range(rows):
        for at, n in steps:
            if at <= r:
                levels[r] = n
    return levels


def _span_phrase(s: TimelineSpan, lang: Lang, where: str) -> str:
    label = s.label(lang)
    if where == "start":
        return f"（図の前から）{label}" if lang == "ja" else f"{label} (from before the picture)"
    return f"（図のあとも続く）{label}" if lang == "ja" else f"{label} (still, after the picture)"


def describe_timeline(tl: Timeline, lang: Lang) -> list[str]:
    """The picture in words, one line per step in schedule order, for screen readers and for anyone
    who would rather read: the threads, what each did, what was held from before and after."""
    lanes = list(tl.lanes)
    sep = "、" if lang == "ja" else ", "
    lines = [("スレッド: " if lang == "ja" else "threads: ") + sep.join(lanes)]
    for s in tl.spans:
        if s.open_start and 0 <= s.lane < len(lanes):
            lines.append(f"{lanes[s.lane]}: {_span_phrase(s, lang, 'start')}")
    levels = _count_levels(tl, 1 + max([m.at for m in tl.marks] + [0])) if tl.counts else []
    last_t = None
    last_n = None
    for m in sorted(tl.marks, key=lambda m: (m.at, m.lane)):
        if not 0 <= m.lane < len(lanes):
            continue
        bits = []
        if m.line:
            bits.append(f"{m.line}行目" if lang == "ja" else f"line {m.line}")
        if m.note is not None and m.note(lang):
            bits.append(m.note(lang))
        extra = ""
        if bits:
            extra = f"（{'、'.join(bits)}）" if lang == "ja" else f" ({'; '.join(bits)})"
        when = ""
        if m.at < len(tl.times) and tl.times[m.at] != last_t:
            last_t = tl.times[m.at]
            when = f"[{_seconds(last_t, lang)}] "
        inside = ""
        if levels and m.at < len(levels) and levels[m.at] != last_n:
            last_n = levels[m.at]
            inside = f"（中に {last_n} スレッド）" if lang == "ja" else f" ({last_n} inside)"
        marker = ("【問題】" if lang == "ja" else "[problem] ") if m.lost else ""
        lines.append(f"{when}{marker}{lanes[m.lane]}: {m.label(lang)}{extra}{inside}")
    for s in tl.spans:
        if s.open_end and 0 <= s.lane < len(lanes):
            lines.append(f"{lanes[s.lane]}: {_span_phrase(s, lang, 'end')}")
    lines.extend(n(lang) for n in tl.notes)
    return lines


# ----------------------------------------------------------------------------------- charts


def histogram_svg(bins: Sequence[tuple[str, int]], title: str, x_label: str, y_label: str,
                  ident: str = "hist") -> str:
    """A column chart: one column per ``(label, count)``, the count written above each column.

    Labelled for screen readers by ``title``; the page gives the same numbers as a table.
    """
    n = max(1, len(bins))
    top = max([c for _, c in bins] + [1])
    col = max(14.0, min(32.0, 330.0 / n))  # about a phone's width; more columns scroll
    label_w = max([text_width(lab, SMALL) for lab, _ in bins] + [0])
    every = 1
    while label_w * 1.15 > col * every:  # show every k-th label so that they do not overlap
        every += 1
    left, chart_h = PAD + 8, 150.0
    width = left + col * n + PAD + 8
    width = max(width, text_width(x_label, SMALL) + 2 * PAD)
    height = PAD + 18 + chart_h + 40
    base = PAD + 18 + chart_h
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{_num(width)}" height="{_num(height)}" '
           f'viewBox="0 0 {_num(width)} {_num(height)}" role="img" aria-labelledby="{ident}-title" '
           f'font-family="{_esc(FONT_STACK)}">',
           f'<title id="{ident}-title">{_esc(title)}</title>',
           f'<rect width="{_num(width)}" height="{_num(height)}" fill="#FFFFFF"/>',
           f'<text x="{_num(left)}" y="{_num(PAD + 8)}" font-size="{SMALL}" fill="{MUTED}">{_esc(y_label)}</text>',
           f'<path d="M{_num(left)} {_num(base)}H{_num(left + col * n)}" stroke="{TEXT}" stroke-width="1"/>']
    for k, (lab, count) in enumerate(bins):
        x = left + k * col
        h = chart_h * count / top
        if count:
            out.append(f'<rect x="{_num(x + 2)}" y="{_num(base - h)}" width="{_num(col - 4)}" height="{_num(h)}" '
                       f'fill="{BLUE}"><title>{_esc(lab)}: {count}</title></rect>')
            out.append(f'<text x="{_num(x + col / 2)}" y="{_num(base - h - 4)}" font-size="{SMALL}" '
                       f'text-anchor="middle" fill="{TEXT}">{count}</text>')
        if k % every == 0 or k == n - 1:
            out.append(f'<text x="{_num(x + col / 2)}" y="{_num(base + 14)}" font-size="{SMALL}" '
                       f'text-anchor="middle" fill="{MUTED}">{_esc(lab)}</text>')
    out.append(f'<text x="{_num(left)}" y="{_num(base + 32)}" font-size="{SMALL}" fill="{MUTED}">{_esc(x_label)}</text>')
    out.append("</svg>")
    return "".join(out)


def hbars_svg(rows: Sequence[tuple[str, int, int]], title: str, ident: str = "bars") -> str:
    """Horizontal bars, one per ``(label, value, total)``: ``value`` of ``total`` (``3/40``).

    Sized for a phone (about 340 px wide) and labelled for screen readers by ``title``.
    """
    label_w = max([text_width(lab, LABEL) for lab, _, _ in rows] + [40])
    counts_w = max([text_width(f"{v}/{t}", LABEL) for _, v, t in rows] + [30])
    bar_w = 150.0
    width = PAD + label_w + 8 + bar_w + 8 + counts_w + PAD
    row_h = 22
    height = PAD * 2 + row_h * max(1, len(rows))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{_num(width)}" height="{_num(height)}" '
           f'viewBox="0 0 {_num(width)} {_num(height)}" role="img" aria-labelledby="{ident}-title" '
           f'font-family="{_esc(FONT_STACK)}">',
           f'<title id="{ident}-title">{_esc(title)}</title>',
           f'<rect width="{_num(width)}" height="{_num(height)}" fill="#FFFFFF"/>']
    x_bar = PAD + label_w + 8
    for k, (lab, value, total) in enumerate(rows):
        y = PAD + k * row_h
        share = value / total if total else 0.0
        out.append(f'<text x="{_num(PAD)}" y="{_num(y + 15)}" font-size="{LABEL}" fill="{TEXT}">{_esc(lab)}</text>')
        out.append(f'<rect x="{_num(x_bar)}" y="{_num(y + 4)}" width="{_num(bar_w)}" height="14" fill="#EEEEEE"/>')
        if value:
            out.append(f'<rect x="{_num(x_bar)}" y="{_num(y + 4)}" width="{_num(max(2.0, bar_w * share))}" height="14" '
                       f'fill="{VERMILLION}"><title>{_esc(lab)}: {value}/{total}</title></rect>')
        out.append(f'<text x="{_num(x_bar + bar_w + 8)}" y="{_num(y + 15)}" font-size="{LABEL}" fill="{TEXT}">'
                   f'{value}/{total}</text>')
    out.append("</svg>")
    return "".join(out)

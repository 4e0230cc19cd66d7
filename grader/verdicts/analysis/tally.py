"""Reading the tally a program printed, and the tally it should have printed."""
from __future__ import annotations

import ast
import re

_QUOTES = "'\""
_MAX_TEXT = 200_000
_EMPTY_REPRS = re.compile(r"\b(?:Counter|OrderedDict)\(\)")
_DICT_START = re.compile(r"^\s*(?:\{|defaultdict\(|Counter\(|OrderedDict\(|dict\()")


def _balanced_end(text: str, start: int, open_: str, close: str) -> int | None:
    """Index just past the bracket matching ``text[start]``, skipping quoted strings."""
    depth = 0
    quote = None
    i = start
    n = len(text)
    while i < n:
        c = text[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if c == quote:
                quote = None
        elif c in _QUOTES:
            quote = c
        elif c == open_:
            depth += 1
        elif c == close:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def _literal(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


def parse_printed_dict(line: str) -> dict | None:
    """The dict printed on ``line``, or None when there is none.

    Accepts what ``print`` writes for a dict, a ``defaultdict``, a ``Counter`` or an
    ``OrderedDict`` (``集計結果： defaultdict(<class 'int'>, {'くさ': 3})``, ``{}``,
    ``Counter()``, ``OrderedDict([('くさ', 3)])``). The dict is the first ``{...}`` whose braces
    balance (braces inside quoted strings do not count) and which ``ast.literal_eval`` reads as
    a dict; the text may span several lines.
    """
    text = line[:_MAX_TEXT]
    for m in re.finditer(r"\{", text):
        end = _balanced_end(text, m.start(), "{", "}")
        if end is None:
            continue
        value = _literal(text[m.start():end])
        if isinstance(value, dict):
            return value
    m = re.search(r"OrderedDict\(\[", text)
    if m:
        end = _balanced_end(text, m.end() - 1, "[", "]")
        if end is not None:
            pairs = _literal(text[m.end() - 1:end])
            try:
                return dict(pairs) if isinstance(pairs, list) else None
            except (TypeError, ValueError):
                return None
    if _EMPTY_REPRS.search(text):
        return {}
    return None


def find_tally(text: str, marker: str = "集計結果") -> tuple[dict | None, int | None, str | None]:
    """The tally printed after the LAST line of ``text`` that contains ``marker``.

    Returns ``(dict, index, line)``: the dict read after the marker (``集計結果：``, ``集計結果:``
    or the marker alone), the 0-based index of the output line it was read from and that line.
    When the marker line holds no dict, the dict may start on the next non-blank line (``print``
    with ``sep="\\n"``, ``pprint``); a dict spread over several lines is read whole.
    ``(None, index, line)`` when the marker is there but no dict follows it;
    ``(None, None, None)`` when the marker never appears.
    """
    lines = text.splitlines()
    idx = next((i for i in range(len(lines) - 1, -1, -1) if marker in lines[i]), None)
    if idx is None:
        return None, None, None
    line = lines[idx]
    rest = line[line.rfind(marker) + len(marker):]
    found = parse_printed_dict(rest)
    if found is not None:
        return found, idx, line
    # The dict continues on the following lines, or starts on the next non-blank one.
    start, first = idx, rest
    if not rest.strip(" \t:：=　"):
        start = next((i for i in range(idx + 1, len(lines)) if lines[i].strip()), None)
        if start is None or not _DICT_START.match(lines[start]):
            return None, idx, line
        first = lines[start]
    elif "{" not in rest and "(" not in rest:
        return None, idx, line
    chunk = first
    for j in range(start + 1, min(len(lines), start + 60)):
        chunk += "\n" + lines[j]
        found = parse_printed_dict(chunk)
        if found is not None:
            return found, start, lines[start]
    if start != idx:
        found = parse_printed_dict(first)
        if found is not None:
            return found, start, lines[start]
    return None, idx, line


def expected_tally(types: list[list[str]], first: int | None = 9) -> dict[str, int]:
    """How many times each type occurs in ``types[:first]`` (None: in all), keys in order of first appearance.

    For the course data: ``{'くさ': 3, 'どく': 3, 'ほのお': 3, 'ひこう': 1, 'みず': 3}``.
    """
    counts: dict[str, int] = {}
    for row in types[:first]:
        for type_ in row:
            counts[type_] = counts.get(type_, 0) + 1
    return counts

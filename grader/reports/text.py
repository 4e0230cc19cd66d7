"""Text helpers shared by the renderers: pure string functions, no I/O.

Program output is untrusted: it can hold ANSI colour codes, NUL bytes, bells, lone surrogates
(from ``surrogateescape`` decoding) and megabytes of text. These helpers make it safe to put
into XML, JSON and a terminal.
"""
from __future__ import annotations

import html
import math
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from grader.model import CheckResult

__all__ = ["strip_ansi", "xml_safe", "head_tail", "one_line", "html_text", "visible"]

_ANSI = re.compile(
    r"""
      \x1b\][^\x07\x1b]*(?:\x07|\x1b\\)      # OSC ... terminated by BEL or ST (window titles, links)
    | \x1b[P^_X][^\x1b]*\x1b\\               # DCS / PM / APC / SOS ... ST
    | \x1b\[[0-?]*[\x20-/]*[@-~]             # CSI: colours, cursor moves, erase
    | \x1b[!-/]*[0-~]                        # other escape sequences (ESC 7, ESC c, ESC ( B)
    | \x9b[0-?]*[\x20-/]*[@-~]               # 8-bit CSI
    """,
    re.VERBOSE,
)

# Everything XML 1.0 forbids (its ``Char`` production): C0 controls except TAB, LF and CR,
# the surrogate block (only lone surrogates can exist in a Python str), U+FFFE and U+FFFF.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _marker(match: "re.Match[str]") -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # the Unicode "control picture": \x00 -> ␀, \x07 -> ␇, \x1b -> ␛
    return f"\\u{code:04x}"  # lone surrogate, U+FFFE, U+FFFF -> the literal text \ud800, \ufffe ...


# What can end a line or steer a terminal besides ESC: C0 (TAB kept), DEL, C1, the Unicode line
# and paragraph separators.
_CONTROLS = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")


def _shown(match: "re.Match[str]") -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # \n -> ␊, \r -> ␍, \x1b -> ␛
    if code == 0x7F:
        return "␡"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"  # C1: the literal text \x9b


def visible(s: str) -> str:
    """Untrusted text as one line for a terminal or a text file: escape sequences removed, every
    control that could end the line or steer the terminal shown as a visible marker (a newline as
    ``␊``, C1's ``0x9b`` as the text ``\\x9b``). A thread name or a dict key stays on its line."""
    return _CONTROLS.sub(_shown, strip_ansi(s))


def strip_ansi(s: str) -> str:
    """``s`` without ANSI/VT100 escape sequences (colours, cursor moves, OSC titles and links).

    A stray ESC that starts no known sequence is left in place (``xml_safe`` makes it visible).
    """
    return _ANSI.sub("", s)


def xml_safe(s: str) -> str:
    """``s`` with every character XML 1.0 forbids replaced by a visible marker.

    C0 controls other than TAB, LF and CR become their Unicode control picture (``"\\x00"`` ->
    ``"␀"``, ``"\\x07"`` -> ``"␇"``, ``"\\x1b"`` -> ``"␛"``); lone surrogates and the non-characters
    U+FFFE/U+FFFF become the literal six-character text ``\\ud800``, ``\\ufffe``, ``\\uffff``.
    Everything else is kept. The result also encodes to UTF-8 without error.
    """
    return _FORBIDDEN.sub(_marker, s)


def _head_end(b: bytes, n: int) -> int:
    """The largest index <= n that starts a UTF-8 character in ``b`` (or is its end)."""
    i = min(n, len(b))
    while 0 < i < len(b) and (b[i] & 0xC0) == 0x80:
        i -= 1
    return i


def _tail_start(b: bytes, n: int) -> int:
    """The smallest index >= len(b) - n that starts a UTF-8 character in ``b``."""
    i = max(0, len(b) - n)
    while i < len(b) and (b[i] & 0xC0) == 0x80:
        i += 1
    return i


def head_tail(s: str, limit_bytes: int = 64 * 1024) -> str:
    """``s`` if it is at most ``limit_bytes`` in UTF-8, else its head and its tail around a marker.

    The marker is a line of its own, ``[... 136,123 bytes cut ...]``, giving the number of
    UTF-8 bytes left out. The result, marker included, is at most ``limit_bytes`` bytes; cuts fall
    on character boundaries and, when one is close, on line boundaries.
    """
    data = s.encode("utf-8", "surrogatepass")
    if len(data) <= limit_bytes:
        return s
    reserve = 64  # room for the marker line: "\n[... 18,446,744,073,709,551,615 bytes cut ...]\n"
    budget = max(0, limit_bytes - reserve)
    half = budget // 2
    head_end = _head_end(data, half)
    tail_start = _tail_start(data, budget - head_end)
    slack = max(1, budget // 8)
    newline = data.rfind(b"\n", 0, head_end)
    if newline >= 0 and head_end - (newline + 1) <= slack:
        head_end = newline + 1
    newline = data.find(b"\n", tail_start)
    if newline >= 0 and newline + 1 - tail_start <= slack and newline + 1 < len(data):
        tail_start = newline + 1
    head = data[:head_end].decode("utf-8", "surrogatepass")
    tail = data[tail_start:].decode("utf-8", "surrogatepass")
    cut = tail_start - head_end
    sep_before = "" if head.endswith("\n") or not head else "\n"
    sep_after = "\n" if tail else ""
    return f"{head}{sep_before}[... {cut:,} bytes cut ...]{sep_after}{tail}"


_SPACES = re.compile(r"\s+")


def one_line(s: str, limit: int = 200) -> str:
    """``s`` on one line: runs of whitespace (newlines included) become one space, ends stripped.

    Longer than ``limit`` characters, it is shortened to ``limit`` characters ending in ``…``.
    """
    flat = _SPACES.sub(" ", s).strip()
    if len(flat) <= limit:
        return flat
    if limit <= 0:
        return ""
    return flat[: limit - 1].rstrip() + "…"


def html_text(s: str) -> str:
    """Untrusted text ready for HTML or SVG, as text or inside a quoted attribute: ANSI sequences
    removed, characters XML forbids made visible (``xml_safe``), ``& < > " '`` escaped."""
    return html.escape(xml_safe(strip_ansi(s)), quote=True)


def clean(s: str) -> str:
    """Untrusted text for a file format: escape sequences stripped, what XML cannot hold shown."""
    return xml_safe(strip_ansi(s))


def points(x: float) -> str:
    """``2`` for 2.0, ``0.5`` for 0.5; never NaN."""
    if not isinstance(x, (int, float)) or not math.isfinite(x):
        return "0"
    x = round(float(x), 6)
    return str(int(x)) if x.is_integer() else f"{x:g}"


def failure_text(check: "CheckResult", lang: str) -> str:
    """Why ``check`` failed, as clean plain text of several lines (empty for a passed check)."""
    if check.passed:
        return ""
    if check.failure is None:
        return "不合格" if lang == "ja" else "failed"
    return clean(check.failure.text(lang, visible))

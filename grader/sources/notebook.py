"""Turn a Jupyter notebook into one Python script, keeping a map back to its cells.

Code cells are joined in order with one blank line between them. IPython-only syntax
(``%magic``, ``!shell``, ``x = !cmd``, ``%%cell_magic``) is not Python: such lines are
disabled as comments, one line for one line, so that line numbers still map back.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

from ..model import GraderInputError, Msg, Note

PREFIX = "# [grader] "

# `x = !ls`, `a, b = %sx cmd`: IPython assigns the output of a shell command or magic.
_ASSIGN_ESCAPE = re.compile(r"[A-Za-z_][\w.]*(\s*,\s*[A-Za-z_][\w.]*)*\s*=\s*[!%]")
# `%time stmt` / `%timeit stmt`: the statement is the student's code; keep it, drop the timer.
_TIMED_STMT = re.compile(r"%(time|timeit)\s+(?!-)(?P<stmt>\S.*)$")
# Cell magics whose body is ordinary Python that IPython runs (once or more).
_PYTHON_BODY_CELL_MAGICS = {"time", "timeit", "capture", "prun"}
_WRITEFILE = re.compile(r"%%writefile(\s+-a)?\s+(?P<target>\S+)")


@dataclass(frozen=True)
class NotebookScript:
    """The script built from a notebook: source, per-line origin labels, notes."""

    source: str
    line_origin: tuple[str, ...]
    notes: tuple[Note, ...]


def cell_label(cell: int, line: int) -> str:
    """The ``line_origin`` label of line ``line`` of code cell ``cell`` (both 1-based)."""
    return f"code cell {cell}, line {line}"


_LABEL = re.compile(r"code cell (\d+), line (\d+)$")


def label_msg(label: str) -> Msg:
    """A ``line_origin`` label in both languages ("code cell 3, line 2" / "コードセル3の2行目")."""
    m = _LABEL.match(label)
    if not m:
        return Msg.same(label)
    return Msg(ja=f"コードセル{m[1]}の{m[2]}行目", en=label)


def notebook_to_script(text: str, name: str, filename: str | None = None) -> NotebookScript:
    """Build one script from the code cells of notebook JSON ``text`` (``name`` for messages).

    Raises ``GraderInputError`` if ``text`` is not a notebook or has no code.
    ``filename``, when given, picks the ``%%writefile`` cell to use if all code lives in such cells.
    """
    cells = _code_cells(text, name)
    lines: list[str] = []
    origin: list[str] = []
    disabled: list[tuple[int, int | None, str]] = []  # (cell, line or None for whole cell, text)
    kept = False  # some magic only wrapped code (%time, %%capture): the code still runs
    writefiles: list[tuple[int, str, list[str]]] = []
    for number, src in cells:
        cell_lines = _split(src)
        if not cell_lines:
            continue
        m = _WRITEFILE.match(cell_lines[0].strip())
        if m and m["target"].endswith(".py"):
            writefiles.append((number, m["target"], cell_lines[1:]))
        new_lines, cell_disabled = disable_magics(cell_lines)
        disabled.extend((number, line, txt) for line, txt in cell_disabled)
        kept = kept or any(_keeps_code(txt) for _, txt in cell_disabled)
        if lines:
            lines.append("")  # blank separator: labelled as the line after the previous cell
            origin.append(_after(origin[-1]))
        lines.extend(new_lines)
        origin.extend(cell_label(number, i) for i in range(1, len(new_lines) + 1))
    if not lines:
        raise GraderInputError(Msg(
            ja=f"{name} のコードセルが空です（採点するコードがありません）。",
            en=f"{name} has no code in its code cells: nothing to grade.",
        ))
    notes = [_disabled_note(disabled, kept)] if disabled else []
    if writefiles and not _has_code(lines):
        return _from_writefile(writefiles, filename, notes)
    return NotebookScript("\n".join(lines) + "\n", tuple(origin), tuple(notes))


def _code_cells(text: str, name: str) -> list[tuple[int, str]]:
    """(code-cell number, source) for every code cell, numbered from 1 among code cells."""
    import nbformat  # imported here: only notebooks need it

    invalid = Msg(
        ja=f"{name} は有効な Jupyter ノートブックではありません（.ipynb の JSON として読めません）。",
        en=f"{name} is not a valid Jupyter notebook (it cannot be read as .ipynb JSON).",
    )
    try:
        # reader.reads + convert is nbformat.reads without its schema validation, which logs
        # to stderr on any oddity; we only need each cell's type and source.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb = nbformat.convert(nbformat.reader.reads(text), 4)
        raw_cells = nb["cells"]
        if not isinstance(raw_cells, list):
            raise TypeError("cells is not a list")
        cells = []
        number = 0
        for cell in raw_cells:
            if cell.get("cell_type") != "code":
                continue
            number += 1
            src = cell.get("source", "")
            src = "".join(src) if isinstance(src, list) else src
            if not isinstance(src, str):
                raise TypeError("cell source is not text")
            cells.append((number, src))
    except Exception as exc:  # nbformat raises many types (NotJSONError, ValidationError, ...)
        raise GraderInputError(invalid) from exc
    if not cells:
        raise GraderInputError(Msg(
            ja=f"{name} にコードセルがありません（採点するコードがありません）。",
            en=f"{name} has no code cells: nothing to grade.",
        ))
    return cells


def _split(src: str) -> list[str]:
    """A cell's lines, newlines normalised, trailing blank lines dropped."""
    lines = src.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _after(label: str) -> str:
    m = _LABEL.match(label)
    return cell_label(int(m[1]), int(m[2]) + 1) if m else label


def disable_magics(lines: list[str]) -> tuple[list[str], list[tuple[int | None, str]]]:
    """Disable IPython-only lines of one cell, keeping the line count.

    Returns the new lines and what was disabled: ``(line number, text)``, or
    ``(None, first line)`` when the whole cell was a non-Python cell magic.
    """
    first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        magic = lines[first].strip()
        name = re.match(r"%%(\w*)", magic)[1]
        if name not in _PYTHON_BODY_CELL_MAGICS:
            return [PREFIX + ln for ln in lines], [(None, magic)]
        out = list(lines)
        out[first] = PREFIX + magic
        rest, found = disable_magics(lines[first + 1:])
        return out[: first + 1] + rest, [(first + 1, magic)] + [
            (n + first + 1 if n else n, t) for n, t in found
        ]
    out = []
    found: list[tuple[int | None, str]] = []
    starts, opens_block = _logical_starts(lines)
    prev_opens = False
    for i, line in enumerate(lines):
        stripped = line.strip()
        if starts[i] and stripped and (stripped[0] in "%!" or _ASSIGN_ESCAPE.match(stripped)):
            indent = line[: len(line) - len(line.lstrip())]
            timed = _TIMED_STMT.match(stripped)
            if timed:
                out.append(indent + timed["stmt"])
            elif prev_opens:
                out.append(indent + "pass  " + PREFIX + stripped)  # a lone comment would empty the block
            else:
                out.append(indent + PREFIX + stripped)
            found.append((i + 1, stripped))
            continue
        out.append(line)
        if stripped and not stripped.startswith("#"):
            prev_opens = opens_block[i]
    return out, found


def _logical_starts(lines: list[str]) -> tuple[list[bool], list[bool]]:
    """Per line: does a logical line start there, and does it end a block header (``...:``)?

    A light scanner (brackets, strings, comments, backslashes), so that a ``%`` or ``!`` inside
    a bracket or a triple-quoted string is never taken for a magic.
    """
    starts, opens = [], []
    depth = 0
    quote = ""  # the open string's delimiter, kept across lines only for triple quotes
    continued = False
    for line in lines:
        starts.append(depth == 0 and not quote and not continued)
        stripped = line.strip()
        if starts[-1] and (stripped[:1] in ("%", "!") or _ASSIGN_ESCAPE.match(stripped)):
            opens.append(False)  # a magic line: its text is not Python, do not scan it
            continue
        continued = False
        last = ""
        i = 0
        while i < len(line):
            ch = line[i]
            if quote:
                if ch == "\\":
                    i += 2
                    continue
                if line.startswith(quote, i):
                    i += len(quote)
                    quote = ""
                    last = "'"
                    continue
                i += 1
                continue
            if ch == "#":
                break
            if ch in "'\"":
                quote = ch * 3 if line.startswith(ch * 3, i) else ch
                i += len(quote)
                continue
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth = max(0, depth - 1)
            elif ch == "\\" and i == len(line) - 1:
                continued = True
            if not ch.isspace():
                last = ch
            i += 1
        if len(quote) == 1:
            quote = ""  # an unterminated one-line string ends at the line end
        opens.append(depth == 0 and not quote and last == ":")
    return starts, opens


def _has_code(lines: list[str]) -> bool:
    return any(ln.strip() and not ln.strip().startswith("#") for ln in lines)


def _from_writefile(writefiles, filename: str | None, notes: list[Note]) -> NotebookScript:
    """All code is in ``%%writefile X.py`` cells (a Colab habit): grade the file it writes."""
    chosen = next((w for w in writefiles if filename and w[1].rsplit("/", 1)[-1] == filename), writefiles[-1])
    number, target, body = chosen
    origin = tuple(cell_label(number, i) for i in range(2, len(body) + 2))
    note = Note(Msg(
        ja=f"ノートブックのコードはすべて %%writefile のセルにあるため、コードセル{number}が書き出す {target} を採点しました。",
        en=f"All the notebook's code is in %%writefile cells, so the file written by code cell {number} ({target}) was graded.",
    ))
    return NotebookScript("\n".join(body) + "\n", origin, tuple(notes) + (note,))


def _keeps_code(magic: str) -> bool:
    """Whether disabling ``magic`` kept the code it wraps (``%time f()``, ``%%capture``)."""
    if _TIMED_STMT.match(magic):
        return True
    m = re.match(r"%%(\w*)", magic)
    return bool(m) and m[1] in _PYTHON_BODY_CELL_MAGICS


def _disabled_note(disabled: list[tuple[int, int | None, str]], kept: bool) -> Note:
    """One note listing the disabled IPython lines (the first few, then a count)."""
    shown = disabled[:5]
    ja, en = [], []
    for cell, line, text in shown:
        if line is None:
            ja.append(f"コードセル{cell}の全体（{text}）")
            en.append(f"code cell {cell}, whole cell ({text})")
        else:
            ja.append(f"コードセル{cell}の{line}行目（{text}）")
            en.append(f"code cell {cell}, line {line} ({text})")
    more = len(disabled) - len(shown)
    if more:
        ja.append(f"ほか{more}か所")
        en.append(f"and {more} more")
    ja_text = "IPython 専用の行（% マジック、! シェルコマンド）は Python ではないため無効にして採点しました: " + "、".join(ja)
    en_text = "IPython-only lines (% magics, ! shell commands) are not Python and were disabled for grading: " + "; ".join(en)
    if kept:
        ja_text += "。%time・%%time・%%capture などはマジックだけを外し、中のコードは実行しました"
        en_text += ". For %time, %%time, %%capture and the like only the magic was removed; the code itself ran"
    return Note(Msg(ja=ja_text + "。", en=en_text + "."))

"""Read a submission file into Python source the grader can run, whatever editor saved it.

Students hand in files from Windows Notepad (CP932, "ANSI"), editors that add a UTF-8 BOM
or CRLF line endings, and Jupyter notebooks. ``load_submission`` turns each into one UTF-8
source text with ``\\n`` line endings, refusing with a clear message only what cannot be graded.
"""
from __future__ import annotations

import codecs
import os
import re
import unicodedata
from dataclasses import dataclass
from typing import Callable

from ..model import GraderInputError, Msg, Note
from .notebook import label_msg, notebook_to_script

MAX_BYTES = 1024 * 1024
"""Largest .py file graded: exercises are a few KiB; anything bigger is not a solution."""
MAX_NOTEBOOK_BYTES = 16 * 1024 * 1024
"""Notebooks carry their outputs (plots, long prints), so they may be much bigger than their code."""

# PEP 263, as the tokenizer reads it: a comment on line 1, or on line 2 if line 1 is blank/comment.
_COOKIE = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.ASCII)
_BLANK = re.compile(r"^[ \t\f]*(?:[#\r\n]|$)", re.ASCII)


@dataclass(frozen=True)
class Submission:
    """A submission read and decoded, ready to be written out as UTF-8 and run."""

    path: str
    """The path as the user gave it."""
    source: str
    """Decoded Python source: ``\\n`` line endings, no BOM; for a notebook, its code cells joined."""
    filename: str
    """The name the script runs as (``counter_lck.py``; for a notebook, its stem + ``.py``)."""
    encoding: str
    """``utf-8``, ``utf-8-sig``, ``cp932``, ``utf-16`` or the encoding its coding line declares."""
    notes: tuple[Note, ...]
    """Things the student should know that are not failures (encoding found, lines disabled)."""
    line_origin: tuple[str, ...] = ()
    """For a notebook: per source line (index = line - 1), e.g. ``code cell 3, line 2``."""

    def origin(self, lineno: int) -> Msg:
        """Where line ``lineno`` of ``source`` is, as the student sees it ("line 12", "code cell 3, line 2")."""
        if self.line_origin and 1 <= lineno <= len(self.line_origin):
            return label_msg(self.line_origin[lineno - 1])
        return line_msg(lineno)


def line_msg(lineno: int) -> Msg:
    """``line N`` / ``N行目``."""
    return Msg(ja=f"{lineno}行目", en=f"line {lineno}")


def load_submission(path: str, filename: str | None = None) -> Submission:
    """Read and decode the submission at ``path`` (a ``.py`` file or a ``.ipynb`` notebook).

    ``filename`` overrides the name the script runs as. Raises ``GraderInputError`` for a
    missing, empty, binary, oversized or undecodable file and for an invalid notebook.
    """
    shown = os.fspath(path)
    base = os.path.basename(shown.rstrip("/\\")) or shown
    data = _read_bytes(shown, base, size_limit(base))
    return submission_from_bytes(data, shown, base, filename)


def read_submission_bytes(path: str) -> tuple[bytes, str]:
    """The bytes of the file at ``path`` and its own name, refused exactly as ``load_submission``
    refuses a missing path, a directory, an empty or oversized file. Standard library only: the
    ``--server`` client reads with it, so that its refusals are ``grade``'s own."""
    shown = os.fspath(path)
    base = os.path.basename(shown.rstrip("/\\")) or shown
    return _read_bytes(shown, base, size_limit(base)), base


def size_limit(name: str) -> int:
    """The largest file of this name that is graded (a notebook carries outputs: it may be bigger)."""
    return MAX_NOTEBOOK_BYTES if name.casefold().endswith(".ipynb") else MAX_BYTES


def submission_from_bytes(data: bytes, path: str, name: str, filename: str | None = None) -> Submission:
    """A submission from bytes already in hand (a file uploaded to ``grade serve``), refused and
    accepted exactly as ``load_submission`` refuses and accepts the same bytes in a file.

    ``path`` is shown in reports (the path as the student typed it); ``name`` is the file's own
    name (its last component: what the messages name and the script runs as, unless ``filename``).
    """
    if len(data) > size_limit(name):
        raise GraderInputError(_too_large_msg(name, size_limit(name)))
    if not data.strip():
        raise GraderInputError(_empty_msg(name))
    if name.casefold().endswith(".ipynb"):
        return _load_notebook(path, name, data, filename)
    if b"\x00" in data and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise GraderInputError(_binary_msg(name))
    source, encoding, notes = decode_source(data, name)
    source = normalise_newlines(source)
    if not source.strip():
        raise GraderInputError(_empty_msg(name))
    return Submission(path, fix_coding_line(source), filename or name, encoding, tuple(notes))


def _did_you_mean(path: str) -> str | None:
    """A file that exists and is probably the one meant: the name with ``.py`` or ``.ipynb``
    added, else the closest name of a submission in the same folder."""
    for ext in (".py", ".ipynb"):
        if os.path.isfile(path + ext):
            return path + ext
    folder, name = os.path.split(path)
    try:
        names = [n for n in os.listdir(folder or ".") if n.endswith((".py", ".ipynb"))]
    except OSError:
        return None
    import difflib

    close = difflib.get_close_matches(name, names, n=1, cutoff=0.75)
    return os.path.join(folder, close[0]) if close else None


def _read_bytes(path: str, base: str, limit: int) -> bytes:
    """The file's bytes, refusing a missing path, a directory, an empty or oversized file."""
    if os.path.isdir(path):
        raise GraderInputError(Msg(
            ja=f"{path} はフォルダです。採点する .py または .ipynb ファイルを指定してください。",
            en=f"{path} is a directory: give the .py or .ipynb file to grade.",
        ))
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)  # one byte more tells "too big" without reading it all
    except FileNotFoundError:
        close = _did_you_mean(path)
        raise GraderInputError(Msg(
            ja=f"{path} が見つかりません。" + (f"もしかして {close} ですか？" if close else ""),
            en=f"{path} does not exist." + (f" Did you mean {close}?" if close else ""),
        )) from None
    except OSError as exc:
        raise GraderInputError(Msg(
            ja=f"{path} を読めません（{exc.strerror or exc}）。",
            en=f"cannot read {path} ({exc.strerror or exc}).",
        )) from None
    if len(data) > limit:
        raise GraderInputError(_too_large_msg(base, limit))
    if not data.strip():
        raise GraderInputError(_empty_msg(base))
    return data


def _too_large_msg(base: str, limit: int) -> Msg:
    mib = limit // (1024 * 1024)
    return Msg(
        ja=f"{base} は大きすぎます（{mib} MiB 超）。提出するソースファイルを確認してください。",
        en=f"{base} is too large (over {mib} MiB): check that it is the source file you meant to hand in.",
    )


def _empty_msg(base: str) -> Msg:
    return Msg(ja=f"{base} は空です（コードがありません）。", en=f"{base} is empty: there is no code to grade.")


def _binary_msg(base: str) -> Msg:
    return Msg(
        ja=f"{base} はバイナリファイルのようです（Python のソースではありません）。",
        en=f"{base} looks like a binary file, not Python source.",
    )


def decode_source(data: bytes, base: str) -> tuple[str, str, list[Note]]:
    """Decode source bytes: BOM, else a PEP 263 coding line, else UTF-8, else CP932.

    Returns ``(text, encoding, notes)``; never falls back to latin-1 (it would "decode"
    anything into mojibake). Raises ``GraderInputError`` if nothing decodes.
    """
    if data.startswith(codecs.BOM_UTF8):
        # Python accepts a UTF-8 BOM: silent, whatever a coding line says afterwards.
        text = _try(data[len(codecs.BOM_UTF8):], "utf-8")
        if text is not None:
            return text, "utf-8-sig", []
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = _try(data, "utf-16")
        if text is not None:
            return text.lstrip("\ufeff"), "utf-16", [_foreign_note(base, "UTF-16", "メモ帳の「Unicode」", 'Notepad\'s "Unicode"')]
        raise GraderInputError(_binary_msg(base))
    notes: list[Note] = []
    declared = declared_encoding(data)
    if declared is not None and not _known_codec(declared):
        notes.append(Note(Msg(
            ja=f"{base} の coding 行が宣言する文字コード {declared} は Python にありません。"
               "Python はこのファイルを実行できません（coding 行を消すか直してください）。",
            en=f"{base} declares coding {declared}, which Python does not know; Python cannot run it as is "
               "(remove or fix the coding line).",
        )))
    elif declared is not None:
        text = _try(data, declared)
        if text is not None:
            return text, declared, []
        notes.append(Note(Msg(
            ja=f"{base} の coding 行は {declared} と宣言していますが、ファイルはその文字コードではありません。"
               "Python はこのファイルを実行できません（coding 行を直すか UTF-8 で保存してください）。",
            en=f"{base} declares coding {declared} but is not valid {declared}; Python cannot run it as is "
               "(fix the coding line or save the file as UTF-8).",
        )))
    text = _try(data, "utf-8")
    if text is not None:
        return text, "utf-8", notes
    text = _try(data, "cp932")
    # Python's cp932 maps stray bytes 0x80, 0xA0, 0xFD-0xFF to U+0080 and private-use U+F8F0-F8F3;
    # no Japanese editor writes them, so such a file is something else (latin-1...), not CP932.
    if text is not None and not re.search("[\u0080\uf8f0-\uf8f3]", text):
        return text, "cp932", notes + [_foreign_note(base, "Shift_JIS/CP932", "メモ帳の「ANSI」", 'Notepad\'s "ANSI"')]
    if _garbage_ratio(data) > 0.3:
        raise GraderInputError(_binary_msg(base))
    raise GraderInputError(Msg(
        ja=f"{base} の文字コードが分かりません（UTF-8 でも Shift_JIS/CP932 でもありません）。UTF-8 で保存し直してください。",
        en=f"cannot decode {base}: it is neither UTF-8 nor Shift_JIS/CP932. Save it as UTF-8.",
    ))


def _try(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _known_codec(name: str) -> bool:
    try:
        codecs.lookup(name)
        return True
    except LookupError:
        return False


def _garbage_ratio(data: bytes) -> float:
    """Share of characters that are undecodable or control characters (text has almost none)."""
    text = data.decode("utf-8", "replace")
    bad = sum(1 for ch in text if ch == "\ufffd" or (ch < " " and ch not in "\t\n\r\f") or ch == "\x7f")
    return bad / max(1, len(text))


def _foreign_note(base: str, found: str, ja_editor: str, en_editor: str) -> Note:
    return Note(Msg(
        ja=f"{base} は UTF-8 ではなく {found}（{ja_editor}など）で保存されています。UTF-8 として採点しましたが、"
           "Python で実行するには UTF-8 で保存し直すか、1行目に「# -*- coding: cp932 -*-」と書く必要があります。",
        en=f"{base} was saved in {found} (for example {en_editor}), not UTF-8. It was graded as if it were UTF-8, "
           "but Python itself needs UTF-8 to run it: save it as UTF-8, or put `# -*- coding: cp932 -*-` on its first line.",
    ))


def declared_encoding(data: bytes) -> str | None:
    """The encoding a PEP 263 coding line declares, normalised as Python does, or None.

    Looked up by hand rather than with ``tokenize.detect_encoding``, which raises on the
    first non-UTF-8 line of a CP932 file before we can fall back.
    """
    lines = re.split(rb"\r\n|\r|\n", data, maxsplit=2)[:2]
    for raw in lines:
        line = raw.decode("latin-1")  # the cookie itself is ASCII
        m = _COOKIE.match(line)
        if m:
            return _normal_name(m[1])
        if not _BLANK.match(line):
            return None
    return None


def _normal_name(name: str) -> str:
    """Python's tokenizer normalisation (``utf-8-unix`` is utf-8), then the codec's own name."""
    enc = name[:12].lower().replace("_", "-")
    if enc == "utf-8" or enc.startswith("utf-8-"):
        return "utf-8"
    if enc in ("latin-1", "iso-8859-1", "iso-latin-1") or enc.startswith(("latin-1-", "iso-8859-1-", "iso-latin-1-")):
        return "iso8859-1"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return name


def normalise_newlines(text: str) -> str:
    """CRLF and lone CR to ``\\n`` (Python reads all three alike)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def fix_coding_line(source: str) -> str:
    """Declare utf-8 in a coding line that says otherwise: the grader writes the source as UTF-8.

    Only the declaration changes, so the line count and every line number stay the same.
    """
    lines = source.split("\n", 2)
    for i, line in enumerate(lines[:2]):
        m = _COOKIE.match(line)
        if m:
            if _normal_name(m[1]) != "utf-8":
                lines[i] = line[: m.start(1)] + "utf-8" + line[m.end(1):]
            return "\n".join(lines)
        if not _BLANK.match(line):
            break
    return source


def _load_notebook(shown: str, base: str, data: bytes, filename: str | None) -> Submission:
    """A notebook: JSON is UTF-8 (a BOM tolerated); its code cells become the source."""
    encoding = "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"
    text = _try(data, encoding)
    if text is None:
        raise GraderInputError(Msg(
            ja=f"{base} は有効な Jupyter ノートブックではありません（UTF-8 の JSON ではありません）。",
            en=f"{base} is not a valid Jupyter notebook (not UTF-8 JSON).",
        ))
    script = notebook_to_script(text.lstrip("\ufeff"), base, filename)
    stem = base[: -len(".ipynb")]
    return Submission(
        shown, fix_coding_line(script.source), filename or stem + ".py", encoding,
        script.notes, script.line_origin,
    )


# Whitespace Python rejects but students cannot see: an IME left in full-width mode types U+3000.
_INVISIBLE = {"\u3000": "全角スペース", "\u00a0": "ノーブレークスペース", "\u200b": "ゼロ幅スペース", "\ufeff": "BOM"}


def syntax_problem(
    source: str, filename: str, origin: Callable[[int], Msg] | None = None
) -> Msg | None:
    """Why ``source`` does not compile, worded like Python's own message; None if it compiles.

    ``origin`` maps a line number to where the student sees it (``Submission.origin``).
    A non-ASCII space (U+3000 full-width space, U+00A0...) gets its line, column and a fix.
    """
    try:
        compile(source, filename, "exec", dont_inherit=True)
        return None
    except SyntaxError as exc:
        err = exc
    except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes (3.11), absurd nesting
        return Msg.same(f"{type(exc).__name__}: {exc}")
    lineno = err.lineno
    where = (origin or line_msg)(lineno) if lineno else None
    ja = [f"{type(err).__name__}: {err.msg}" + (f"（{where.ja}）" if where else "")]
    en = [f"{type(err).__name__}: {err.msg}" + (f" ({where.en})" if where else "")]
    line = err.text
    if line is None and lineno and lineno <= source.count("\n") + 1:
        line = source.split("\n")[lineno - 1]
    if line is None:
        return Msg(ja=ja[0], en=en[0])
    line = line.rstrip("\r\n")
    col = _odd_space_column(line, err)
    start = col if col is not None else (err.offset - 1 if err.offset else None)
    width = 1
    if col is None and err.offset and err.end_offset and getattr(err, "end_lineno", None) == lineno:
        width = max(1, _columns(line[err.offset - 1: err.end_offset - 1]))
    shown = line.lstrip(" \t\f")
    cut = len(line) - len(shown)
    ja.append("    " + shown)
    en.append("    " + shown)
    if start is not None and cut <= start <= len(line):
        caret = "    " + " " * _columns(line[cut:start]) + "^" * width
        ja.append(caret)
        en.append(caret)
    if col is not None:
        ch = line[col]
        code = f"U+{ord(ch):04X}"
        place = where or line_msg(lineno)
        if ch == "\u3000":
            fix_ja, fix_en = "全角スペースを半角スペースに置き換えてください。", "replace the full-width space with normal spaces."
        else:
            fix_ja, fix_en = "半角スペースに置き換えるか削除してください。", "replace it with a normal space or delete it."
        ja.append(f"{place.ja}の{col + 1}文字目に{_INVISIBLE.get(ch, '特殊な空白')}（{code}）があります。{fix_ja}")
        en.append(f"{place.en}, column {col + 1} holds {code} ({unicodedata.name(ch, code).lower()}), "
                  f"which Python does not accept: {fix_en}")
    return Msg(ja="\n".join(ja), en="\n".join(en), lines=True)


def _odd_space_column(line: str, err: SyntaxError) -> int | None:
    """The 0-based column of the invisible space Python complained about, if that is the error."""
    m = re.search(r"U\+([0-9A-Fa-f]{4,6})", err.msg or "")
    if m:
        ch = chr(int(m[1], 16))
        if _is_odd_space(ch):
            if err.offset and 0 < err.offset <= len(line) and line[err.offset - 1] == ch:
                return err.offset - 1
            return line.find(ch) if ch in line else None
    # Older Pythons name the token instead ("invalid decimal literal" at 1 for "1\u00a0+"): an odd
    # space right at or beside the caret is the culprit.
    if err.offset:
        for i in (err.offset - 1, err.offset, err.offset - 2):
            if 0 <= i < len(line) and _is_odd_space(line[i]):
                return i
    # Otherwise only a space in the indentation is surely to blame (one in a string is fine).
    indent = len(line) - len(line.lstrip())
    return next((i for i, ch in enumerate(line[:indent]) if _is_odd_space(ch)), None)


def _is_odd_space(ch: str) -> bool:
    """Whitespace Python does not accept in code: non-ASCII spaces and zero-width ones."""
    return ord(ch) > 127 and (ch.isspace() or ch in _INVISIBLE)


def _columns(text: str) -> int:
    """Terminal columns ``text`` takes: full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)

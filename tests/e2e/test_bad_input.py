"""Bad input, end to end (issue 5): the real ``grade`` command, in English and in Japanese.

What cannot be graded exits 2 with exactly one line on stderr ("grade: ..."), never a traceback;
what can be graded (CP932, BOM + CRLF, notebooks with IPython magics, syntax errors, full-width
spaces) is graded, and the report says what the student needs to know. The decoding functions
themselves are unit-tested in tests/unit/test_sources.py; here each input goes through the command.
"""
from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Callable

import nbformat
import pytest

from grader.exercises import catalog

ROOT = Path(__file__).resolve().parents[2]
GRADE = Path(sys.executable).with_name("grade")
REFERENCE = ROOT / "reference"
IDS = tuple(sorted(catalog.exercises()))  # whatever the course holds: a new folder keeps this green
LANGS = ("en", "ja")

# Hiragana, katakana, CJK unified ideographs: what makes a message Japanese.
JAPANESE = re.compile("[\u3040-\u309f\u30a0-\u30ff\u4e00-\u9fff]")
# A check's line in the terminal report: "  ✓ runs        runs to its end     1/1".
CHECK_LINE = re.compile(r"^\s*([✓✗])\s+([a-z_]+)\s+.*?\s(\d+(?:\.\d+)?)/(\d+(?:\.\d+)?)\s*$")


def grade(*args: str, cwd: Path, tmpdir: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "GRADER_DEBUG"}
    env["NO_COLOR"] = "1"
    if tmpdir is not None:
        env["TMPDIR"] = str(tmpdir)
    return subprocess.run([str(GRADE), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, encoding="utf-8", errors="replace", timeout=180)


def reference(name: str) -> str:
    return (REFERENCE / f"{name}.py").read_text(encoding="utf-8")


def verdicts(report: str) -> dict[str, bool]:
    """check id -> passed, from the score lines of a terminal report."""
    found: dict[str, bool] = {}
    for line in report.splitlines():
        m = CHECK_LINE.match(line)
        if m and m[2] not in found:
            found[m[2]] = m[1] == "✓"
    return found


def assert_clean(proc: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    assert "internal error" not in proc.stderr, proc.stderr


def assert_language(text: str, lang: str) -> None:
    if lang == "ja":
        assert JAPANESE.search(text), f"no Japanese in the --lang ja text: {text!r}"
    else:
        assert not JAPANESE.search(text), f"Japanese in the --lang en text: {text!r}"


def assert_graded(proc: subprocess.CompletedProcess, lang: str, expected_rc: int) -> dict[str, bool]:
    """A gradable input: exit 0/1 agreeing with the report's own verdicts, nothing on stderr."""
    assert_clean(proc)
    checks = verdicts(proc.stdout)
    assert checks, f"no check lines in the report:\n{proc.stdout}\n{proc.stderr}"
    assert proc.returncode == (0 if all(checks.values()) else 1), (proc.returncode, checks)
    assert proc.returncode == expected_rc, f"rc={proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert proc.stderr == ""
    assert_language(proc.stdout, lang)
    return checks


def notes_section(report: str) -> str:
    """The report's notes ("Notes" / "お知らせ" to the end)."""
    m = re.search(r"^(Notes|お知らせ)$", report, re.M)
    assert m, f"no notes section:\n{report}"
    return report[m.end():]


# --- what cannot be graded: exit 2, one line -------------------------------------------------

Case = Callable[[Path], tuple[list[str], list[str], list[str]]]
"""Builds the input in a folder; returns (arguments, what the English / Japanese line must contain)."""


def _write(tmp: Path, name: str, data: bytes) -> str:
    (tmp / name).write_bytes(data)
    return name


def missing(tmp: Path):
    return ["counter_lck.py"], ["counter_lck.py", "does not exist"], ["counter_lck.py", "見つかりません"]


def directory(tmp: Path):
    (tmp / "counter_lck").mkdir()
    (tmp / "counter_lck" / "counter_lck.py").write_text(reference("counter_lck"), encoding="utf-8")
    return ["counter_lck"], ["counter_lck", "directory"], ["counter_lck", "フォルダ"]


def empty(tmp: Path):
    return [_write(tmp, "counter_lck.py", b"")], ["counter_lck.py", "empty"], ["counter_lck.py", "空"]


def whitespace_only(tmp: Path):
    name = _write(tmp, "counter_lck.py", b"  \n\t\r\n\n    \n")
    return [name], ["counter_lck.py", "empty"], ["counter_lck.py", "空"]


def binary(tmp: Path):
    rng = random.Random(5)
    name = _write(tmp, "counter_lck.py", bytes(rng.randrange(256) for _ in range(4096)) + b"\x00")
    return [name], ["counter_lck.py", "binary"], ["counter_lck.py", "バイナリ"]


def binary_without_nul(tmp: Path):
    rng = random.Random(0)
    data = b"\x89PNG\r\n\x1a\n" + bytes(rng.randrange(1, 256) for _ in range(4096))
    return [_write(tmp, "counter_lck.py", data)], ["counter_lck.py", "binary"], ["counter_lck.py", "バイナリ"]


def huge(tmp: Path):
    body = reference("counter_lck") + "\n" + "# padding padding padding padding padding\n" * 30000
    assert len(body.encode()) > 1024 * 1024
    name = _write(tmp, "counter_lck.py", body.encode("utf-8"))
    return [name], ["counter_lck.py", "too large", "1 MiB"], ["counter_lck.py", "大きすぎ", "1 MiB"]


def undecodable(tmp: Path):
    # Neither UTF-8 nor CP932 (0x80 and 0xFF are not CP932 characters), and mostly text: not "binary".
    data = b'# \x80\xff\xfe\n' + reference("counter_lck").split("\n", 1)[1].encode("ascii", "ignore")
    name = _write(tmp, "counter_lck.py", data)
    return [name], ["counter_lck.py", "UTF-8", "CP932"], ["counter_lck.py", "文字コード", "UTF-8"]


def notebook_not_json(tmp: Path):
    name = _write(tmp, "counter_lck.ipynb", b'{"cells": [ {"cell_type": "code", "source": "x = 1"')
    return [name], ["counter_lck.ipynb", "notebook", "JSON"], ["counter_lck.ipynb", "ノートブック", "JSON"]


def notebook_no_code_cells(tmp: Path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 第11回 counter_lck\n```python\nx = 1\n```")]
    (tmp / "counter_lck.ipynb").write_text(nbformat.writes(nb), encoding="utf-8")
    return ["counter_lck.ipynb"], ["counter_lck.ipynb", "no code cells"], ["counter_lck.ipynb", "コードセル"]


def not_inferable(tmp: Path):
    (tmp / "homework.py").write_text(reference("counter_lck"), encoding="utf-8")
    return ["homework.py"], ["homework.py", "--exercise", *IDS], ["homework.py", "--exercise", *IDS]


def not_inferable_close_name(tmp: Path):
    (tmp / "countr_lck.py").write_text(reference("counter_lck"), encoding="utf-8")
    return (["countr_lck.py"], ["countr_lck.py", "did you mean counter_lck", *IDS],
            ["countr_lck.py", "もしかして counter_lck", *IDS])


def not_inferable_ambiguous(tmp: Path):
    (tmp / "counter_lck_counter_smp.py").write_text(reference("counter_lck"), encoding="utf-8")
    return (["counter_lck_counter_smp.py"], ["counter_lck", "counter_smp", "--exercise"],
            ["counter_lck", "counter_smp", "--exercise"])


def not_python(tmp: Path):
    (tmp / "counter_lck.txt").write_text(reference("counter_lck"), encoding="utf-8")
    return ["counter_lck.txt"], ["counter_lck.txt", ".py", ".ipynb"], ["counter_lck.txt", ".py", ".ipynb"]


def unknown_exercise(tmp: Path):
    (tmp / "counter_lck.py").write_text(reference("counter_lck"), encoding="utf-8")
    return ["counter_lck.py", "--exercise", "nope"], ["nope", *IDS], ["nope", *IDS]


def unknown_exercise_typo(tmp: Path):
    (tmp / "counter_lck.py").write_text(reference("counter_lck"), encoding="utf-8")
    return (["counter_lck.py", "--exercise", "counter_lk"], ["counter_lk", "Did you mean counter_lck", *IDS],
            ["counter_lk", "もしかして counter_lck", *IDS])


def no_file(tmp: Path):
    return [], ["grade counter_lck.py"], ["grade counter_lck.py", "ファイル"]


def unknown_option(tmp: Path):
    (tmp / "counter_lck.py").write_text(reference("counter_lck"), encoding="utf-8")
    return ["counter_lck.py", "--frobnicate"], ["--frobnicate"], ["--frobnicate"]


def unreadable(tmp: Path):
    if os.name != "posix":
        pytest.skip("chmod 000 makes a file unreadable only on POSIX")
    if os.geteuid() == 0:
        pytest.skip("running as root: root reads a chmod 000 file anyway, so 'cannot read' cannot be provoked")
    path = tmp / "counter_lck.py"
    path.write_text(reference("counter_lck"), encoding="utf-8")
    path.chmod(0)
    return ["counter_lck.py"], ["counter_lck.py", "cannot read"], ["counter_lck.py", "読めません"]


CANNOT_GRADE: dict[str, Case] = {
    "missing_path": missing,
    "directory": directory,
    "empty_file": empty,
    "whitespace_only": whitespace_only,
    "binary_file": binary,
    "binary_file_without_nul": binary_without_nul,
    "huge_file": huge,
    "undecodable_bytes": undecodable,
    "notebook_not_json": notebook_not_json,
    "notebook_no_code_cells": notebook_no_code_cells,
    "exercise_not_inferable": not_inferable,
    "exercise_not_inferable_close_name": not_inferable_close_name,
    "exercise_not_inferable_ambiguous": not_inferable_ambiguous,
    "not_a_py_or_ipynb": not_python,
    "unknown_exercise": unknown_exercise,
    "unknown_exercise_typo": unknown_exercise_typo,
    "no_file_given": no_file,
    "unknown_option": unknown_option,
    "unreadable_file": unreadable,
}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("case", list(CANNOT_GRADE))
def test_cannot_grade_exits_2_with_one_line(case, lang, tmp_path, tmp_path_factory):
    args, must_en, must_ja = CANNOT_GRADE[case](tmp_path)
    scratch = tmp_path_factory.mktemp("scratch")
    proc = grade(*args, "--lang", lang, cwd=tmp_path, tmpdir=scratch)
    try:
        assert_clean(proc)
        # The engine's child may have been started before the arguments were read: it is gone.
        assert not list(scratch.iterdir()), f"left behind: {list(scratch.iterdir())}"
        assert proc.returncode == 2, f"rc={proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        lines = proc.stderr.splitlines()
        assert len(lines) == 1, f"stderr is not one line: {proc.stderr!r}"
        assert proc.stderr.endswith("\n")
        line = lines[0]
        assert line.startswith("grade: "), line
        assert proc.stdout == "", proc.stdout
        assert_language(line, lang)
        for part in must_en if lang == "en" else must_ja:
            assert part in line, f"{part!r} not in {line!r}"
    finally:
        if case == "unreadable_file":
            (tmp_path / "counter_lck.py").chmod(0o644)


# --- what can be graded ----------------------------------------------------------------------

def _line_of(source: str, needle: str) -> int:
    return next(i for i, line in enumerate(source.split("\n"), 1) if needle in line)


@pytest.fixture(scope="module")
def plain_reports(tmp_path_factory) -> dict[str, str]:
    """The terminal report of reference counter_lck.py, saved as plain UTF-8, per language."""
    tmp = tmp_path_factory.mktemp("plain")
    (tmp / "counter_lck.py").write_bytes(reference("counter_lck").encode("utf-8"))
    out = {}
    for lang in LANGS:
        proc = grade("counter_lck.py", "--lang", lang, cwd=tmp)
        assert_graded(proc, lang, 0)
        out[lang] = proc.stdout
    return out


@pytest.mark.parametrize("lang", LANGS)
def test_syntax_error_fails_runs_with_line_and_caret(lang, tmp_path):
    ref = reference("counter_lck")
    broken = ref.replace("    with lck:\n", "    with lck\n", 1)
    assert broken != ref
    lineno = _line_of(broken, "    with lck")
    try:
        compile(broken, "counter_lck.py", "exec")
        raise AssertionError("the broken source compiles")
    except SyntaxError as exc:
        assert exc.lineno == lineno
        py_offset = exc.offset  # 1-based column of Python's own caret
    (tmp_path / "counter_lck.py").write_text(broken, encoding="utf-8")
    proc = grade("counter_lck.py", "--lang", lang, cwd=tmp_path)
    checks = assert_graded(proc, lang, 1)
    assert checks["runs"] is False
    out = proc.stdout
    assert "SyntaxError" in out
    assert (f"line {lineno}" if lang == "en" else f"{lineno}行目") in out
    # The offending line, then a caret under the column Python itself points at.
    lines = out.splitlines()
    i = next(k for k, line in enumerate(lines) if line.strip() == "with lck")
    shown, caret = lines[i], lines[i + 1]
    assert caret.strip() and set(caret.strip()) == {"^"}, caret
    code_start = shown.index("with")
    source_line = broken.split("\n")[lineno - 1]
    indent = len(source_line) - len(source_line.lstrip())
    assert caret.index("^") - code_start == py_offset - 1 - indent, (shown, caret, py_offset)


@pytest.mark.parametrize("lang", LANGS)
def test_full_width_space_in_indentation_points_at_line_and_column(lang, tmp_path):
    ref = reference("counter_lck")
    target = "        now = cnt_dct[type_]"
    assert target in ref
    src = ref.replace(target, "    \u3000  now = cnt_dct[type_]", 1)  # column 5, as an IME types it
    lineno = _line_of(src, "\u3000")
    (tmp_path / "counter_lck.py").write_text(src, encoding="utf-8")
    proc = grade("counter_lck.py", "--lang", lang, cwd=tmp_path)
    checks = assert_graded(proc, lang, 1)
    assert checks["runs"] is False
    out = proc.stdout
    assert "U+3000" in out
    if lang == "en":
        assert f"line {lineno}, column 5" in out
        assert "full-width space" in out and "normal spaces" in out
    else:
        assert f"{lineno}行目の5文字目" in out
        assert "全角スペース" in out and "半角スペース" in out


@pytest.mark.parametrize("lang", LANGS)
def test_cp932_without_coding_line_is_graded_with_a_note(lang, tmp_path, plain_reports):
    data = reference("counter_lck").encode("cp932")
    assert b"coding" not in data.split(b"\n", 2)[0] + data.split(b"\n", 2)[1]
    (tmp_path / "counter_lck.py").write_bytes(data)
    proc = grade("counter_lck.py", "--lang", lang, cwd=tmp_path)
    checks = assert_graded(proc, lang, 0)
    assert checks == verdicts(plain_reports[lang])  # graded as if it were UTF-8
    notes = notes_section(proc.stdout)
    assert "CP932" in notes and "UTF-8" in notes and "coding" in notes
    if lang == "ja":
        assert "保存" in notes


@pytest.mark.parametrize("lang", LANGS)
def test_utf8_bom_and_crlf_are_accepted_silently(lang, tmp_path, plain_reports):
    data = b"\xef\xbb\xbf" + reference("counter_lck").replace("\n", "\r\n").encode("utf-8")
    (tmp_path / "counter_lck.py").write_bytes(data)
    proc = grade("counter_lck.py", "--lang", lang, cwd=tmp_path)
    assert_graded(proc, lang, 0)
    # Same file name, same seed: the very report of the plain UTF-8 file, so no note about BOM/CRLF.
    assert proc.stdout == plain_reports[lang]
    notes = notes_section(proc.stdout)
    for word in ("BOM", "CRLF", "UTF-8", "encoding", "文字コード", "改行"):
        assert word not in notes


def _magic_notebook() -> nbformat.NotebookNode:
    ref = reference("counter_lck")
    defs, main = ref.split('if __name__ == "__main__":', 1)
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# counter_lck"),
        nbformat.v4.new_code_cell("!pip install numpy"),
        nbformat.v4.new_code_cell(defs.rstrip() + "\n"),
        nbformat.v4.new_code_cell("%time total = sum(range(10))\nprint(total)"),
        nbformat.v4.new_code_cell('if __name__ == "__main__":' + main),
    ]
    return nb


@pytest.mark.parametrize("lang", LANGS)
def test_notebook_with_magics_is_graded_and_says_which_lines_were_disabled(lang, tmp_path):
    (tmp_path / "counter_lck.ipynb").write_text(nbformat.writes(_magic_notebook()), encoding="utf-8")
    proc = grade("counter_lck.ipynb", "--lang", lang, cwd=tmp_path)
    assert_graded(proc, lang, 0)
    notes = notes_section(proc.stdout)
    assert "!pip install numpy" in notes and "%time total = sum(range(10))" in notes
    if lang == "en":
        assert "code cell 1, line 1" in notes and "code cell 3, line 1" in notes
        assert "disabled" in notes
    else:
        assert "コードセル1の1行目" in notes and "コードセル3の1行目" in notes
        assert "無効" in notes


@pytest.mark.parametrize("lang", LANGS)
def test_notebook_syntax_error_points_at_cell_and_line(lang, tmp_path):
    nb = _magic_notebook()
    nb.cells[2].source = nb.cells[2].source.replace("    with lck:\n", "    with lck\n", 1)
    cell_line = _line_of(nb.cells[2].source, "    with lck")
    (tmp_path / "counter_lck.ipynb").write_text(nbformat.writes(nb), encoding="utf-8")
    proc = grade("counter_lck.ipynb", "--lang", lang, cwd=tmp_path)
    checks = assert_graded(proc, lang, 1)
    assert checks["runs"] is False
    where = f"code cell 2, line {cell_line}" if lang == "en" else f"コードセル2の{cell_line}行目"
    assert where in proc.stdout


@pytest.mark.parametrize("lang", LANGS)
def test_correct_notebook_passes(lang, tmp_path):
    ref = reference("fizz_buzz_mt")
    defs, main = ref.split('if __name__ == "__main__":', 1)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("## fizz_buzz_mt"),
                nbformat.v4.new_code_cell(defs.rstrip() + "\n"),
                nbformat.v4.new_code_cell('if __name__ == "__main__":' + main)]
    (tmp_path / "s2212345_fizz_buzz_mt.ipynb").write_text(nbformat.writes(nb), encoding="utf-8")
    proc = grade("s2212345_fizz_buzz_mt.ipynb", "--lang", lang, cwd=tmp_path)
    checks = assert_graded(proc, lang, 0)
    assert set(checks) == {"runs", "import_style", "worker_identity", "listing", "concurrent", "result", "integrity"}


# --- reports -----------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_junit_for_a_syntax_error(lang, tmp_path):
    broken = reference("counter_lck").replace("    with lck:\n", "    with lck\n", 1)
    lineno = _line_of(broken, "    with lck")
    (tmp_path / "counter_lck.py").write_text(broken, encoding="utf-8")
    junit = tmp_path / "out" / "junit.xml"
    junit.parent.mkdir()
    proc = grade("counter_lck.py", "--lang", lang, "--junit", str(junit), cwd=tmp_path)
    assert_graded(proc, lang, 1)
    assert junit.is_file()
    root = ET.parse(junit).getroot()
    cases = {(c.get("classname"), c.get("name")): c for c in root.iter("testcase")}
    runs = cases[("counter_lck", "runs")]
    failure = runs.find("failure")
    assert failure is not None, ET.tostring(runs, encoding="unicode")
    assert runs.find("skipped") is None and runs.find("error") is None
    text = failure.text or ""
    assert "SyntaxError" in text
    assert (f"line {lineno}" if lang == "en" else f"{lineno}行目") in text
    assert "^" in text
    assert "\n" not in failure.get("message", "")


@pytest.mark.parametrize("lang", LANGS)
def test_list_shows_every_exercise(lang, tmp_path):
    proc = grade("--list", "--lang", lang, cwd=tmp_path)
    assert_clean(proc)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    listed = {line.split()[0] for line in proc.stdout.splitlines() if line and not line[0].isspace()}
    assert listed == set(IDS)
    assert "runs" in proc.stdout and "spawn_safe" in proc.stdout
    assert_language(proc.stdout, lang)


def test_a_name_without_its_suffix_or_misspelt_is_pointed_at_the_file(tmp_path):
    (tmp_path / "counter_lck.py").write_text(reference("counter_lck"), encoding="utf-8")
    for given in ("counter_lck", "countr_lck.py"):
        proc = grade(given, "--lang", "en", cwd=tmp_path)
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
        assert "Did you mean counter_lck.py?" in proc.stderr, proc.stderr
    proc = grade("counter_lck", cwd=tmp_path)
    assert "もしかして counter_lck.py ですか？" in proc.stderr, proc.stderr


def test_version_and_help_in_the_course_language(tmp_path):
    from importlib.metadata import version

    proc = grade("--version", cwd=tmp_path)
    # The installed build's version (a build adds the commit count; a checkout in place says the release).
    assert proc.returncode == 0 and proc.stdout.strip() == f"grade {version('concurrency-grader')}", proc
    ja, en = grade("--help", cwd=tmp_path), grade("--help", "--lang", "en", cwd=tmp_path)
    assert ja.returncode == 0 and en.returncode == 0
    assert_language(ja.stdout.split("options:")[1], "ja")
    for sub in ("grade serve", "grade batch", "grade merge"):
        assert sub in ja.stdout and sub in en.stdout
    assert "終了ステータス" in ja.stdout and "exit status" in en.stdout
    for status in ("0  every check passed", "1  some check failed", "2  could not grade"):
        assert status in en.stdout, en.stdout

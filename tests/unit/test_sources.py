"""Unit tests for grader.sources: decoding submissions, notebooks, syntax messages, exercise names."""
from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest

from grader.model import GraderInputError, Msg
from grader.sources.infer import cannot_infer_message, infer_exercise, unknown_exercise_message
from grader.sources.submission import MAX_BYTES, Submission, load_submission, syntax_problem

SAMPLES = Path("/work/shared/samples")
CP932_SAMPLE = SAMPLES / "counter_smp" / "cp932__counter_smp.py"
NOTEBOOK_SAMPLE = SAMPLES / "fizz_buzz_mt" / "notebook__fizz_buzz_mt.ipynb"
IDS = ("fizz_buzz_mt", "counter_lck", "counter_smp", "counter_pp")

CODE = 'import threading\nprint("集計結果：", {"くさ": 3})\n'


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def refused(path: str) -> Msg:
    with pytest.raises(GraderInputError) as info:
        load_submission(path)
    return info.value.msg


def note_text(sub: Submission) -> str:
    return "\n".join(n.msg.ja + "\n" + n.msg.en for n in sub.notes)


# --- encodings -----------------------------------------------------------------------------

def test_plain_utf8_is_silent(tmp_path):
    sub = load_submission(write(tmp_path, "counter_lck.py", CODE.encode("utf-8")))
    assert sub.source == CODE
    assert sub.encoding == "utf-8"
    assert sub.notes == ()
    assert sub.filename == "counter_lck.py"
    assert sub.line_origin == ()


def test_path_is_kept_as_given_and_filename_overrides(tmp_path):
    path = write(tmp_path, "s2212345_counter_lck.py", CODE.encode())
    sub = load_submission(path, filename="counter_lck.py")
    assert sub.path == path
    assert sub.filename == "counter_lck.py"


def test_cp932_without_coding_line_is_decoded_with_note(tmp_path):
    sub = load_submission(write(tmp_path, "counter_lck.py", CODE.encode("cp932")))
    assert sub.source == CODE
    assert sub.encoding == "cp932"
    assert len(sub.notes) == 1
    note = sub.notes[0].msg
    assert "CP932" in note.en and "UTF-8" in note.en and "coding: cp932" in note.en
    assert "ANSI" in note.ja and "UTF-8" in note.ja


def test_cp932_sample_file():
    sub = load_submission(str(CP932_SAMPLE))
    assert sub.encoding == "cp932"
    assert "集計結果" in sub.source
    assert any("CP932" in n.msg.en for n in sub.notes)
    assert syntax_problem(sub.source, sub.filename) is None


def test_cp932_only_characters_decode(tmp_path):
    # ① and ～ exist in CP932 (Windows) but not in strict Shift_JIS.
    text = "# ①～\nx = '①'\n"
    sub = load_submission(write(tmp_path, "a.py", text.encode("cp932")))
    assert sub.source == text and sub.encoding == "cp932"


def test_utf8_bom_is_stripped_silently(tmp_path):
    sub = load_submission(write(tmp_path, "a.py", b"\xef\xbb\xbf" + CODE.encode()))
    assert sub.source == CODE
    assert not sub.source.startswith("\ufeff")
    assert sub.encoding == "utf-8-sig"
    assert sub.notes == ()


def test_crlf_and_lone_cr_become_lf(tmp_path):
    sub = load_submission(write(tmp_path, "a.py", b"x = 1\r\ny = 2\rz = 3\r\n"))
    assert sub.source == "x = 1\ny = 2\nz = 3\n"
    assert sub.notes == ()


def test_crlf_cp932_together(tmp_path):
    sub = load_submission(write(tmp_path, "a.py", CODE.replace("\n", "\r\n").encode("cp932")))
    assert sub.source == CODE and sub.encoding == "cp932"


def test_coding_line_is_used_and_rewritten_to_utf8(tmp_path):
    text = "# -*- coding: cp932 -*-\n" + CODE
    sub = load_submission(write(tmp_path, "a.py", text.encode("cp932")))
    assert sub.encoding == "cp932"
    assert sub.notes == ()  # Python runs it as is: nothing to tell
    assert sub.source.splitlines()[0] == "# -*- coding: utf-8 -*-"
    assert sub.source.count("\n") == text.count("\n")
    assert "集計結果" in sub.source


def test_coding_line_on_second_line(tmp_path):
    text = "#!/usr/bin/env python\n# coding=shift_jis\nx = 'あ'\n"
    sub = load_submission(write(tmp_path, "a.py", text.encode("shift_jis")))
    assert sub.encoding == "shift_jis"
    assert sub.source.split("\n")[1] == "# coding=utf-8"
    assert "x = 'あ'" in sub.source


def test_utf8_coding_line_is_kept(tmp_path):
    text = "# -*- coding: utf-8 -*-\n" + CODE
    sub = load_submission(write(tmp_path, "a.py", text.encode()))
    assert sub.source == text and sub.encoding == "utf-8"


def test_coding_line_that_lies_falls_back_with_note(tmp_path):
    text = "# coding: utf-8\n" + CODE
    sub = load_submission(write(tmp_path, "a.py", text.encode("cp932")))
    assert sub.encoding == "cp932"
    assert "集計結果" in sub.source
    assert "declares coding utf-8" in note_text(sub)


def test_unknown_coding_declared(tmp_path):
    sub = load_submission(write(tmp_path, "a.py", b"# coding: klingon\nx = 1\n"))
    assert sub.encoding == "utf-8"
    assert "klingon" in note_text(sub)
    assert sub.source.startswith("# coding: utf-8\n")


def test_never_latin1(tmp_path):
    # Neither UTF-8 nor CP932 (0x80 is not a CP932 character): refused, not read as latin-1.
    msg = refused(write(tmp_path, "a.py", b"x = '\x80\x80'\n" * 3))
    assert "a.py" in msg.en and "UTF-8" in msg.en
    assert "a.py" in msg.ja


def test_utf16_with_bom_is_decoded_with_note(tmp_path):
    sub = load_submission(write(tmp_path, "a.py", CODE.encode("utf-16")))
    assert sub.source == CODE and sub.encoding == "utf-16"
    assert "UTF-16" in note_text(sub)


# --- refusals ------------------------------------------------------------------------------

def test_missing_file(tmp_path):
    msg = refused(str(tmp_path / "nope.py"))
    assert "nope.py" in msg.en and "does not exist" in msg.en
    assert "見つかりません" in msg.ja


def test_directory(tmp_path):
    msg = refused(str(tmp_path))
    assert "directory" in msg.en and "フォルダ" in msg.ja


def test_empty_file(tmp_path):
    msg = refused(write(tmp_path, "a.py", b""))
    assert "a.py is empty" in msg.en and "空" in msg.ja


@pytest.mark.parametrize("data", [b"  \n\t\r\n", b"\xef\xbb\xbf\n\n", "\u3000\n".encode()])
def test_whitespace_only_file(tmp_path, data):
    assert "empty" in refused(write(tmp_path, "a.py", data)).en


def test_binary_with_nul(tmp_path):
    msg = refused(write(tmp_path, "a.py", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
    assert "binary" in msg.en and "バイナリ" in msg.ja


def test_binary_without_nul(tmp_path):
    data = bytes(range(1, 256)) * 8
    assert "binary" in refused(write(tmp_path, "a.py", data)).en


def test_too_large(tmp_path):
    msg = refused(write(tmp_path, "a.py", b"x = 1\n" * (MAX_BYTES // 6 + 1)))
    assert "too large" in msg.en and "1 MiB" in msg.en


def test_refusal_is_one_line(tmp_path):
    msg = refused(str(tmp_path / "nope.py"))
    assert "\n" not in msg.en and "\n" not in msg.ja


# --- notebooks -----------------------------------------------------------------------------

def make_notebook(tmp_path: Path, cells: list, name: str = "counter_lck.ipynb") -> str:
    nb = nbformat.v4.new_notebook()
    for kind, src in cells:
        new = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        nb.cells.append(new(src))
    return write(tmp_path, name, nbformat.writes(nb).encode())


def test_notebook_sample():
    sub = load_submission(str(NOTEBOOK_SAMPLE))
    assert sub.filename == "notebook__fizz_buzz_mt.py"
    assert "threading.enumerate" in sub.source
    assert syntax_problem(sub.source, sub.filename) is None
    assert len(sub.line_origin) == sub.source.count("\n")
    assert "第11回" not in sub.source  # markdown cells are not code


def test_notebook_joins_code_cells_with_blank_line(tmp_path):
    path = make_notebook(tmp_path, [("markdown", "# title"), ("code", "x = 1\n"), ("code", ""),
                                    ("code", "y = 2\nprint(x + y)")])
    sub = load_submission(path)
    assert sub.source == "x = 1\n\ny = 2\nprint(x + y)\n"
    assert sub.filename == "counter_lck.py"
    assert sub.notes == ()


def test_notebook_line_origin_maps_to_code_cells(tmp_path):
    path = make_notebook(tmp_path, [("markdown", "intro"), ("code", "a = 1\nb = 2"), ("code", ""),
                                    ("markdown", "more"), ("code", "c = 3\nd = 4")])
    sub = load_submission(path)
    lines = sub.source.split("\n")
    assert lines[4] == "d = 4"
    # code cells are numbered among code cells, the empty one included (it is still a cell)
    assert sub.line_origin[4] == "code cell 3, line 2"
    assert sub.origin(5) == Msg(ja="コードセル3の2行目", en="code cell 3, line 2")
    assert sub.origin(1) == Msg(ja="コードセル1の1行目", en="code cell 1, line 1")
    assert sub.origin(99) == Msg(ja="99行目", en="line 99")


def test_py_origin():
    sub = Submission("a.py", "x = 1\n", "a.py", "utf-8", ())
    assert sub.origin(12) == Msg(ja="12行目", en="line 12")


def test_notebook_magics_are_commented_keeping_line_count(tmp_path):
    cell = "%matplotlib inline\n!pip install foo\nfiles = !ls\nx = 1"
    path = make_notebook(tmp_path, [("code", "import threading"), ("code", cell)])
    sub = load_submission(path)
    lines = sub.source.split("\n")
    assert lines[2:6] == ["# [grader] %matplotlib inline", "# [grader] !pip install foo",
                          "# [grader] files = !ls", "x = 1"]
    assert sub.line_origin[5] == "code cell 2, line 4"
    assert syntax_problem(sub.source, sub.filename) is None
    notes = note_text(sub)
    assert "code cell 2, line 1 (%matplotlib inline)" in notes
    assert "code cell 2, line 3 (files = !ls)" in notes
    assert "コードセル2の2行目" in notes


def test_notebook_cell_magic_disables_whole_cell(tmp_path):
    path = make_notebook(tmp_path, [("code", "%%bash\necho hi\nls -l"), ("code", "x = 1")])
    sub = load_submission(path)
    assert sub.source.split("\n")[:3] == ["# [grader] %%bash", "# [grader] echo hi", "# [grader] ls -l"]
    assert "code cell 1, whole cell (%%bash)" in note_text(sub)
    assert syntax_problem(sub.source, sub.filename) is None


def test_notebook_time_magics_keep_the_code(tmp_path):
    path = make_notebook(tmp_path, [("code", "%%time\nx = 1\n%time y = x + 1"), ("code", "print(y)")])
    sub = load_submission(path)
    assert sub.source.split("\n")[:3] == ["# [grader] %%time", "x = 1", "y = x + 1"]
    assert "the code itself ran" in note_text(sub)


def test_notebook_magic_alone_in_block_stays_valid(tmp_path):
    cell = "try:\n    import foo\nexcept ImportError:\n    !pip install foo\nx = 1"
    sub = load_submission(make_notebook(tmp_path, [("code", cell)]))
    assert sub.source.split("\n")[3] == "    pass  # [grader] !pip install foo"
    assert syntax_problem(sub.source, sub.filename) is None


def test_notebook_percent_inside_brackets_or_strings_is_not_magic(tmp_path):
    cell = 'x = (10\n     % 3)\ns = """\n!important\n%d items\n"""\ny = x != 1'
    sub = load_submission(make_notebook(tmp_path, [("code", cell)]))
    assert sub.source == cell + "\n"
    assert sub.notes == ()


def test_notebook_writefile_only(tmp_path):
    path = make_notebook(tmp_path, [("code", "%%writefile counter_lck.py\nimport threading\nx = 1"),
                                    ("code", "!python counter_lck.py")])
    sub = load_submission(path)
    assert sub.source == "import threading\nx = 1\n"
    assert sub.origin(2) == Msg(ja="コードセル1の3行目", en="code cell 1, line 3")
    assert "%%writefile" in note_text(sub)


def test_notebook_invalid_json(tmp_path):
    msg = refused(write(tmp_path, "a.ipynb", b"{not json"))
    assert "a.ipynb is not a valid Jupyter notebook" in msg.en
    assert "ノートブック" in msg.ja


@pytest.mark.parametrize("data", [b"[1, 2]", b'{"hello": 1}', b'{"nbformat": 4, "cells": 5}'])
def test_notebook_json_but_not_notebook(tmp_path, data):
    assert "not a valid Jupyter notebook" in refused(write(tmp_path, "a.ipynb", data)).en


def test_notebook_without_code_cells(tmp_path):
    msg = refused(make_notebook(tmp_path, [("markdown", "only text")]))
    assert "no code cells" in msg.en and "コードセルがありません" in msg.ja


def test_notebook_with_only_empty_code_cells(tmp_path):
    assert "no code" in refused(make_notebook(tmp_path, [("code", ""), ("code", "\n  \n")])).en


def test_notebook_source_as_list_of_lines(tmp_path):
    nb = {"nbformat": 4, "nbformat_minor": 4, "metadata": {},
          "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 1,
                     "source": ["x = 1\n", "print(x)"]}]}
    sub = load_submission(write(tmp_path, "a.ipynb", json.dumps(nb).encode()))
    assert sub.source == "x = 1\nprint(x)\n"


# --- syntax_problem ------------------------------------------------------------------------

def test_syntax_problem_none_when_it_compiles():
    assert syntax_problem(CODE, "a.py") is None


def test_syntax_problem_like_python():
    src = "x = 1\nfor i in range(3)\n    print(i)\n"
    msg = syntax_problem(src, "counter_lck.py")
    first, line, caret = msg.en.split("\n")[:3]
    assert first.startswith("SyntaxError: ") and first.endswith("(line 2)")
    assert line == "    for i in range(3)"
    assert caret.strip() == "^" and len(caret) - 1 == len("    for i in range(3)")
    assert "2行目" in msg.ja


def test_syntax_problem_uses_origin():
    sub = Submission("a.ipynb", "x = 1\n\ny = (\n", "a.py", "utf-8", (),
                     ("code cell 1, line 1", "code cell 1, line 2", "code cell 2, line 1"))
    msg = syntax_problem(sub.source, sub.filename, sub.origin)
    assert "(code cell 2, line 1)" in msg.en and "コードセル2の1行目" in msg.ja


def test_syntax_problem_fullwidth_space_in_indentation():
    src = "def f():\n\u3000\u3000return 1\n"
    msg = syntax_problem(src, "a.py")
    assert "line 2, column 1" in msg.en and "U+3000" in msg.en
    assert "normal spaces" in msg.en
    assert "2行目の1文字目" in msg.ja and "全角スペースを半角スペースに置き換えてください" in msg.ja


def test_syntax_problem_fullwidth_space_mid_line():
    src = "x = 1\ny = x\u3000+ 1\n"
    msg = syntax_problem(src, "a.py")
    assert "line 2, column 6" in msg.en
    assert msg.en.split("\n")[2] == "         ^"  # under the U+3000, after "y = x"


def test_syntax_problem_nbsp():
    msg = syntax_problem("x = 1\u00a0+ 2\n", "a.py")
    assert "line 1, column 6" in msg.en and "U+00A0" in msg.en
    assert "1行目の6文字目" in msg.ja


def test_syntax_problem_does_not_blame_space_inside_string():
    msg = syntax_problem('print("\u3000")\nif x\n', "a.py")
    assert "U+3000" not in msg.en and "(line 2)" in msg.en


def test_syntax_problem_caret_counts_wide_characters():
    # Full-width characters take two terminal columns: the carets must still line up.
    msg = syntax_problem('d = 1\nprint("集計結果：" d)\n', "a.py")
    line, caret = msg.ja.split("\n")[1:3]
    assert line == '    print("集計結果：" d)'
    assert caret == "    " + " " * len("print(") + "^" * (2 + 2 * 5 + 2)


def test_syntax_problem_indentation_error():
    msg = syntax_problem("def f():\nreturn 1\n", "a.py")
    assert msg.en.startswith("IndentationError: ") and "(line 2)" in msg.en


# --- infer_exercise ------------------------------------------------------------------------

@pytest.mark.parametrize("name", [
    "counter_lck.py", "s2212345_counter_lck.py", "counter_lck (1).py", "counter_lck.ipynb",
    "Counter_LCK.py", "counter-lck.py", "counterlck.py", "2212345-counter_lck-v2.py",
    "ｃｏｕｎｔｅｒ＿ｌｃｋ.py", "COUNTER LCK.PY", "佐藤 花子_123457_assignsubmission_file_counter_lck.py",
])
def test_infer_exercise_finds_counter_lck(name):
    assert infer_exercise(name, IDS) == "counter_lck"


def test_infer_exercise_uses_file_name_not_folders():
    assert infer_exercise(os.path.join("counter_pp", "s1_fizz_buzz_mt.py"), IDS) == "fizz_buzz_mt"


@pytest.mark.parametrize("name", ["counter.py", "counter_mt.py", "counter_lck.py.txt", "counter_lck.txt",
                                  "fizzbuzz.py", "README.md"])
def test_infer_exercise_negatives(name):
    assert infer_exercise(name, IDS) is None


def test_infer_exercise_longest_match_wins():
    assert infer_exercise("counter_lck.py", ("counter", "counter_lck")) == "counter_lck"


def test_infer_exercise_tie_is_ambiguous():
    assert infer_exercise("counter_lck_counter_smp.py", IDS) is None
    msg = cannot_infer_message("counter_lck_counter_smp.py", IDS)
    assert "counter_lck, counter_smp" in msg.en and "--exercise" in msg.en


def test_cannot_infer_message():
    msg = cannot_infer_message("hw/counter.py", IDS)
    assert "counter.py" in msg.en and "--exercise ID" in msg.en
    assert "counter_lck, counter_pp, counter_smp, fizz_buzz_mt" in msg.en
    assert "--exercise ID" in msg.ja and "counter_lck" in msg.ja
    assert "\n" not in msg.en


def test_cannot_infer_message_suggests_close_name():
    assert "did you mean counter_lck?" in cannot_infer_message("counter_lk.py", IDS).en


def test_cannot_infer_message_wrong_suffix():
    msg = cannot_infer_message("counter_lck.py.txt", IDS)
    assert ".py or .ipynb" in msg.en and ".ipynb" in msg.ja


def test_unknown_exercise_message():
    msg = unknown_exercise_message("counter_lk", IDS)
    assert "unknown exercise counter_lk" in msg.en and "Did you mean counter_lck?" in msg.en
    assert "counter_lck, counter_pp, counter_smp, fizz_buzz_mt" in msg.en
    assert "もしかして counter_lck" in msg.ja


def test_unknown_exercise_message_without_close_match():
    msg = unknown_exercise_message("quicksort", IDS)
    assert "Did you mean" not in msg.en and "fizz_buzz_mt" in msg.en


def test_unknown_exercise_message_none_given():
    assert "no exercise given" in unknown_exercise_message(None, IDS).en

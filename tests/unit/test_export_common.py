"""What every export and every platform's grading step shares: bad paths are one line, never a traceback."""
from __future__ import annotations

import pytest

from grader.export import coderunner, common, github_classroom, gradescope, prairielearn
from grader.export.cli import run_export
from grader.model import GraderInputError


def test_out_must_be_a_folder_where_a_folder_is_written(tmp_path):
    common.out_folder(tmp_path / "new")  # made later, as needed
    (tmp_path / "f").write_text("x")
    with pytest.raises(GraderInputError) as err:
        common.out_folder(tmp_path / "f")
    assert "--out must be a folder" in err.value.msg.en and "はフォルダ" in err.value.msg.ja


def test_a_place_that_cannot_be_written_is_one_line(tmp_path):
    (tmp_path / "f").write_text("x")  # a file where a folder would have to be: root cannot either
    with pytest.raises(GraderInputError) as err:
        common.write_text(tmp_path / "f" / "sub" / "a.txt", "x")
    assert err.value.msg.en.startswith(f"cannot write {tmp_path / 'f' / 'sub' / 'a.txt'}: ")
    with pytest.raises(GraderInputError) as err:
        with common.writing(tmp_path / "f"):
            (tmp_path / "f" / "b").write_bytes(b"")
    assert err.value.msg.ja.startswith("書き込めません: ")


def test_write_bytes_makes_the_folder(tmp_path):
    common.write_bytes(tmp_path / "a" / "b" / "c.bin", b"\x00\x01")
    assert (tmp_path / "a" / "b" / "c.bin").read_bytes() == b"\x00\x01"


@pytest.mark.parametrize("platform, out, said", [("gradescope", "autograder.txt", "a .zip"),
                                                 ("coderunner", "questions.zip", "an .xml")])
def test_an_export_to_a_file_of_the_wrong_kind_is_refused_before_anything_is_built(tmp_path, platform, out, said):
    with pytest.raises(GraderInputError) as err:
        run_export([platform, "--out", str(tmp_path / out)], "en")
    assert f"--out must be {said} file" in err.value.msg.en
    assert not (tmp_path / out).exists()


@pytest.mark.parametrize("module", [gradescope, github_classroom, prairielearn, coderunner])
def test_each_platform_step_without_a_command_says_its_usage(module, capsys):
    assert module.main([]) == 2
    assert module.main(["nonsense"]) == 2
    assert capsys.readouterr().err.count("usage: python -m grader.export.") == 2


def test_the_steps_take_the_same_language_and_seed_options():
    args = common.step_parser("x").parse_args([])
    assert (args.lang, args.seed) == ("ja", 1)
    assert common.step_parser("x").parse_args(["--lang", "en", "--seed", "7"]).seed == 7


def test_gradescope_self_test_names_the_course(capsys):
    assert gradescope.main(["--self-test"]) == 0
    assert capsys.readouterr().out.startswith("concurrency grader ready: ")

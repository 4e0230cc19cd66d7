"""The platforms' result shapes (Gradescope, PrairieLearn, GitHub Classroom, CodeRunner), checked
against small JSON Schemas written from each platform's documentation (tests/schemas/), and the
pure parts of ``grade export``: the workflow, the wheel, the command line's refusals."""
from __future__ import annotations

import base64
import hashlib
import io
import json
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
import yaml

from grader.cli.main import main
from grader.model import Failure, Msg, Note
from grader.reports import fragment, prairielearn
from grader.reports.coderunner import error_coderunner, render_coderunner
from grader.reports.fragment import Ungraded
from grader.reports.github_classroom import encode_result, error_classroom, render_classroom
from grader.reports.gradescope import dumps, render_gradescope, render_gradescope_autograder
from grader.reports.prairielearn import render_prairielearn, ungradable_prairielearn

from test_html import check, lost_update_failure, result  # the same hand-built results the HTML tests use

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
SVG_NS = "{http://www.w3.org/2000/svg}"
HOSTILE = "<script>alert(1)</script>```\x1b[31m"


def schema(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


def validate(obj, name: str) -> None:
    jsonschema.validate(json.loads(dumps(obj)), schema(name))


def failing():
    """counter_lck with a lost update (its timeline drawn) and a hostile failure text."""
    hostile = Failure(summary=Msg.same(f"thread {HOSTILE} held no lock"), observed=Msg.same(HOSTILE))
    return result(check("runs", True), check("tally", False, 3.0, lost_update_failure()),
                  check("lock", False, 2.0, hostile), check("join", True),
                  notes=(Note(Msg("注意 <b>", "note <b>")),))


def passing():
    return result(check("runs", True), check("tally", True, 3.0), check("join", True))


UNGRADED = Ungraded("counter_lck", Msg("Lockによる排他制御", "Mutual exclusion with a Lock"),
                    Msg("counter_lck.py が提出されていません", "no counter_lck.py was handed in"),
                    (("runs", Msg.same("runs"), 1.0), ("tally", Msg.same("tally"), 3.0)))


# ------------------------------------------------------------------------------- Gradescope

@pytest.mark.parametrize("fmt", ["md", "html"])
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_gradescope_autograder_shape(fmt, lang):
    r = failing()
    obj = render_gradescope_autograder([r], lang, fmt, "after_due_date")
    validate(obj, "gradescope-results.schema.json")
    assert obj["score"] == r.score == 2
    assert obj["output_format"] == obj["test_output_format"] == fmt
    assert obj["visibility"] == "after_due_date" and obj["stdout_visibility"] == "hidden"
    assert [t["status"] for t in obj["tests"]] == ["passed", "failed", "failed", "passed"]
    assert [t["number"] for t in obj["tests"]] == ["1", "2", "3", "4"]
    assert sum(t["max_score"] for t in obj["tests"]) == r.max_score
    assert all(t["visibility"] == "after_due_date" for t in obj["tests"])
    assert obj["tests"][0]["output"] == ""
    tally = obj["tests"][1]["output"]
    assert "Thread" in tally
    if fmt == "html":
        assert "<script>" not in obj["output"] and "&lt;script&gt;" in obj["output"]
        assert "\x1b" not in obj["output"]
        assert "<svg" in tally and "<svg" in obj["output"]  # the interleaving drawn
        ET.fromstring(f"<div>{obj['output'].replace('<hr>', '<hr/>')}</div>")  # well-formed fragment
    else:
        assert "```text" in tally
        # a fence the hostile text cannot close
        lock = obj["tests"][2]["output"]
        assert lock.startswith("````text") and lock.rstrip().endswith("````")


def test_gradescope_autograder_is_deterministic_and_keeps_the_old_shape():
    r = failing()
    assert dumps(render_gradescope_autograder([r], "ja")) == dumps(render_gradescope_autograder([r], "ja"))
    validate(render_gradescope(r, "en"), "gradescope-results.schema.json")  # grade FILE --json


def test_gradescope_ungraded_and_several_exercises():
    obj = render_gradescope_autograder([UNGRADED, replace(passing(), exercise="counter_smp")], "en", "md")
    validate(obj, "gradescope-results.schema.json")
    assert obj["score"] == 5
    names = [t["name"] for t in obj["tests"]]
    assert names[:2] == ["counter_lck/runs: runs", "counter_lck/tally: tally"]
    assert names[2].startswith("counter_smp/runs: ")
    assert obj["tests"][0]["output"] == "no counter_lck.py was handed in"
    assert "no counter\\_lck.py was handed in" in obj["output"]
    assert [e["graded"] for e in obj["extra_data"]["exercises"]] == [False, True]


def test_gradescope_refuses_unknown_options():
    with pytest.raises(ValueError):
        render_gradescope_autograder([passing()], "en", "pdf")
    with pytest.raises(ValueError):
        render_gradescope_autograder([passing()], "en", "md", "sometimes")


# ----------------------------------------------------------------------------- PrairieLearn

@pytest.mark.parametrize("lang", ["ja", "en"])
def test_prairielearn_shape(lang):
    r = failing()
    obj = render_prairielearn(r, lang)
    validate(obj, "prairielearn-results.schema.json")
    assert obj["gradable"] is True and obj["score"] == pytest.approx(2 / 7)
    assert [t["points"] for t in obj["tests"]] == [1, 0, 0, 1]
    tally = obj["tests"][1]
    assert tally["message"] and "Thread" in tally["output"]
    (image,) = tally["images"]
    assert image["url"].startswith("data:image/svg+xml;base64,")
    svg = ET.fromstring(base64.b64decode(image["url"].split(",", 1)[1]))
    assert svg.tag == f"{SVG_NS}svg" and image["label"]
    assert "images" not in obj["tests"][0]  # a passed check has no picture
    assert "\x1b" not in dumps(obj)


def test_prairielearn_ungradable_and_size_limit(monkeypatch):
    obj = ungradable_prairielearn(Msg("空のファイルです", "the file is empty"), "en")
    validate(obj, "prairielearn-results.schema.json")
    assert obj["gradable"] is False and obj["format_errors"] == ["the file is empty"]
    monkeypatch.setattr(prairielearn, "SIZE_LIMIT", 2000)  # too small for the pictures: they go first
    small = render_prairielearn(failing(), "en")
    validate(small, "prairielearn-results.schema.json")
    assert not any("images" in t for t in small["tests"])


# ------------------------------------------------------------------------- GitHub Classroom

def test_github_classroom_shape_and_scores():
    r = failing()
    obj = render_classroom(r, "en")
    validate(obj, "github-classroom-result.schema.json")
    assert obj["status"] == "fail" and obj["max_score"] == r.max_score
    assert sum(t["score"] for t in obj["tests"]) == r.score  # the reporter's total is ours
    assert [t["status"] for t in obj["tests"]] == ["pass", "fail", "fail", "pass"]
    assert obj["tests"][1]["test_code"] == "grade counter_lck.py --seed 1"
    assert json.loads(base64.b64decode(encode_result(obj))) == json.loads(dumps(obj))
    ok = render_classroom(passing(), "ja")
    validate(ok, "github-classroom-result.schema.json")
    assert ok["status"] == "pass"


def test_github_classroom_error():
    obj = error_classroom(Msg("読めません", "unreadable"), "en", UNGRADED.checks)
    validate(obj, "github-classroom-result.schema.json")
    assert obj["status"] == "error" and obj["max_score"] == 4
    assert {t["status"] for t in obj["tests"]} == {"error"}
    bare = error_classroom(Msg("読めません", "unreadable"), "en")
    validate(bare, "github-classroom-result.schema.json")  # never an empty test list (the reporter divides by it)


def test_github_classroom_workflow():
    from grader.exercises import catalog
    from grader.export.github_classroom import workflow

    wf = yaml.safe_load(workflow(["counter_lck", "counter_smp"], "ja"))
    assert wf["name"] == "Autograding Tests"
    steps = wf["jobs"]["run-autograding-tests"]["steps"]
    graders = [s for s in steps if s.get("uses") == "classroom-resources/autograding-command-grader@v1"]
    want = [(e, c) for e in ("counter_lck", "counter_smp") for c in catalog.get(e).checks]
    assert len(graders) == len(want)
    for step, (eid, c) in zip(graders, want):
        assert step["with"]["max-score"] == int(c.points)
        assert step["with"]["command"].endswith(f"{eid}.json {c.id}")
        assert {"test-name", "command", "timeout", "max-score"} <= set(step["with"])
    reporter = steps[-1]
    assert reporter["uses"] == "classroom-resources/autograding-grading-reporter@v1"
    runners = reporter["with"]["runners"].split(",")
    assert runners == [s["id"] for s in graders]
    for rid in runners:  # the reporter reads ${RUNNER.toUpperCase()}_RESULTS
        assert reporter["env"][f"{rid.upper()}_RESULTS"] == f"${{{{steps.{rid}.outputs.result}}}}"


# ------------------------------------------------------------------------------- CodeRunner

@pytest.mark.parametrize("lang", ["ja", "en"])
def test_coderunner_shape(lang):
    r = failing()
    obj = render_coderunner(r, lang)
    validate(obj, "coderunner-combinator.schema.json")
    assert obj["fraction"] == pytest.approx(2 / 7) and obj["showoutputonly"] is False
    header, *rows = obj["testresults"]
    assert header[0] == "iscorrect" and len(obj["columnformats"]) == len(header) - 1
    assert [row[0] for row in rows] == [1, 0, 0, 1] and all(len(row) == len(header) for row in rows)
    assert "<svg" in obj["epiloguehtml"] and "<script>" not in obj["epiloguehtml"]
    err = error_coderunner(Msg("空です", "empty"), lang)
    validate(err, "coderunner-combinator.schema.json")
    assert err["fraction"] == 0


def test_markdown_and_html_fragments_escape_what_the_program_printed():
    r = failing()
    md = fragment.report_markdown(r, "en")
    assert "\x1b" not in md
    page = fragment.report_html(r, "en")
    assert "<script>" not in page and "<style" not in page and " id=\"cg-" in page


# ------------------------------------------------------------------------ the wheel, the CLI

def test_wheel_is_complete_and_reproducible():
    from grader.export.wheel import wheel_bytes, wheel_name

    data = wheel_bytes()
    assert data == wheel_bytes()
    zf = zipfile.ZipFile(io.BytesIO(data))
    names = zf.namelist()
    assert "grader/cli/main.py" in names and "grader/_course/assignments/course.yaml" in names
    assert any(n.startswith("grader/_course/data/") for n in names)
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    info = wheel_name().split("-py3")[0] + ".dist-info"
    meta = zf.read(f"{info}/METADATA").decode()
    assert "Name: concurrency-grader" in meta and "Requires-Dist: " in meta and "extra ==" not in meta
    record = {line.split(",")[0]: line.split(",")[1] for line in zf.read(f"{info}/RECORD").decode().splitlines()}
    for name in names:
        if name.endswith("RECORD"):
            continue
        digest = base64.urlsafe_b64encode(hashlib.sha256(zf.read(name)).digest()).rstrip(b"=").decode()
        assert record[name] == f"sha256={digest}"
    assert b"grade = grader.cli.main:main" in zf.read(f"{info}/entry_points.txt")


@pytest.mark.parametrize("argv", [
    ["export"], ["export", "moodle", "--out", "x"], ["export", "gradescope"],
    ["export", "gradescope", "--out", "autograder.tar"], ["export", "coderunner", "--out", "q.json"],
    ["export", "gradescope", "--out", "a.zip", "--exercise", "nope"],
    ["export", "gradescope", "--out", "a.zip", "--visibility", "sometimes"],
])
def test_export_refuses_bad_input_in_one_line(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("grade: ") and err.count("\n") == 1 and "Traceback" not in err
    assert not list(tmp_path.iterdir())


def test_help_mentions_export(capsys):
    for lang in ("ja", "en"):
        with pytest.raises(SystemExit):
            main(["--help", "--lang", lang])
        out = capsys.readouterr().out
        assert "grade export" in out and "--github-classroom" in out and "--prairielearn" in out


def test_find_submission_by_name(tmp_path):
    from grader.export.common import find_submission

    (tmp_path / "__MACOSX").mkdir()
    (tmp_path / "__MACOSX" / "counter_lck.py").write_text("x = 1\n")
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "s2212345_Counter_LCK (1).py").write_text("x = 1\n")
    path, why = find_submission(tmp_path, "counter_lck", True)
    assert path == tmp_path / "work" / "s2212345_Counter_LCK (1).py" and why is None
    other = tmp_path / "other"
    other.mkdir()
    (other / "mine.py").write_text("x = 1\n")
    assert find_submission(other, "counter_lck", True)[0] == other / "mine.py"  # one file of its own name
    assert find_submission(other, "counter_lck", False)[0] is None  # several exercises: by name only
    (other / "mine.py").rename(other / "counter_smp.py")
    path, why = find_submission(other, "counter_lck", True)  # another exercise's file is not this one's
    assert path is None and "counter_smp.py" in why.en and "counter_lck.py" in why.en


def test_a_hand_in_never_names_a_file_through_a_symbolic_link(tmp_path):
    """A repository handed in could link counter_lck.py to the model answer inside the installed
    grader: the platforms' grading step takes only real files, as grade batch does."""
    from grader.export.common import find_submission, gradable_files

    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "counter_lck.py").symlink_to(Path(__file__).resolve().parents[2] / "reference" / "counter_lck.py")
    (tmp_path / "notes.py").write_text("print(1)\n", encoding="utf-8")
    assert gradable_files(tmp_path) == [tmp_path / "notes.py"]
    path, why = find_submission(tmp_path, "counter_lck", only_exercise=False)
    assert path is None and "counter_lck.py" in why.en

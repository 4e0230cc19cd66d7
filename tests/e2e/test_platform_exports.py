"""``grade export``, end to end, for each platform: what the course uploads, run as the platform
would run it, on a passing and a failing submission and on one that cannot be graded; each result
checked against the platform's documented shape (tests/schemas/).

- Gradescope: the zip is laid out in a temporary folder shaped like ``/autograder`` (source/,
  submission/, results/); setup.sh installs the wheel from the zip into a fresh venv (offline:
  ``GRADER_PIP_ARGS=--no-deps --no-index``; the venv sees this interpreter's site-packages for the
  grader's dependencies, never its copy of the grader), then run_autograder writes results.json.
- GitHub Classroom: the workflow's steps run as Actions would run them, and the reporter's sum.
- PrairieLearn: the question's tests/run.sh in a folder shaped like ``/grade``.
- CodeRunner: the question's template, the answer put in as CodeRunner's Python escaper puts it.
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "tests" / "schemas"
PASSING = ROOT / "reference" / "counter_lck.py"
FAILING = ROOT / "tests" / "submissions" / "counter_lck" / "counter_no_lock.py"
MAX, FAILING_SCORE = 8, 3  # counter_lck: 8 points; the lockless program keeps runs, concurrent, join


def validate(obj, name: str) -> None:
    jsonschema.validate(obj, json.loads((SCHEMAS / name).read_text(encoding="utf-8")))


def grade(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "GRADER_DEBUG"}
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def scores(obj: dict, key: str = "score") -> dict[str, float]:
    return {t["name"].split(":")[0]: t[key] for t in obj["tests"]}


# -------------------------------------------------------------------------------- Gradescope

@pytest.fixture(scope="module")
def autograder(tmp_path_factory):
    """/autograder, with the zip's source installed by its own setup.sh into a fresh venv."""
    base = tmp_path_factory.mktemp("gs")
    done = grade("export", "gradescope", "--out", str(base / "autograder.zip"), "--exercise", "counter_lck",
                 "--lang", "en", "--format", "html", "--visibility", "after_due_date", cwd=base)
    assert done.returncode == 0, done.stderr
    root = base / "autograder"
    with zipfile.ZipFile(base / "autograder.zip") as zf:
        assert {"setup.sh", "run_autograder"} <= set(zf.namelist())  # at the zip's root
        zf.extractall(root / "source")
    for name in ("setup.sh", "run_autograder"):
        (root / "source" / name).chmod(0o755)
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")  # as Gradescope's build does
    venv = root / "grader-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    # the grader's dependencies from this interpreter, offline: a folder of links to what its
    # site-packages holds, less the grader itself (installed there, pip would take it as already
    # installed; editable, it is not there) and the .pth files that would add it back
    purelib = subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    deps = base / "deps"
    deps.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        name = entry.name.lower()
        if name == "grader" or name.startswith(("concurrency_grader", "__editable__")) or name.endswith(".pth"):
            continue
        (deps / entry.name).symlink_to(entry)
    Path(purelib, "_test_deps.pth").write_text(f"{deps}\n")
    env = dict(os.environ, GRADER_AUTOGRADER_ROOT=str(root), GRADER_SKIP_APT="1",
               GRADER_PIP_ARGS="--no-deps --no-index", GRADER_PYTHON=sys.executable)
    setup = subprocess.run(["bash", str(root / "source" / "setup.sh")], env=env, capture_output=True, text=True,
                           timeout=180)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import grader; print(grader.__file__)"],
                           cwd=root, capture_output=True, text=True, check=True).stdout
    assert where.startswith(purelib), where  # the wheel's copy, not this checkout
    return root


def run_autograder(root: Path, files: dict[str, Path | bytes]) -> dict:
    sub, results = root / "submission", root / "results"
    for d in (sub, results):
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir()
    for name, src in files.items():
        (sub / name).parent.mkdir(parents=True, exist_ok=True)
        (sub / name).write_bytes(src if isinstance(src, bytes) else src.read_bytes())
    done = subprocess.run([str(root / "run_autograder")], cwd=root, env=dict(os.environ, GRADER_AUTOGRADER_ROOT=str(root)),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    obj = json.loads((results / "results.json").read_text(encoding="utf-8"))
    validate(obj, "gradescope-results.schema.json")
    return obj


def test_gradescope_passing_and_failing(autograder):
    ok = run_autograder(autograder, {"counter_lck.py": PASSING})
    assert ok["score"] == MAX and {t["status"] for t in ok["tests"]} == {"passed"}
    assert ok["output_format"] == "html" and ok["visibility"] == "after_due_date"
    # a student's own name for the file, in a folder: found as grade FILE finds it
    bad = run_autograder(autograder, {"work/s2212345_counter_lck (1).py": FAILING})
    assert bad["score"] == FAILING_SCORE
    by = scores(bad)
    assert by["tally"] == 0 and by["lock"] == 0 and by["runs"] == 1
    tally = next(t for t in bad["tests"] if t["name"].startswith("tally"))
    assert tally["status"] == "failed" and "<svg" in tally["output"]
    assert "s2212345_counter_lck (1).py" in bad["output"]


def test_gradescope_cannot_grade(autograder):
    missing = run_autograder(autograder, {"notes.txt": b"hello"})
    assert missing["score"] == 0 and "counter_lck.py" in missing["output"]
    assert sum(t["max_score"] for t in missing["tests"]) == MAX
    empty = run_autograder(autograder, {"counter_lck.py": b""})
    assert empty["score"] == 0 and all(t["status"] == "failed" for t in empty["tests"])
    # the grader's own answer (one test per check, the reason), not the fallback of a grader that never started
    assert sum(t["max_score"] for t in empty["tests"]) == MAX and "is empty" in empty["output"]


# -------------------------------------------------------------------------- GitHub Classroom

@pytest.mark.parametrize("submission, expected", [(PASSING, MAX), (FAILING, FAILING_SCORE), (None, 0)])
def test_github_classroom_workflow_runs(tmp_path, submission, expected):
    repo = tmp_path / "repo"
    done = grade("export", "github-classroom", "--out", str(repo), "--exercise", "counter_lck", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (repo / "counter_lck.py").is_file()  # the starter
    if submission is None:
        (repo / "counter_lck.py").unlink()
    else:
        shutil.copy(submission, repo / "counter_lck.py")
    wf = yaml.safe_load((repo / ".github" / "workflows" / "classroom.yml").read_text(encoding="utf-8"))
    steps = wf["jobs"]["run-autograding-tests"]["steps"]
    outputs: dict[str, str] = {}
    for step in steps:
        uses = step.get("uses", "")
        if "run" in step and "pip install" not in step["run"]:
            command = step["run"].replace("python ", f"{sys.executable} ", 1)
            assert subprocess.run(command, shell=True, cwd=repo, timeout=120).returncode == 0
        elif uses == "classroom-resources/autograding-command-grader@v1":
            w = step["with"]
            ran = subprocess.run(w["command"].replace("python ", f"{sys.executable} ", 1), shell=True, cwd=repo,
                                 capture_output=True, text=True, timeout=60 * int(w["timeout"]))
            passed = ran.returncode == 0
            if not passed:
                assert ran.stderr.strip()  # why, for the student's log
            # what the command grader puts in its `result` output (version 1, base64 JSON)
            outputs[step["id"]] = base64.b64encode(json.dumps({
                "version": 1, "status": "pass" if passed else "fail", "max_score": int(w["max-score"]),
                "tests": [{"name": w["test-name"], "status": "pass" if passed else "fail",
                           "score": int(w["max-score"]) if passed else 0, "message": ran.stderr}]}).encode()).decode()
    reporter = steps[-1]
    assert reporter["uses"] == "classroom-resources/autograding-grading-reporter@v1"
    runners = reporter["with"]["runners"].split(",")
    total = maximum = 0
    for runner in runners:  # notify-classroom.js: sum of the tests' scores over the runners' max_score
        env_value = reporter["env"][f"{runner.upper()}_RESULTS"]
        assert env_value == f"${{{{steps.{runner}.outputs.result}}}}"
        results = json.loads(base64.b64decode(outputs[runner]))
        validate(results, "github-classroom-result.schema.json")
        maximum += results["max_score"]
        total += sum(t["score"] for t in results["tests"])
    assert (total, maximum) == (expected, MAX)
    written = json.loads((repo / ".github/classroom/results/counter_lck.json").read_text(encoding="utf-8"))
    validate(written, "github-classroom-result.schema.json")
    assert written["status"] == ("pass" if expected == MAX else "error" if submission is None else "fail")


def test_grade_file_writes_classroom_and_prairielearn_results(tmp_path):
    done = grade(str(FAILING), "--exercise", "counter_lck", "--lang", "en", "--github-classroom", "gc.json",
                 "--prairielearn", "pl.json", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    gc = json.loads((tmp_path / "gc.json").read_text(encoding="utf-8"))
    validate(gc, "github-classroom-result.schema.json")
    assert sum(t["score"] for t in gc["tests"]) == FAILING_SCORE and gc["max_score"] == MAX
    pl = json.loads((tmp_path / "pl.json").read_text(encoding="utf-8"))
    validate(pl, "prairielearn-results.schema.json")
    assert pl["score"] == pytest.approx(FAILING_SCORE / MAX)
    assert any(t.get("images") for t in pl["tests"])
    (tmp_path / "counter_lck.py").write_bytes(b"\x00\x01binary")
    done = grade("counter_lck.py", "--github-classroom", "gc2.json", "--prairielearn", "pl2.json", cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    pl2 = json.loads((tmp_path / "pl2.json").read_text(encoding="utf-8"))
    validate(pl2, "prairielearn-results.schema.json")
    assert pl2["gradable"] is False and pl2["format_errors"]
    gc2 = json.loads((tmp_path / "gc2.json").read_text(encoding="utf-8"))
    validate(gc2, "github-classroom-result.schema.json")
    assert gc2["status"] == "error" and gc2["max_score"] == MAX


# ------------------------------------------------------------------------------ PrairieLearn

def test_prairielearn_question_grades(tmp_path):
    course = tmp_path / "course"
    done = grade("export", "prairielearn", "--out", str(course), "--exercise", "counter_lck", "--lang", "en", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    q = course / "questions" / "counter_lck"
    info = json.loads((q / "info.json").read_text(encoding="utf-8"))
    opts = info["externalGradingOptions"]
    assert info["gradingMethod"] == "External" and opts["enabled"] is True and opts["image"]
    assert opts["entrypoint"] == "/grade/tests/run.sh" and opts["serverFilesCourse"] == ["concurrency_grader/"]
    assert 'file-names="counter_lck.py"' in (q / "question.html").read_text(encoding="utf-8")
    for name, src, check in [("ok", PASSING, lambda r: r["score"] == 1),
                             ("bad", FAILING, lambda r: r["score"] == pytest.approx(FAILING_SCORE / MAX)),
                             ("empty", b"   \n", lambda r: r["gradable"] is False and "is empty" in r["message"])]:
        job = tmp_path / name  # shaped like /grade
        shutil.copytree(course / "serverFilesCourse", job / "serverFilesCourse")
        shutil.copytree(q / "tests", job / "tests")
        (job / "student").mkdir()
        (job / "student" / "counter_lck.py").write_bytes(src if isinstance(src, bytes) else src.read_bytes())
        ran = subprocess.run(["bash", str(job / "tests" / "run.sh")], capture_output=True, text=True, timeout=120,
                             env=dict(os.environ, GRADER_PL_ROOT=str(job), GRADER_PYTHON=sys.executable))
        assert ran.returncode == 0, ran.stderr
        result = json.loads((job / "results" / "results.json").read_text(encoding="utf-8"))
        validate(result, "prairielearn-results.schema.json")
        assert check(result), (name, result.get("score"), result.get("message"))


# -------------------------------------------------------------------------------- CodeRunner

def python_escaper(s: str) -> str:
    """CodeRunner's ``e('py')`` (classes/escapers.php): ``\\`` then ``"`` escaped, nothing else."""
    return s.replace("\\", "\\\\").replace('"', '\\"')


@pytest.fixture(scope="module")
def coderunner_question(tmp_path_factory):
    base = tmp_path_factory.mktemp("cr")
    done = grade("export", "coderunner", "--out", str(base / "questions.xml"), "--exercise", "counter_lck",
                 "--lang", "en", cwd=base)
    assert done.returncode == 0, done.stderr
    quiz = ET.parse(base / "questions.xml").getroot()
    (q,) = quiz.findall("question")
    return q


def test_coderunner_question_fields(coderunner_question):
    q = coderunner_question
    assert q.get("type") == "coderunner"
    field = {el.tag: (el.text or "") for el in q}
    assert field["coderunnertype"] == "python3" and field["language"] == "python3"
    assert field["iscombinatortemplate"] == "1" and field["grader"] == "TemplateGrader"
    assert field["prototypetype"] == "0" and float(field["defaultgrade"]) == MAX
    assert "{{ STUDENT_ANSWER | e('py') }}" in field["template"]
    assert "import threading" in field["answer"]  # the model answer, for validate-on-save
    (f,) = q.findall("testcases/file")
    assert f.get("encoding") == "base64" and f.get("name").endswith(".whl")
    assert len(q.findall("testcases/testcase")) == 1


@pytest.mark.parametrize("answer, fraction", [
    (PASSING.read_text(encoding="utf-8"), 1.0),
    (FAILING.read_text(encoding="utf-8"), FAILING_SCORE / MAX),
    # what the escaper must survive: triple quotes, backslashes; then an answer that does not parse
    ('s = """a\\\\b"""  # \\n\n' + FAILING.read_text(encoding="utf-8"), FAILING_SCORE / MAX),
    ("def (:\n", 0.0),
    ("", 0.0),
])
def test_coderunner_template_grades(coderunner_question, tmp_path, answer, fraction):
    q = coderunner_question
    template = q.find("template").text
    code = template.replace("{{ STUDENT_ANSWER | e('py') }}", python_escaper(answer))
    f = q.find("testcases/file")
    (tmp_path / f.get("name")).write_bytes(base64.b64decode(f.text))  # the support file, in the run's folder
    (tmp_path / "prog.py").write_text(code, encoding="utf-8")
    ran = subprocess.run([sys.executable, "prog.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    out = json.loads(ran.stdout)  # the only thing printed: one JSON object
    validate(out, "coderunner-combinator.schema.json")
    assert out["fraction"] == pytest.approx(fraction)
    assert out["testresults"][0][0] == "iscorrect"
    assert "could not run" not in json.dumps(out)  # the grader's verdict, not the template's give_up


def test_gradescope_without_a_working_setup_still_writes_results(autograder, tmp_path):
    """setup.sh failed (no venv): run_autograder still leaves a results.json Gradescope reads."""
    results = tmp_path / "results"
    done = subprocess.run([str(autograder / "run_autograder")], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, GRADER_AUTOGRADER_ROOT=str(autograder),
                                   GRADER_VENV=str(tmp_path / "no-venv"), GRADER_RESULTS_DIR=str(results)))
    assert done.returncode == 0
    obj = json.loads((results / "results.json").read_text(encoding="utf-8"))
    validate(obj, "gradescope-results.schema.json")
    assert obj["score"] == 0 and "setup.sh" in obj["output"] and obj["visibility"] == "after_due_date"

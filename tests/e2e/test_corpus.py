"""End to end: grade every corpus submission with the installed ``grade`` and compare its verdicts.

The corpus is ``tests/submissions/cases.yaml`` (realistic student programs, one entry per file) and,
when the shared folder sits next to the repository, the public samples of
``../shared/samples/cases.yaml`` (its ``hostile/`` cases are tested elsewhere). Each entry names the
checks that must fail and the checks that must pass; checks it leaves out are not judged.

Per submission: the exit status (1 when some check must fail, else 0), no traceback on stderr, each
listed check's verdict in the JUnit report, the report valid against the Jenkins ``junit-10.xsd``,
and the results JSON (Gradescope shape) scoring exactly its passing tests.
"""
from __future__ import annotations

import functools
import json
import math
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.timeout(120)

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "submissions"
SHARED = REPO.parent / "shared"
SAMPLES = SHARED / "samples"
SCHEMA = REPO / "tests" / "schemas" / "junit-10.xsd"
GRADE_TIMEOUT = 100  # seconds; below the module's pytest timeout so a hang is reported as such


def _load(cases_yaml: Path, prefix: str, skip_dirs: tuple[str, ...] = ()) -> list:
    entries = yaml.safe_load(cases_yaml.read_text(encoding="utf-8")) or []
    params = []
    for case in entries:
        if case["file"].split("/", 1)[0] in skip_dirs:
            continue
        params.append(pytest.param(cases_yaml.parent, case, id=f"{prefix}{case['file']}"))
    return params


def _cases() -> list:
    params = _load(CORPUS / "cases.yaml", "")
    shared = SAMPLES / "cases.yaml"
    if shared.is_file():
        params += _load(shared, "samples/", skip_dirs=("hostile",))
    else:
        params.append(pytest.param(None, None, id="samples/(absent)", marks=pytest.mark.skip(
            reason=f"no shared samples next to the repository ({shared})")))
    return params


def _grade_command() -> list[str]:
    grade = Path(sys.executable).with_name("grade")
    if grade.is_file() and os.access(grade, os.X_OK):
        return [str(grade)]
    return [sys.executable, "-m", "grader"]


@functools.lru_cache(maxsize=1)
def _schema():
    xmlschema = pytest.importorskip("xmlschema")
    return xmlschema.XMLSchema(str(SCHEMA))


def _verdicts(root: ET.Element, exercise: str) -> dict[str, str]:
    """``{check_id: 'passed' | 'failed' | 'skipped'}`` for the testcases of ``exercise``."""
    out: dict[str, str] = {}
    for tc in root.iter("testcase"):
        cls = tc.get("classname", "")
        if cls != exercise and not cls.endswith("." + exercise):
            continue
        name = tc.get("name")
        if tc.find("failure") is not None or tc.find("error") is not None:
            out[name] = "failed"
        elif tc.find("skipped") is not None:
            out.setdefault(name, "skipped")
        else:
            out.setdefault(name, "passed")
    return out


def _tail(text: str, n: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-n:])


@pytest.mark.parametrize(("base", "case"), _cases())
def test_corpus_verdicts(base: Path, case: dict, tmp_path: Path) -> None:
    submission = base / case["file"]
    assert submission.is_file(), f"missing submission {submission}"
    exercise = case["exercise"]
    must_fail = list(case.get("must_fail") or [])
    must_pass = list(case.get("must_pass") or [])
    junit = tmp_path / "report.xml"
    results = tmp_path / "results.json"
    workdir = tmp_path / "cwd"
    workdir.mkdir()

    cmd = [*_grade_command(), str(submission), "--exercise", exercise, "--junit", str(junit),
           "--json", str(results), "--seed", "1", "--lang", "en"]
    env = {k: v for k, v in os.environ.items() if k != "GRADER_DEBUG"}
    try:
        proc = subprocess.run(cmd, cwd=workdir, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=GRADE_TIMEOUT, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail(f"grade did not finish within {GRADE_TIMEOUT} s: {case['file']}")
    out = proc.stdout.decode("utf-8", "replace")
    err = proc.stderr.decode("utf-8", "replace")

    # No traceback, whatever the verdict.
    assert "Traceback (most recent call last)" not in err, f"a traceback reached stderr:\n{_tail(err, 40)}"

    # Exit status: 1 when some check must fail, 0 when all must pass.
    expected_rc = 1 if must_fail else 0
    assert proc.returncode == expected_rc, (
        f"exit status {proc.returncode}, expected {expected_rc}\n"
        f"stderr:\n{_tail(err)}\nstdout:\n{_tail(out, 30)}")

    # Each listed check's verdict, from the JUnit report.
    assert junit.is_file(), "no JUnit report written"
    root = ET.parse(junit).getroot()
    got = _verdicts(root, exercise)
    wrong = [f"{c} should fail, is {got.get(c, 'missing')}" for c in must_fail if got.get(c) != "failed"]
    wrong += [f"{c} should pass, is {got.get(c, 'missing')}" for c in must_pass if got.get(c) != "passed"]
    # No student program of the corpus looks inside the grader: integrity accuses none of them.
    if "integrity" not in must_fail:
        wrong += [f"integrity should pass, is {got.get('integrity', 'missing')}"] if got.get("integrity") != "passed" else []
    assert not wrong, "; ".join(wrong) + f"\nnote: {case.get('note', '')}\nreport:\n{_tail(out, 60)}"

    # The JUnit report is valid against the Jenkins schema.
    schema = _schema()
    errors = [f"{e.path}: {e.reason}" for e in schema.iter_errors(str(junit))]
    assert not errors, "JUnit report is not valid against junit-10.xsd:\n" + "\n".join(errors[:10])

    # The results JSON parses, scores exactly its passing tests, and agrees with the JUnit verdicts.
    assert results.is_file(), "no results JSON written"
    data = json.loads(results.read_text(encoding="utf-8"))
    tests = data.get("tests")
    assert isinstance(tests, list) and tests, "results JSON has no tests"
    score = data.get("score")
    assert isinstance(score, (int, float)) and math.isfinite(score), f"bad score {score!r}"
    passing = sum(t.get("score", 0) for t in tests if t.get("status") == "passed")
    assert score == pytest.approx(passing), f"score {score} != sum of passing tests' scores {passing}"
    status = {t["name"].split(":", 1)[0]: t.get("status") for t in tests if ":" in t.get("name", "")}
    for check, verdict in got.items():
        if check in status and verdict in ("passed", "failed"):
            assert status[check] == verdict, f"JSON says {check} {status[check]}, JUnit says {verdict}"

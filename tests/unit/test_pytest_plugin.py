"""``pytest --submission FILE``: the exercise's checks as test items (grader/pytest_plugin.py).

Each case runs pytest in a subprocess (about a second each), with the plugin loaded from its
pytest11 entry point as an instructor's environment would load it.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "reference"
NO_CACHE = ("-p", "no:cacheprovider")


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(*args, *NO_CACHE, timeout=120)


def test_correct_submission_passes_every_check(pytester):
    result = _run(pytester, "--submission", str(REFERENCE / "counter_lck.py"), "-v")
    result.assert_outcomes(passed=6)
    assert result.ret == pytest.ExitCode.OK
    # one item per check, named <exercise file>::<check id>, in the YAML's order
    result.stdout.re_match_lines([rf".*counter_lck\.py::{c} PASSED.*"
                                  for c in ("runs", "tally", "lock", "concurrent", "join", "integrity")])


def test_racy_submission_fails_tally_and_lock_with_bilingual_explanation(pytester):
    result = _run(pytester, "--submission", str(REFERENCE / "counter_mt.py"), "--exercise", "counter_lck")
    result.assert_outcomes(failed=2, passed=4)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    out = result.stdout.str()
    assert "lost" in out and "interleaving" in out
    assert "インターリーブ" in out  # the Japanese explanation follows the English one
    result.stdout.fnmatch_lines(["FAILED *counter_lck.py::tally*", "FAILED *counter_lck.py::lock*"])
    # the explanation is the Failure's text, not a repr or pytest's assertion introspection
    assert "Failure(" not in out and "Msg(" not in out


def test_collect_only_lists_checks_without_running(pytester):
    result = _run(pytester, "--submission", str(REFERENCE / "counter_lck.py"), "--collect-only", "-q")
    assert result.ret == pytest.ExitCode.OK
    lines = [ln for ln in result.stdout.lines if "::" in ln]
    assert lines == [f"counter_lck.py::{c}" for c in ("runs", "tally", "lock", "concurrent", "join", "integrity")]


def test_missing_file_is_a_usage_error(pytester):
    missing = pytester.path / "counter_lck.py"
    result = _run(pytester, "--submission", str(missing))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [ln for ln in result.stderr.lines if ln.strip()]
    assert errors == [f"ERROR: concurrency grader: {missing} does not exist."]
    assert "Traceback" not in result.stderr.str() + result.stdout.str()


def test_unknown_exercise_is_a_usage_error(pytester):
    result = _run(pytester, "--submission", str(REFERENCE / "counter_lck.py"), "--exercise", "countr_lck")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [ln for ln in result.stderr.lines if ln.strip()]
    assert len(errors) == 1
    assert "unknown exercise countr_lck" in errors[0] and "Did you mean counter_lck?" in errors[0]


def test_uninferable_exercise_is_a_usage_error(pytester):
    result = _run(pytester, "--submission", str(REFERENCE / "counter_mt.py"))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--exercise ID" in result.stderr.str()
    assert "Traceback" not in result.stderr.str()


def test_grader_fault_is_a_pytest_error_not_a_failure(pytester):
    pytester.makepyfile(break_grader="""
        from grader import pytest_plugin

        def _broken(self):
            return None, None, "simulated engine failure"

        pytest_plugin._GradingSession.observed = _broken
    """)
    result = _run(pytester, "--submission", str(REFERENCE / "counter_lck.py"), "-p", "break_grader")
    result.assert_outcomes(errors=6)
    out = result.stdout.str()
    assert "simulated engine failure" in out and "not the submission's fault" in out
    assert "Traceback" not in out


def test_plugin_is_inert_without_submission(pytester):
    pytester.makepyfile(test_plain="def test_ok():\n    assert 1 + 1 == 2\n")
    result = _run(pytester)
    result.assert_outcomes(passed=1)
    assert "concurrency grader" not in result.stdout.str()


def test_plugin_import_is_cheap():
    code = ("import sys, grader.pytest_plugin\n"
            "heavy = [m for m in ('yaml', 'nbformat', 'grader.grading', 'grader.exercises.catalog',"
            " 'grader.runner.launcher', 'grader.verdicts.judge') if m in sys.modules]\n"
            "print(heavy)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_modules_whose_asserts_carry_failures_opt_out_of_rewriting():
    # pytest rewrites the asserts of every module of a pytest11 plugin's package: an assert's
    # Failure message would reach judge_one as a string. Such modules must say PYTEST_DONT_REWRITE.
    offenders = []
    for path in sorted((ROOT / "grader").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(isinstance(n, ast.Assert) and n.msg is not None for n in ast.walk(tree)):
            if "PYTEST_DONT_REWRITE" not in (ast.get_docstring(tree) or ""):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_junit_is_valid_and_says_what_grade_junit_says(pytester, tmp_path):
    import xml.etree.ElementTree as ET

    import xmlschema

    racy = str(REFERENCE / "counter_mt.py")
    plugin_xml, grade_xml = tmp_path / "plugin.xml", tmp_path / "grade.xml"
    _run(pytester, "--submission", racy, "--exercise", "counter_lck", f"--junitxml={plugin_xml}")
    subprocess.run([sys.executable, "-m", "grader", racy, "--exercise", "counter_lck", "--junit", str(grade_xml),
                    "--lang", "en"], capture_output=True, check=False)
    xmlschema.XMLSchema(str(ROOT / "tests" / "schemas" / "junit-10.xsd")).validate(str(plugin_xml))

    def props(path):
        return {p.get("name"): p.get("value") for p in ET.parse(path).getroot().iter("property")}

    plugin, grade = props(plugin_xml), props(grade_xml)
    for name in ("score", "max_score", "seed", "exercise", "exercise_version", "submission", "check.tally.score",
                 "check.lock.score"):
        assert plugin.get(name) == grade.get(name), (name, plugin.get(name), grade.get(name))
    assert not [p for tc in ET.parse(plugin_xml).getroot().iter("testcase") for p in tc.iter("properties")]

"""An error in an exercise's checks.py is the exercise's fault: the student reads that the check could
not be judged (an error, not a failure), the instructor gets the traceback."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from instructor_course import ROOT, instructor_course  # noqa: E402  (tests/e2e, put on the path by pytest)

YAML = '''
id: broken_checks
version: "1"
file: broken_checks.py
title: {ja: "壊れたチェック", en: "broken checks"}
runs:
  explore: {schedules: 1, strategies: [random], data: [course]}
checks:
  - {id: runs, points: 1, runs: [explore], title: {ja: "正常に終了する", en: "runs to its end"}}
  - {id: counted, points: 1, runs: [explore], title: {ja: "数えた", en: "counted"}}
'''
RAISES = '''
from grader.verdicts.common import check_runs  # noqa: F401


def check_counted(obs):
    return {}["missing key in the instructor's check"]
'''
SYNTAX = "def check_counted(obs)\n    pass\n"


def _grade(course, *args):
    path = course / "broken_checks.py"
    path.write_text((ROOT / "reference" / "counter_lck.py").read_text(encoding="utf-8"), encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "grader", str(path), "--lang", "en", *args], capture_output=True,
                          text=True, env={**os.environ, "GRADER_COURSE": str(course), "NO_COLOR": "1"}, timeout=300)


@pytest.mark.parametrize("checks, broken", [(RAISES, ["counted"]), (SYNTAX, ["runs", "counted"])],
                         ids=["raises", "syntax_error"])
def test_the_student_reads_it_is_not_their_fault_and_the_instructor_gets_the_traceback(tmp_path, checks, broken):
    with instructor_course(tmp_path / "course", {"broken_checks": (YAML, checks)}) as course:
        plain = _grade(course)
        assert plain.returncode == 1, plain.stderr
        for check in broken:
            assert f"✗ {check}: this check could not be judged (a fault of the exercise, not of your program" in plain.stdout
        assert "Traceback" not in plain.stdout and "Traceback" not in plain.stderr
        debug = _grade(course, "--debug")
        assert "Traceback" in debug.stderr and "checks.py" in debug.stderr, debug.stderr
        assert f"check {broken[-1]} could not be judged" in debug.stderr
        junit = tmp_path / "r.xml"
        _grade(course, "--junit", str(junit))
        assert "<error" in junit.read_text(encoding="utf-8")  # an error, not a failure
        out = tmp_path / "out"
        klass = tmp_path / "class" / "s2212345"
        klass.mkdir(parents=True)
        (klass / "broken_checks.py").write_text((ROOT / "reference" / "counter_lck.py").read_text(encoding="utf-8"),
                                                encoding="utf-8")
        batch = subprocess.run([sys.executable, "-m", "grader", "batch", str(tmp_path / "class"), "--out", str(out)],
                               capture_output=True, text=True, env={**os.environ, "GRADER_COURSE": str(course)},
                               timeout=300)
        assert batch.returncode == 0, batch.stderr
        errors = (out / "check-errors.txt").read_text(encoding="utf-8")
        assert "2212345 broken_checks: check" in errors and "Traceback" in errors


def test_a_course_is_chosen_with_course_dir_and_no_option_is_abbreviated(tmp_path):
    with instructor_course(tmp_path / "course", {"broken_checks": (YAML, RAISES)}) as course:
        path = tmp_path / "broken_checks.py"
        path.write_text((ROOT / "reference" / "counter_lck.py").read_text(encoding="utf-8"), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k != "GRADER_COURSE"}
        chosen = subprocess.run([sys.executable, "-m", "grader", str(path), "--course", str(course), "--lang", "en"],
                                capture_output=True, text=True, env=env, timeout=300)
        assert "broken checks [broken_checks]" in chosen.stdout, chosen.stdout + chosen.stderr
        short = subprocess.run([sys.executable, "-m", "grader", str(path), "--course-k", "x", "--lang", "en"],
                               capture_output=True, text=True, env=env, timeout=300)
        assert short.returncode == 2 and "unrecognized arguments: --course-k" in short.stderr, short.stderr
        wrong = subprocess.run([sys.executable, "-m", "grader", str(path), "--course", str(tmp_path), "--lang", "en"],
                               capture_output=True, text=True, env=env, timeout=300)
        assert wrong.returncode == 2 and wrong.stderr.count("\n") == 1 and "not a course folder" in wrong.stderr

"""The course as shipped: model answers pass, the racy demo fails, and a fifth exercise needs no
change in grader/."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.exercises import catalog
from grader.grading import grade_submission
from grader.sources.submission import load_submission

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("exercise", ["fizz_buzz_mt", "counter_lck", "counter_smp", "counter_pp"])
def test_every_model_answer_passes_every_check(exercise):
    result = grade_submission(load_submission(str(ROOT / "reference" / f"{exercise}.py")), catalog.get(exercise), 1)
    failed = {c.id: c.failure.text("en") for c in result.checks if not c.passed}
    assert not failed, failed


def test_the_lectures_racy_counter_fails_tally_as_counter_lck():
    result = grade_submission(load_submission(str(ROOT / "reference" / "counter_mt.py")), catalog.get("counter_lck"), 1)
    verdicts = {c.id: c.passed for c in result.checks}
    assert verdicts == {"runs": True, "tally": False, "lock": False, "concurrent": True, "join": True}


FIFTH_YAML = '''
id: counter_rlock
version: "1"
file: counter_rlock.py
title: {ja: "RLockによる排他制御", en: "Mutual exclusion with an RLock"}
trace:
  counter: {}
runs:
  explore:
    schedules: 6
    strategies: [pct, random]
    data: [course, shuffled]
checks:
  - id: runs
    points: 1
    runs: [explore]
    title: {ja: "正常に終了する", en: "runs to its end"}
  - id: tally
    points: 2
    runs: [explore]
    title: {ja: "集計結果が正しい", en: "exact tally"}
  - id: rlock
    points: 1
    runs: [explore]
    title: {ja: "RLockを使う", en: "uses an RLock"}
'''

FIFTH_CHECKS = '''
from grader.model import Failure, Msg
from grader.verdicts.common import check_runs  # noqa: F401
from grader.verdicts.kit import assert_exact_tally


def check_tally(obs):
    for run in obs.runs:
        assert_exact_tally(run)


def check_rlock(obs):
    for run in obs.runs:
        kinds = {e["kind"] for e in run.events if e["k"] == "new"}
        assert "RLock" in kinds, Failure(summary=Msg("RLockがありません", "no RLock was created"))
'''


def test_a_fifth_exercise_is_a_folder_not_a_change_to_the_grader(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(ROOT / "data", course / "data")
    folder = course / "assignments" / "counter_rlock"
    folder.mkdir(parents=True)
    (folder / "assignment.yaml").write_text(FIFTH_YAML, encoding="utf-8")
    (folder / "checks.py").write_text(FIFTH_CHECKS, encoding="utf-8")
    answer = (ROOT / "reference" / "counter_lck.py").read_text(encoding="utf-8")
    good = tmp_path / "counter_rlock.py"
    good.write_text(answer.replace("threading.Lock()", "threading.RLock()"), encoding="utf-8")
    plain = tmp_path / "s1_counter_rlock.py"
    plain.write_text(answer, encoding="utf-8")
    env = dict(os.environ, GRADER_COURSE=str(course))
    cmd = [sys.executable, "-m", "grader"]
    listed = subprocess.run([*cmd, "--list", "--lang", "en"], env=env, capture_output=True, text=True)
    assert listed.stdout.startswith("counter_rlock") and "uses an RLock" in listed.stdout
    ok = subprocess.run([*cmd, str(good), "--lang", "en"], env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = subprocess.run([*cmd, str(plain), "--lang", "en"], env=env, capture_output=True, text=True)
    assert bad.returncode == 1 and "no RLock was created" in bad.stdout

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


@pytest.mark.parametrize("exercise", sorted(catalog.exercises()))
def test_every_model_answer_passes_every_check(exercise):
    result = grade_submission(load_submission(str(ROOT / "reference" / f"{exercise}.py")), catalog.get(exercise), 1)
    failed = {c.id: c.failure.text("en") for c in result.checks if not c.passed}
    assert not failed, failed


def test_the_lectures_racy_counter_fails_tally_as_counter_lck():
    result = grade_submission(load_submission(str(ROOT / "reference" / "counter_mt.py")), catalog.get("counter_lck"), 1)
    verdicts = {c.id: c.passed for c in result.checks}
    assert verdicts == {"runs": True, "tally": False, "lock": False, "concurrent": True, "join": True,
                        "integrity": True}


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


SECOND_COURSE_YAML = '''
title: {ja: "別の年度", en: "another year"}
language: en
data:
  file: pokemon.csv
  source: data/pokemon.csv
  slide_paths: [week11/pokemon.csv]
  encoding: utf-8
  header_lines: 1
  separator: ","
  values: {columns: [2, 3], split: ""}
'''

CSV_PROGRAM = '''import csv
import random
import threading
import time


def read_types(path):
    with open(path, newline="", encoding="utf-8") as f:
        return [[t for t in (row["type1"], row["type2"]) if t] for row in csv.DictReader(f)]


def counter(cnt_dct, type_, lck):
    with lck:
        now = cnt_dct.get(type_, 0)
        time.sleep(random.randint(1, 5))
        cnt_dct[type_] = now + 1


if __name__ == "__main__":
    types = read_types("week11/pokemon.csv")
    cnt_dct = {}
    lck = threading.Lock()
    ths = [threading.Thread(target=counter, args=(cnt_dct, t, lck)) for lst in types[:9] for t in lst]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    print("集計結果：", cnt_dct)
'''


def test_a_course_with_another_data_format_needs_no_grader_change(tmp_path):
    """Another file (CSV with a header, two type columns, another name and place), declared in the
    course's YAML: expected tallies come through that declaration, hidden data keeps the header."""
    course = tmp_path / "course"
    shutil.copytree(ROOT / "assignments" / "counter_lck", course / "assignments" / "counter_lck")
    (course / "assignments" / "course.yaml").write_text(SECOND_COURSE_YAML, encoding="utf-8")
    rows = ["no,name,type1,type2"]
    for line in (ROOT / "data" / "poke_names.txt").read_text(encoding="utf-8").splitlines():
        number, name, types = line.split("\t")
        first, *second = types.split(" ")
        rows.append(f"{number},{name},{first},{second[0] if second else ''}")
    (course / "data").mkdir()
    (course / "data" / "pokemon.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    program = tmp_path / "counter_lck.py"
    program.write_text(CSV_PROGRAM, encoding="utf-8")
    racy = tmp_path / "racy_counter_lck.py"
    racy.write_text(CSV_PROGRAM.replace("    with lck:\n", "    if True:\n"), encoding="utf-8")
    env = dict(os.environ, GRADER_COURSE=str(course))
    cmd = [sys.executable, "-m", "grader"]
    ok = subprocess.run([*cmd, str(program), "--json", str(tmp_path / "ok.json")], env=env,
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "All checks passed." in ok.stdout  # the course's language (en) is the default
    bad = subprocess.run([*cmd, str(racy)], env=env, capture_output=True, text=True)
    assert bad.returncode == 1 and "the tally is wrong" in bad.stdout, bad.stdout + bad.stderr


def test_the_lectures_counter_mp_is_told_each_process_counted_in_its_own_copy():
    result = grade_submission(load_submission(str(ROOT / "reference" / "counter_mp.py")), catalog.get("counter_pp"), 1)
    tally = next(c for c in result.checks if c.id == "tally")
    assert not tally.passed
    assert "its own copy of the dict" in tally.failure.summary.en and "自分のコピー" in tally.failure.summary.ja
    assert "received nothing and printed {}" in tally.failure.observed.en


@pytest.mark.parametrize("exercise, name, check, line", [
    ("fizz_buzz_tmr", "sleep_in_main.py", "timer", 29),
    ("fizz_buzz_mp", "direct_calls.py", "processes", 27),
])
def test_a_call_made_by_main_itself_is_shown_where_it_is_written(exercise, name, check, line):
    """A call record names only the function's own line: the failure names the line of the call."""
    path = ROOT / "tests" / "submissions" / exercise / name
    result = grade_submission(load_submission(str(path)), catalog.get(exercise), 1)
    failure = next(c.failure for c in result.checks if c.id == check)
    assert failure.where.en.startswith(f"line {line},") and failure.where.ja.startswith(f"{line}行目"), failure.where

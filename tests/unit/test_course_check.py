"""grade check-course's findings, each at its file and line; the course's _lib; its fingerprints."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from grader.batch.store import cache_key
from grader.exercises import catalog
from grader.exercises.course_check import ERROR, WARNING, check_course, has_errors, report
from grader.exercises.fingerprint import exercise_fingerprint
from grader.model import GraderInputError

ROOT = Path(__file__).resolve().parents[2]

GOOD = '''id: ex1
version: "1"
title: {ja: "練習", en: "practice"}
runs:
  explore:
    schedules: 2
    strategies: [pct, random]
checks:
  - id: runs
    points: 1
    runs: [explore]
  - id: counted
    points: 2
    runs: [explore]
'''
CHECKS = '''from grader.verdicts.common import check_runs  # noqa: F401


def check_counted(obs):
    pass
'''


def course(tmp_path: Path, yaml_text: str = GOOD, checks: str = CHECKS, course_yaml: str | None = None) -> Path:
    root = tmp_path / "course"
    shutil.copytree(ROOT / "data", root / "data")
    (root / "assignments" / "ex1").mkdir(parents=True)
    (root / "assignments" / "course.yaml").write_text(
        course_yaml if course_yaml is not None else (ROOT / "assignments" / "course.yaml").read_text(encoding="utf-8"),
        encoding="utf-8")
    (root / "assignments" / "ex1" / "assignment.yaml").write_text(yaml_text, encoding="utf-8")
    (root / "assignments" / "ex1" / "checks.py").write_text(checks, encoding="utf-8")
    return root


def found(root: Path) -> list[tuple[str, int | None, str, str]]:
    """(file relative to the course, line, level, English message) of each problem."""
    return [(p.path.relative_to(root).as_posix(), p.line, p.level, p.msg.en) for p in check_course(root)]


def test_the_project_course_has_no_problem_at_all():
    problems = check_course(catalog.course_root())
    assert problems == [], report(problems, "en", catalog.course_root())


def test_a_good_course_has_no_problem(tmp_path):
    assert check_course(course(tmp_path)) == []


@pytest.mark.parametrize("bad, good, line, words", [
    ("runs:\n  explore:", "run:\n  explore:", 4, ["unknown key run in the top level", "did you mean runs?"]),
    ("    schedules: 2", "    schedules: two", 6, ["runs.explore.schedules should be an integer, not a string"]),
    ("    schedules: 2", "    schedules: 0", 6, ["runs.explore.schedules must be >= 1"]),
    ("    strategies: [pct, random]", "    strategies: [pct, randm]", 7, ["'randm' is not one of pct, random",
                                                                          "did you mean random?"]),
    ("    points: 2", "    point: 2", 13, ["unknown key point in checks[1]", "did you mean points?"]),
    ("  - id: counted\n    points: 2\n    runs: [explore]", "  - id: counted\n    points: 2\n    runs: [explor]", 14,
     ["check counted judges the run group explor, which runs: does not declare", "did you mean explore?"]),
    ("title: {ja: \"練習\", en: \"practice\"}", "title: 3", 3, ["title should be a string, or ja: and en: texts"]),
    ("title: {ja: \"練習\", en: \"practice\"}\n", "title: {ja: \"練習\", en: \"practice\"}\nlimits: {wall_seconds: -1}\n",
     4, ["limits.wall_seconds must be > 0"]),
    ("id: ex1\n", "id: ex1\nid: ex2\n", 2, ["key id appears twice (also line 1): the first is ignored"]),
    ("  - id: counted", "  - id: runs", 12, ["two checks are named runs (also line 9)"]),
    ("checks:\n", "checks: [\n", 9, ["not valid YAML"]),
], ids=["misspelt_top_key", "string_count", "zero_count", "unknown_strategy", "misspelt_check_key",
        "unknown_run_group", "bad_title", "negative_limit", "duplicate_key", "duplicate_check", "yaml_syntax"])
def test_each_problem_is_told_at_its_line(tmp_path, bad, good, line, words):
    assert bad in GOOD
    root = course(tmp_path, GOOD.replace(bad, good, 1))
    problems = [p for p in found(root) if p[2] == ERROR]
    assert problems, found(root)
    hit = [p for p in problems if all(w in p[3] for w in words)]
    assert hit, problems
    assert hit[0][0] == "assignments/ex1/assignment.yaml" and hit[0][1] == line, hit


def test_check_functions_missing_misspelt_unloadable_or_unused(tmp_path):
    root = course(tmp_path, checks=CHECKS.replace("def check_counted(obs)", "def check_countd(obs)"))
    problems = found(root)
    assert ("assignments/ex1/assignment.yaml", 12, ERROR,
            "checks.py defines no check_counted for the check counted (did you mean check_countd?)") in problems
    assert ("assignments/ex1/checks.py", 4, WARNING,
            "check_countd is never run: assignment.yaml declares no check countd") in problems

    root = course(tmp_path / "b", checks=CHECKS + "\nx = 1 / 0\n")
    (problem,) = found(root)
    assert problem[:3] == ("assignments/ex1/checks.py", 7, ERROR) and "ZeroDivisionError" in problem[3]

    root = course(tmp_path / "c", checks=CHECKS.replace("def check_counted(obs):", "def check_counted():"))
    assert ("assignments/ex1/checks.py", 4, ERROR, "check_counted must take one argument (obs)") in found(root)

    root = course(tmp_path / "d")
    (root / "assignments" / "ex1" / "checks.py").unlink()
    assert found(root)[0][2:] == (ERROR, "there is no checks.py: the check functions (check_<id>) belong in "
                                         "checks.py beside this file")


def test_course_yaml_problems(tmp_path):
    text = (ROOT / "assignments" / "course.yaml").read_text(encoding="utf-8")
    root = course(tmp_path, course_yaml=text.replace("language: ja", "language: jp")
                  .replace("  source: data/poke_names.txt", "  source: data/missing.txt")
                  .replace("  records: 9", "  records: 0"))
    problems = {p[3] for p in found(root)}
    assert "language: 'jp' is not one of ja, en" in problems
    assert any("the data file" in p and "missing.txt does not exist" in p for p in problems)
    assert "result.records must be >= 1 (it is 0)" in problems


def test_warnings_do_not_make_errors(tmp_path):
    root = course(tmp_path, GOOD.replace('version: "1"', "version: 1.10")
                  + "  - id: other\n    runs: [explore]\n", CHECKS + "\n\ndef check_other(obs):\n    pass\n")
    problems = found(root)
    assert ("assignments/ex1/assignment.yaml", 2, WARNING,
            'version 1.10 is read as the number 1.1 (1.10 is 1.1): quote it, "1.10"') in problems
    assert not has_errors(check_course(root))
    root = course(tmp_path / "b", GOOD.replace("  explore:", "  spare:\n    schedules: 1\n  explore:"))
    assert [p[2:] for p in found(root)] == [(WARNING, "no check judges the run group spare (its runs only cost time)")]


def test_the_report_names_file_and_line_in_both_languages(tmp_path):
    root = course(tmp_path, GOOD.replace("runs:\n  explore:", "run:\n  explore:", 1))
    problems = check_course(root)
    en, ja = report(problems, "en", root), report(problems, "ja", root)
    assert en.startswith("assignments/ex1/assignment.yaml:4: error: unknown key run")
    assert ja.startswith("assignments/ex1/assignment.yaml:4: エラー: ファイルの最上位 に不明なキー run（runs のことですか？）")
    assert en.rstrip().endswith("error(s), 0 warning(s)") and "件" in ja


def test_a_misspelt_run_group_stops_grading_with_a_clear_line(tmp_path):
    root = course(tmp_path, GOOD.replace("    runs: [explore]\n  - id: counted", "    runs: [explor]\n  - id: counted"))
    with pytest.raises(GraderInputError) as info:
        catalog.load_exercise(root / "assignments" / "ex1")
    assert "judges the run group explor" in info.value.msg.en and "grade check-course" in info.value.msg.en


def test_lib_is_importable_from_checks_and_follows_the_course(tmp_path):
    checks = "from _lib.shared import WORD\n" + CHECKS
    roots = []
    for word in ("first", "second"):
        root = course(tmp_path / word, checks=checks)
        (root / "assignments" / "_lib").mkdir()
        (root / "assignments" / "_lib" / "shared.py").write_text(f"WORD = {word!r}\n", encoding="utf-8")
        roots.append(root)
    try:
        for root, word in zip(roots, ("first", "second")):
            assert check_course(root) == []
            module = catalog.load_exercise(root / "assignments" / "ex1").checks_module()
            assert module.WORD == word  # the second course's _lib, not the one imported first
    finally:
        for name in [m for m in sys.modules if m == "_lib" or m.startswith("_lib.")]:
            del sys.modules[name]


def test_an_edit_of_checks_changes_that_exercise_fingerprint_and_cache_key(tmp_path):
    root = course(tmp_path)
    ex = catalog.load_exercise(root / "assignments" / "ex1")
    before = exercise_fingerprint(ex)
    key = cache_key(b"program", ex.id, before, 1)
    (ex.folder / "checks.py").write_text(CHECKS + "\n# a comment\n", encoding="utf-8")
    after = exercise_fingerprint(ex)
    assert after != before and cache_key(b"program", ex.id, after, 1) != key
    (ex.folder / "checks.py").write_text(CHECKS, encoding="utf-8")
    assert exercise_fingerprint(ex) == before  # the content decides, not when it was written

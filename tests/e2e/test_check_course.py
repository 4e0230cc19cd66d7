"""grade check-course and grade --list on a course folder; a course that declares its own result
marker and record count is graded by the same kit."""
from __future__ import annotations

import os
import subprocess
import sys

from instructor_course import ROOT, instructor_course  # noqa: E402  (tests/e2e, put on the path by pytest)

COUNTER_YAML = (ROOT / "assignments" / "counter_lck" / "assignment.yaml").read_text(encoding="utf-8")
COUNTER_CHECKS = (ROOT / "assignments" / "counter_lck" / "checks.py").read_text(encoding="utf-8")


def grade(*args, course=None, cwd=None):
    env = {**os.environ, "NO_COLOR": "1"}
    if course is not None:
        env["GRADER_COURSE"] = str(course)
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=300)


def test_the_packaged_course_checks_clean():
    proc = grade("check-course", "--lang", "en")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert proc.stdout.rstrip().endswith(": no problems") and proc.stderr == ""


def test_an_error_is_told_at_file_and_line_and_exits_2(tmp_path):
    broken = COUNTER_YAML.replace("runs:\n  explore:", "runs:\n  explre:", 1)
    with instructor_course(tmp_path / "course", {"counter_lck": (broken, COUNTER_CHECKS)}) as course:
        line = next(i for i, text in enumerate(broken.splitlines(), 1) if text.startswith("  explre:"))
        proc = grade("check-course", str(course), "--lang", "en")
        assert proc.returncode == 2
        assert f"assignments/counter_lck/assignment.yaml:{line}: warning: no check judges the run group explre" \
            in proc.stderr
        assert "assignments/counter_lck/assignment.yaml:" in proc.stderr and \
            "judges the run group explore, which runs: does not declare (did you mean explre?)" in proc.stderr
        assert "Traceback" not in proc.stderr
        listed = grade("--list", "--lang", "ja", course=course)
        assert listed.returncode == 2 and listed.stdout == ""
        assert "エラー" in listed.stderr and "実行グループ explore は runs: にありません" in listed.stderr
        graded = grade(str(ROOT / "reference" / "counter_lck.py"), "--lang", "en", course=course, cwd=tmp_path)
        assert graded.returncode == 2 and graded.stdout == ""
        assert "judges the run group explore" in graded.stderr and "grade check-course" in graded.stderr


def test_a_course_of_its_own_result_marker_and_record_count(tmp_path):
    with instructor_course(tmp_path / "course", {"counter_lck": (COUNTER_YAML, COUNTER_CHECKS)}) as course:
        yml = course / "assignments" / "course.yaml"
        yml.write_text(yml.read_text(encoding="utf-8").replace("marker: 集計結果", "marker: 合計")
                       .replace("records: 9", "records: 5"), encoding="utf-8")
        assert grade("check-course", str(course)).returncode == 0
        source = (ROOT / "reference" / "counter_lck.py").read_text(encoding="utf-8")
        mine = tmp_path / "counter_lck.py"
        mine.write_text(source.replace("types[:9]", "types[:5]").replace('"集計結果：', '"合計：'), encoding="utf-8")
        ok = grade(str(mine), "--lang", "en", course=course, cwd=tmp_path)
        assert ok.returncode == 0, ok.stdout + ok.stderr
        assert "✓ tally" in ok.stdout
        (tmp_path / "old").mkdir()
        lecture = tmp_path / "old" / "counter_lck.py"
        lecture.write_text(source, encoding="utf-8")  # the lecture's marker and nine records
        old = grade(str(lecture), "--lang", "en", course=course, cwd=tmp_path)
        assert old.returncode == 1 and "✗ tally: no dict was printed after 「合計」" in old.stdout, old.stdout

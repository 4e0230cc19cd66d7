"""Red-team submissions (``tests/red_team``): forged records, decoy locks, recomputed tallies, records
that bomb the parent, programs that go after the grader's objects. None gets a full pass, none
passes its failure off as the grader's (exit 2, "internal error"), each gets its verdicts, and the
grader's own process stays bounded (the suite's timeout; no timed assertion)."""
from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.timeout(300)

HERE = Path(__file__).resolve().parents[1] / "red_team"
CASES = yaml.safe_load((HERE / "cases.yaml").read_text(encoding="utf-8"))


def _grade(*args) -> subprocess.CompletedProcess:
    grade = Path(sys.executable).with_name("grade")
    cmd = [str(grade)] if grade.exists() else [sys.executable, "-m", "grader"]
    env = {k: v for k, v in os.environ.items() if k != "GRADER_DEBUG"}
    return subprocess.run([*cmd, *map(str, args)], capture_output=True, text=True, encoding="utf-8",
                          errors="replace", env=env, stdin=subprocess.DEVNULL, timeout=240)


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_no_red_team_program_gets_what_it_did_not_earn(case, tmp_path):
    junit = tmp_path / "r.xml"
    proc = _grade(HERE / case["file"], "--exercise", case["exercise"], "--lang", "en", "--junit", junit)
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    expected = 1 if case["must_fail"] else 0
    assert proc.returncode == expected, proc.stdout + proc.stderr
    verdicts = {tc.get("name"): ("failed" if tc.find("failure") is not None or tc.find("error") is not None
                                 else "passed") for tc in ET.parse(junit).getroot().iter("testcase")}
    wrong = [f"{c} should fail" for c in case["must_fail"] if verdicts.get(c) != "failed"]
    wrong += [f"{c} should pass" for c in case["must_pass"] if verdicts.get(c) != "passed"]
    assert not wrong, "; ".join(wrong) + "\n" + case["note"] + "\n" + proc.stdout[-3000:]

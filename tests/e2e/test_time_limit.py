"""A run's time limit is its own time (``engine/meter.py``; a crowded machine is the meter's unit
tests): a hang, computing or waiting, is stopped at it, measured from /proc inside the sandbox, and
one seed's hang changes nothing of another seed's grading."""
from __future__ import annotations

from pathlib import Path

import pytest

from grader.exercises import catalog
from grader.grading import grade_seeds, grade_submission, observe
from grader.sources.submission import load_submission

from instructor_course import ROOT, instructor_course  # noqa: E402  (tests/e2e, put on the path by pytest)

pytestmark = pytest.mark.timeout(300)

LIMIT = 0.3  # seconds of a run's own time: a model answer's run takes a few hundredths


def _course_with_limit(tmp_path: Path, limit: float):
    folder = ROOT / "assignments" / "counter_lck"
    text = (folder / "assignment.yaml").read_text(encoding="utf-8")
    assert "wall_seconds: 2 " in text
    text = text.replace("wall_seconds: 2 ", f"wall_seconds: {limit} ", 1)
    return instructor_course(tmp_path / "course", {"counter_lck": (text, (folder / "checks.py").read_text(encoding="utf-8"))})


HANGS = {
    "waits_on_a_pipe_nobody_writes": "import os\nprint('start')\nr, w = os.pipe()\nos.read(r, 1)\n",
    "computes_in_c_forever": "print('start')\nx = sum(range(10 ** 13))\n",
    "waits_on_a_child_that_sleeps": ("import subprocess, sys\nprint('start')\n"
                                     "subprocess.run([sys.executable, '-c', 'import time; time.sleep(600)'])\n"),
}


@pytest.mark.parametrize("source", HANGS.values(), ids=HANGS.keys())
def test_a_hang_is_stopped_at_its_own_time(tmp_path, source):
    path = tmp_path / "counter_lck.py"
    path.write_text(source, encoding="utf-8")
    with _course_with_limit(tmp_path, LIMIT):
        exercise = catalog.get("counter_lck")
        observations, error, unrunnable = observe(load_submission(str(path)), exercise, [1], explicit_exercise=True)
        assert error is None and unrunnable is None
        runs = observations[1].runs
        assert runs and all(r.timed_out for r in runs), [(r.exit_code, r.timed_out) for r in runs]
        # It was measured (its processes seen in /proc), not merely timed by the clock.
        assert all(r.own_seconds >= LIMIT for r in runs)
        result = grade_submission(load_submission(str(path)), exercise, 1, explicit_exercise=True)
    runs_check = next(c for c in result.checks if c.id == "runs")
    assert not runs_check.passed and "time limit" in runs_check.failure.summary.en
    if "sum(" not in source:  # (a handler cannot run inside one C call: that output is lost)
        assert result.output.startswith("start")  # what it printed before it was stopped is kept


SOMETIMES = '''import random
import sys
print("start")
if random.random() < 0.5:  # seeded per schedule: the same schedules stop on every grading
    sum(range(10 ** 13))
print("end")
'''


def test_one_seeds_hang_changes_nothing_of_another_seeds_grading(tmp_path):
    # Graded together (one engine child for several seeds), each seed keeps exactly the runs and
    # the report it gets alone, whichever of its schedules stop and whenever the others end.
    path = tmp_path / "counter_lck.py"
    path.write_text(SOMETIMES, encoding="utf-8")
    seeds = [1, 2, 3, 4]
    with _course_with_limit(tmp_path, LIMIT):
        exercise = catalog.get("counter_lck")
        submission = load_submission(str(path))
        together = grade_seeds(submission, exercise, seeds, explicit_exercise=True)
        alone = [grade_submission(submission, exercise, s, explicit_exercise=True) for s in seeds]
        kept = observe(submission, exercise, seeds, explicit_exercise=True)[0]
    assert [r.notes for r in together] == [r.notes for r in alone]
    assert [[(c.id, c.passed, c.failure) for c in r.checks] for r in together] == \
           [[(c.id, c.passed, c.failure) for c in r.checks] for r in alone]
    ran = {seed: [(r.schedule.index, r.timed_out) for r in o.runs] for seed, o in kept.items()}
    # Some seed stopped and some did not, and a stopped seed kept no run after the first that stopped.
    assert any(any(t for _, t in v) for v in ran.values()), ran
    for runs in ran.values():
        stops = [i for i, t in runs if t]
        assert not stops or max(i for i, _ in runs) == stops[0], runs


UNKNOWN_WAIT = '''import os
import time
from multiprocessing import Process


def child(r):
    print("child waits")
    os.read(r, 1)  # a wait the engine does not know: the turn's holder computes nothing
    print("child got it")


if __name__ == "__main__":
    r, w = os.pipe()
    p = Process(target=child, args=(r,))
    p.start()
    time.sleep(1)  # the turn passes to the child, which then waits on its pipe
    os.write(w, b"x")
    p.join()
    print("end")
'''


def test_a_process_that_holds_the_turn_and_waits_on_what_the_engine_does_not_know_is_given_up_on(tmp_path):
    # The processes of a run take turns; a holder computing nothing for a second (measured by its
    # CPU-time clock, not the wall clock) gives the turn up to everyone, and the program ends.
    path = tmp_path / "counter_pp.py"
    path.write_text(UNKNOWN_WAIT, encoding="utf-8")
    observations, error, unrunnable = observe(load_submission(str(path)), catalog.get("counter_pp"), [1],
                                              explicit_exercise=True)
    forked = [r for r in observations[1].runs if r.schedule.start_method == "fork"]
    assert forked and error is None and unrunnable is None
    for run in forked:
        assert run.ended_normally and not run.timed_out, run.all_output()
        assert run.all_output().splitlines()[-3:] == ["child waits", "child got it", "end"]

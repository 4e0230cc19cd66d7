"""A race is found on every seed, by construction, and a correct program passes on every seed.

Each submission below is graded under the plans of seeds 1-50 (``grade_seeds``: one engine child
for all of them, each seed explored exactly as ``grade FILE --seed N`` explores it) and must get its
verdicts of ``cases.yaml`` on every one. The racy ones are the shapes SPEC's targets name: no lock,
a lock per call, the lock on the write only, the lock released between read and write, ``acquire``
without parentheses, ``+=`` and ``d.get(t, 0) + 1`` with no sleep inside, check-then-act (with and
without a lock after it), a ``Counter``, ``Semaphore(3)``, and the Pipe orders that lose the dict.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from grader.exercises import catalog
from grader.grading import grade_seeds, grade_submission
from grader.reports.gradescope import dumps, render_gradescope
from grader.sources.submission import load_submission

pytestmark = pytest.mark.timeout(600)

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "submissions"
SAMPLES = ROOT.parent / "shared" / "samples"
SEEDS = list(range(1, 51))

RACY = [
    "counter_lck/no_lock.py", "counter_lck/lock_in_counter.py", "counter_lck/lock_arg_per_thread.py",
    "counter_lck/lock_write_only.py", "counter_lck/lock_read_only.py", "counter_lck/released_between.py",
    "counter_lck/acquire_no_parens.py", "counter_lck/augassign_no_lock.py", "counter_lck/check_then_act.py",
    "counter_lck/check_outside_lock.py", "counter_lck/counter_no_lock.py",
    "counter_smp/semaphore_three.py", "counter_smp/acquire_after_read.py",
    "counter_pp/recv_after_all_started.py", "counter_pp/send_before_update.py",
]
SAMPLE_RACY = ["counter_lck/no_sleep_between__counter_lck.py", "counter_lck/lock_per_thread__counter_lck.py"]
CORRECT = [
    "counter_lck/with_lock.py", "counter_lck/try_finally.py", "counter_lck/augassign_under_lock.py",
    "counter_lck/get_under_lock.py", "counter_lck/collections_counter.py", "counter_lck/thread_pool.py",
    "counter_lck/module_level.py", "counter_smp/with_smp.py", "counter_pp/correct.py",
    "fizz_buzz_tmr/correct.py", "fizz_buzz_mp/correct.py",
]


def _cases(folder: Path) -> dict[str, dict]:
    path = folder / "cases.yaml"
    if not path.is_file():
        return {}
    return {c["file"]: c for c in yaml.safe_load(path.read_text(encoding="utf-8"))}


def _params():
    corpus = _cases(CORPUS)
    params = [pytest.param(CORPUS / f, corpus[f], id=f) for f in RACY + CORRECT]
    shared = _cases(SAMPLES)
    for f in SAMPLE_RACY:
        if f in shared:
            params.append(pytest.param(SAMPLES / f, shared[f], id=f"samples/{f}"))
    return params


@pytest.mark.parametrize("path, case", _params())
def test_verdicts_hold_on_seeds_1_to_50(path, case):
    results = grade_seeds(load_submission(str(path)), catalog.get(case["exercise"]), SEEDS, explicit_exercise=True)
    wrong = {}
    for seed, result in zip(SEEDS, results):
        checks = {c.id: c for c in result.checks}
        bad = [c for c in case.get("must_fail") or [] if c not in checks or checks[c].passed]
        bad += [c for c in case.get("must_pass") or [] if c not in checks or not checks[c].passed]
        if bad:
            wrong[seed] = {c: checks[c].failure.text("en") if c in checks and checks[c].failure else "passed"
                           for c in bad}
    assert not wrong, f"wrong verdicts on {len(wrong)} of {len(SEEDS)} seeds: {dict(list(wrong.items())[:4])}"
    if "tally" in (case.get("must_fail") or []) and case["exercise"] == "counter_lck":
        # Each seed explains its loss as the shortest interleaving there is: A reads, B reads and
        # writes, A writes over it (or A checks, B writes, A writes): two thread switches, four steps.
        for result in results:
            tally = next(c for c in result.checks if c.id == "tally")
            threads = [step.en.split(" (counter)")[0] for step in tally.failure.trace]
            switches = sum(1 for a, b in zip(threads, threads[1:]) if a != b)
            assert len(threads) == 4 and switches == 2, tally.failure.text("en")


@pytest.mark.parametrize("name", ["counter_lck/check_outside_lock.py", "counter_lck/with_lock.py"])
def test_grading_several_seeds_at_once_gives_each_seeds_own_report(name):
    submission = load_submission(str(CORPUS / name))
    exercise = catalog.get("counter_lck")
    together = grade_seeds(submission, exercise, [3, 7], explicit_exercise=True)
    for seed, result in zip([3, 7], together):
        alone = grade_submission(submission, exercise, seed, explicit_exercise=True)
        assert dumps(render_gradescope(result, "ja")) == dumps(render_gradescope(alone, "ja"))
        assert dumps(render_gradescope(result, "en")) == dumps(render_gradescope(alone, "en"))


def test_the_number_of_cores_used_changes_nothing_in_the_report():
    submission = load_submission(str(CORPUS / "counter_lck" / "check_outside_lock.py"))
    exercise = catalog.get("counter_lck")
    reports = {jobs: dumps(render_gradescope(grade_submission(submission, exercise, 2, jobs=jobs), "en"))
               for jobs in (1, 2, 4)}
    assert len(set(reports.values())) == 1

"""An instructor's exercise of another shape: bank transfers between ``Account`` objects.

The state is an attribute (``src.balance -= amount``), not a dict; the check is the conservation of
money, written by the instructor with the kit's building blocks. The lost update is found on every
seed, with no sleep inside the update or with one, and told with the attribute named as the program
names it; the locked twin passes on every seed. Nothing in grader/ knows of this exercise.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from grader.exercises import catalog
from grader.grading import grade_seeds
from grader.sources.submission import load_submission
from instructor_course import instructor_course  # noqa: E402  (tests/e2e, put on the path by pytest)

SEEDS = list(range(1, 11))
pytestmark = pytest.mark.timeout(600)

YAML = '''
id: bank_transfer
version: "1"
file: bank_transfer.py
title: {ja: "口座間の送金", en: "transfers between accounts"}
trace:
  transfer: {}
runs:
  explore:
    schedules: 3
    strategies: [pct, random]
    time_modes: [timed, yield]
    data: [course]
    directed: 12
    rounds: 2
checks:
  - {id: runs, points: 1, runs: [explore], title: {ja: "正常に終了する", en: "runs to its end"}}
  - {id: conserved, points: 2, runs: [explore], title: {ja: "お金の合計が変わらない", en: "money is conserved"}}
  - {id: lock, points: 1, runs: [explore], title: {ja: "1つのLockで保護", en: "one Lock guards each update"}}
'''

CHECKS = '''
import re

from grader.model import Failure, Msg
from grader.verdicts.analysis import describe_lost_update, lock_verdict, simplest_loss
from grader.verdicts.analysis.timeline import lost_update_timeline
from grader.verdicts.common import check_runs  # noqa: F401
from grader.verdicts.kit import where


def check_conserved(obs):
    for run in obs.runs:
        found = re.search(r"total: (\\d+)", run.output())
        assert found, Failure(summary=Msg("合計が表示されていません", "no total was printed"))
        total = int(found.group(1))
        if total == 300:
            continue
        loss = simplest_loss(run.events)
        head, trace = describe_lost_update(loss) if loss else (Msg("", ""), ())
        assert False, Failure(
            summary=Msg(f"合計が 300 ではなく {total} です（{head.ja}）", f"the total is {total}, not 300 ({head.en})"),
            expected=Msg.same("total: 300"), observed=Msg.same(f"total: {total}"), where=where(run, None),
            trace=trace, timeline=lost_update_timeline(run.events, loss) if loss else None)


def check_lock(obs):
    for run in obs.runs:
        verdict = lock_verdict(run.events)
        assert verdict.ok, verdict.failure()
'''

PROGRAM = '''import threading
import time


class Account:
    def __init__(self, balance):
        self.balance = balance


def transfer(src, dst, amount, lock):
    {body}


if __name__ == "__main__":
    accounts = [Account(100) for _ in range(3)]
    lock = threading.Lock()
    ths = [threading.Thread(target=transfer, args=(accounts[i % 3], accounts[(i + 1) % 3], 10, lock))
           for i in range(6)]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    print("total:", sum(a.balance for a in accounts))
'''

BODIES = {
    "augmented": "src.balance -= amount\n    dst.balance += amount",
    "sleep_inside": "b = src.balance\n    time.sleep(0.1)\n    src.balance = b - amount\n    dst.balance += amount",
    "locked": "with lock:\n        src.balance -= amount\n        dst.balance += amount",
}


@pytest.fixture(scope="module")
def bank(tmp_path_factory):
    with instructor_course(tmp_path_factory.mktemp("course"), {"bank_transfer": (YAML, CHECKS)}) as course:
        yield course


def _grade(course: Path, body: str):
    path = course / "bank_transfer.py"
    path.write_text(PROGRAM.format(body=BODIES[body]), encoding="utf-8")
    return grade_seeds(load_submission(str(path)), catalog.get("bank_transfer"), SEEDS)


@pytest.mark.parametrize("body", ["augmented", "sleep_inside"])
def test_money_lost_between_accounts_is_found_and_explained_on_every_seed(bank, body):
    for seed, result in zip(SEEDS, _grade(bank, body)):
        checks = {c.id: c for c in result.checks}
        conserved = checks["conserved"]
        assert not conserved.passed, f"seed {seed}: conserved passed"
        text = conserved.failure.text("en")
        assert conserved.failure.trace, f"seed {seed}: no interleaving: {text}"
        assert all(".balance" in step.en for step in conserved.failure.trace), text
        assert "read src.balance" in text or "read dst.balance" in text, text
        assert not checks["lock"].passed and ".balance" in checks["lock"].failure.text("en")


def test_the_locked_transfers_pass_on_every_seed(bank):
    for seed, result in zip(SEEDS, _grade(bank, "locked")):
        failed = {c.id: c.failure.text("en") for c in result.checks if not c.passed}
        assert not failed, f"seed {seed}: {failed}"

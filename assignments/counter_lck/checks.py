"""Checks of counter_lck: plain functions over what the runs showed (see assignment.yaml).

Run by ``grade``, or by pytest: ``pytest --submission counter_lck.py``.
"""
import dataclasses

from grader.verdicts.analysis import lock_verdict
from grader.verdicts.analysis.timeline import lock_timeline
from grader.verdicts.common import check_runs  # noqa: F401  (the shared `runs` check)
from grader.verdicts.kit import (assert_exact_tally, assert_one_thread_per_call,
                                 assert_printed_after_all_ended, assert_started_before_joined, where)


def check_tally(obs):
    """The printed 集計結果 is exact on every explored schedule and on hidden data."""
    for run in obs.runs:
        assert_exact_tally(run)


def check_lock(obs):
    """One Lock shared by all threads guards each read-modify-write of the shared dict."""
    for run in obs.runs:
        verdict = lock_verdict(run.events)
        ln = verdict.rmw.read_line if verdict.rmw is not None else None
        assert verdict.ok, dataclasses.replace(verdict.failure(), where=where(run, ln),
                                               timeline=lock_timeline(run.events, verdict))


def check_concurrent(obs):
    """One thread per counter call, all started before any is joined."""
    for run in obs.runs:
        assert_one_thread_per_call(run, "counter", sum(len(t) for t in run.types[:9]))
        assert_started_before_joined(run)


def check_join(obs):
    """集計結果 is printed only after every thread has ended."""
    for run in obs.runs:
        assert_printed_after_all_ended(run)

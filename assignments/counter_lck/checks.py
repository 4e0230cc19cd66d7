"""Checks of counter_lck: plain functions over what the runs showed (see assignment.yaml).

Run by ``grade``, or by pytest: ``pytest --submission counter_lck.py``.
"""
import dataclasses

from grader.model import Msg
from grader.verdicts.analysis import lock_verdict
from grader.verdicts.analysis.timeline import lock_timeline
from grader.verdicts.common import check_runs  # noqa: F401  (the shared `runs` check)
from grader.verdicts.kit import (assert_exact_tallies, assert_from_the_threads, assert_one_thread_per_call, counted_records,
                                 assert_printed_after_all_ended, assert_started_before_joined, where)
from grader.verdicts.integrity import check_integrity  # noqa: F401  (the shared `integrity` check)


def check_tally(obs):
    """The printed 集計結果 is exact on every explored schedule and on hidden data, and is the
    threads' work (not a count made beside them)."""
    assert_exact_tallies(obs.runs)
    return assert_from_the_threads(obs)


def check_lock(obs):
    """One Lock shared by all threads guards each read-modify-write of the shared dict.

    A run in which no two threads updated the dict (a pool whose one worker took every call)
    shows nothing to guard and is not judged; the check fails for that only when no run shows any.
    """
    nothing = None
    judged = 0
    for run in obs.runs:
        verdict = lock_verdict(run.events)
        if verdict.reason == "no_rmw":
            nothing = nothing or (run, verdict)
            continue
        judged += 1
        ln = verdict.rmw.read_line if verdict.rmw is not None else None
        assert verdict.ok, dataclasses.replace(verdict.failure(), where=where(run, ln),
                                               timeline=lock_timeline(run.events, verdict))
    if judged == 0 and nothing is not None:
        run, verdict = nothing
        assert False, dataclasses.replace(verdict.failure(), where=where(run, None))
    if nothing is not None:
        return Msg(f"{len(obs.runs) - judged} 通りの実行では2つ以上のスレッドが辞書を更新しなかったので、残りの {judged} 通りで判定しました",
                   f"judged on the {judged} runs in which two threads or more updated the dict "
                   f"(in {len(obs.runs) - judged}, one thread did every update)")


def check_concurrent(obs):
    """One thread per counter call, all started before any is joined (or, for a thread pool, the
    calls handed to it together and running at the same time)."""
    notes = []
    for run in obs.runs:
        note = assert_one_thread_per_call(run, "counter", sum(len(t) for t in counted_records(run)))
        if note is None:
            assert_started_before_joined(run, "counter")
        elif note not in notes:
            notes.append(note)
    return tuple(notes)


def check_join(obs):
    """集計結果 is printed only after every thread has ended."""
    for run in obs.runs:
        assert_printed_after_all_ended(run, fn="counter")

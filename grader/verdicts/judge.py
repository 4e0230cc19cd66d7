"""Runs an exercise's checks over an observation: plain functions whose asserts carry a ``Failure``.

A check ``check_<id>(obs)`` gets the observation narrowed to the runs it judges: for ``runs`` (and
a check whose YAML says ``failed_runs: true``) every run of its groups; for the others only the
runs that ended normally (a crash is ``runs``'s concern). When none did, the check is a failure
saying it could not be judged, never a skip. A check with no ``runs:`` (of the source alone) gets
the observation whole: every run of the grading, crashed ones too. A check that passes may return a ``Msg`` (or a tuple
of them): notes on how it judged, shown to the student.
"""
from __future__ import annotations

import dataclasses
import time
import traceback

from ..exercises.catalog import CheckSpec, Exercise
from ..model import CheckResult, Failure, Msg
from .observation import Observation

NOT_JUDGED = Msg(
    "判定できません: プログラムが最後まで正常に実行されませんでした（runs を参照）",
    "not judged: the program did not run to its end normally (see runs)",
)


def _narrow(obs: Observation, spec: CheckSpec) -> Observation | None:
    if not spec.runs:
        return obs
    runs = obs.group(*spec.runs)
    if not spec.failed_runs:
        runs = [r for r in runs if r.ended_normally]
        if not runs:
            return None
    return dataclasses.replace(obs, runs=runs)


def judge_one(spec: CheckSpec, fn, obs: Observation) -> CheckResult:
    """The verdict of one check."""
    t0 = time.perf_counter()
    failure: Failure | None = None
    error = False
    detail = ""
    notes: tuple[Msg, ...] = ()
    narrowed = _narrow(obs, spec)
    if narrowed is None:
        failure = Failure(summary=NOT_JUDGED)
    elif fn is None:
        error = True
        failure = Failure(summary=Msg(f"採点器の誤り: check_{spec.id} がありません",
                                      f"grader error: check_{spec.id} is missing"))
    else:
        try:
            said = fn(narrowed)
            notes = (said,) if isinstance(said, Msg) else tuple(m for m in said or () if isinstance(m, Msg))
        except AssertionError as exc:
            failure = _as_failure(exc)
        except Exception as exc:  # the exercise's fault (its checks.py): an error, not the student's
            error = True
            failure = _cannot_judge(exc)
            detail = _traceback()
    if failure is not None and failure.replay is None and obs.replay:
        failure = dataclasses.replace(failure, replay=obs.replay)
    passed = failure is None
    return CheckResult(
        id=spec.id, title=spec.title, points=spec.points if passed else 0.0, max_points=spec.points,
        passed=passed, failure=failure, seconds=time.perf_counter() - t0, error=error,
        notes=notes if passed else (), detail=detail,
    )


def _cannot_judge(exc: BaseException) -> Failure:
    return Failure(
        summary=Msg("このチェックは判定できませんでした（課題の側の誤りで、あなたのプログラムのせいではありません。TA に知らせてください）",
                    "this check could not be judged (a fault of the exercise, not of your program: tell your TA)"),
        observed=Msg.same(f"{type(exc).__name__}: {exc}"[:300]))


def _traceback(limit: int = 60) -> str:
    """The exception being handled, as the instructor needs it (its last ``limit`` lines)."""
    lines = traceback.format_exc().rstrip("\n").split("\n")
    return "\n".join(lines[-limit:])


def _as_failure(exc: AssertionError) -> Failure:
    arg = exc.args[0] if exc.args else None
    if isinstance(arg, Failure):
        return arg
    if isinstance(arg, Msg):
        return Failure(summary=arg)
    return Failure(summary=Msg.same(str(arg) if arg else "assertion failed"))


def judge(exercise: Exercise, obs: Observation) -> list[CheckResult]:
    """Every check of ``exercise``, in the YAML's order (each an error when its checks.py cannot
    even be loaded)."""
    try:
        module = exercise.checks_module()
    except Exception as exc:  # a syntax or import error in checks.py: no check can be judged
        failure, detail = _cannot_judge(exc), _traceback()
        return [CheckResult(id=spec.id, title=spec.title, points=0.0, max_points=spec.points, passed=False,
                            failure=dataclasses.replace(failure, replay=obs.replay), error=True, detail=detail)
                for spec in exercise.checks]
    return [judge_one(spec, getattr(module, f"check_{spec.id}", None), obs) for spec in exercise.checks]


def judge_unrunnable(exercise: Exercise, failure: Failure) -> list[CheckResult]:
    """Verdicts when the program could not be run at all (syntax error): ``runs`` says why."""
    out = []
    for spec in exercise.checks:
        f = failure if spec.id == "runs" else Failure(summary=NOT_JUDGED)
        out.append(CheckResult(id=spec.id, title=spec.title, points=0.0, max_points=spec.points,
                               passed=False, failure=f))
    return out

"""One submission, start to finish: source → plan → runs → observation → verdicts → GradeResult.

The single-file command, the pytest plugin and batch grading all go through ``grade_submission``.
"""
from __future__ import annotations

import shlex
import time
from datetime import datetime, timezone

from .exercises import plan
from .exercises.catalog import Exercise
from .model import CheckResult, Failure, GradeResult, Msg, Note
from .runner.engine_process import EngineProcess
from .runner.launcher import execute
from .sources.submission import Submission, syntax_problem
from .verdicts.judge import judge, judge_unrunnable
from .verdicts.observation import Observation

ENGINE_FAILED = Msg("採点器がプログラムを実行できませんでした（採点器の誤り）",
                    "the grader could not run the program (a fault of the grader)")


def replay_command(path: str, exercise: Exercise, seed: int, explicit_exercise: bool) -> str:
    cmd = ["grade", path]
    if explicit_exercise:
        cmd += ["--exercise", exercise.id]
    return " ".join(shlex.quote(c) for c in cmd + ["--seed", str(seed)])


def observe(submission: Submission, exercise: Exercise, seed: int, jobs: int | None = None,
            replay: str = "", engine: EngineProcess | None = None
            ) -> tuple[Observation | None, str | None, Failure | None]:
    """Run the submission; returns (observation, engine error, syntax failure).

    ``engine``: the engine's child, when the caller started it early; always used up here.
    """
    problem = syntax_problem(submission.source, submission.filename, submission.origin)
    if problem is not None:
        if engine is not None:
            engine.discard()
        return None, None, Failure(
            summary=Msg("構文エラーのため実行できません", "cannot run: syntax error"),
            expected=Msg("Python として正しいプログラム", "a valid Python program"),
            observed=problem)
    schedules = plan.schedules(exercise, seed)
    execution = execute(exercise, submission.source, submission.filename, schedules, seed, jobs, engine)
    if execution.compile_error:
        return None, None, Failure(summary=Msg("構文エラーのため実行できません", "cannot run: syntax error"),
                                   observed=Msg.same(execution.compile_error))
    if execution.engine_error:
        return None, execution.engine_error, None
    obs = Observation(exercise=exercise.id, source=submission.source, filename=submission.filename,
                      runs=execution.runs, base_seed=seed, replay=replay)
    return obs, None, None


def grade_submission(submission: Submission, exercise: Exercise, seed: int = 1, *,
                     jobs: int | None = None, explicit_exercise: bool = False,
                     student_key: str | None = None, student_name: str | None = None,
                     engine: EngineProcess | None = None) -> GradeResult:
    """Grade one decoded submission against one exercise (``engine``: a child started early)."""
    t0 = time.perf_counter()
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    replay = replay_command(submission.path, exercise, seed, explicit_exercise)
    obs, engine_error, unrunnable = observe(submission, exercise, seed, jobs, replay, engine)
    notes = list(submission.notes)
    output = ""
    if unrunnable is not None:
        checks = judge_unrunnable(exercise, unrunnable)
    elif engine_error is not None:
        checks = [CheckResult(id=c.id, title=c.title, points=0.0, max_points=c.points, passed=False,
                              failure=Failure(summary=ENGINE_FAILED, observed=Msg.same(engine_error)),
                              error=True) for c in exercise.checks]
    else:
        checks = judge(exercise, obs)
        first = min(obs.runs, key=lambda r: r.schedule.index, default=None)
        output = first.all_output() if first is not None else ""
        notes.extend(_run_notes(exercise, len(obs.runs)))
    return GradeResult(
        exercise=exercise.id, exercise_title=exercise.title, submission=submission.path,
        checks=tuple(checks), seed=seed, seconds=time.perf_counter() - t0, timestamp=stamp,
        output=output, notes=tuple(notes), student_key=student_key, student_name=student_name,
        properties={"exercise_version": exercise.version},
    )


def _run_notes(exercise: Exercise, ran: int) -> list[Note]:
    planned = sum(g.schedules for g in exercise.groups)
    notes = [Note(Msg(
        f"{ran} 通りのスケジュールで実行しました（sleep は仮想時間: 実際には待ちません）。",
        f"ran under {ran} schedules (sleeps use a virtual clock: no real waiting).",
    ))]
    if ran < planned:
        notes.append(Note(Msg(
            f"予定の {planned} 通りのうち {ran} 通りで打ち切りました（止まらない・出力が多すぎる実行は繰り返しません）。",
            f"stopped after {ran} of {planned} planned schedules (a run that hangs or floods is not repeated).",
        )))
    return notes

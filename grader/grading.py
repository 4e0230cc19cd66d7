"""One submission, start to finish: source → plan → runs → observation → verdicts → GradeResult.

The single-file command, the pytest plugin and batch grading all go through ``grade_submission``.
"""
from __future__ import annotations

import posixpath
import shlex
import time
from datetime import datetime, timezone

from .exercises import plan
from .exercises.catalog import Exercise, course
from .exercises.fingerprint import SHORT, exercise_fingerprint
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


def observe(submission: Submission, exercise: Exercise, seeds: list[int], jobs: int | None = None,
            explicit_exercise: bool = False, engine: EngineProcess | None = None
            ) -> tuple[dict[int, Observation], str | None, Failure | None]:
    """Run the submission under the plans of ``seeds`` (one engine child for all); returns
    (observation per seed, engine error, syntax failure).

    ``engine``: the engine's child, when the caller started it early; always used up here.
    """
    problem = syntax_problem(submission.source, submission.filename, submission.origin)
    if problem is not None:
        if engine is not None:
            engine.discard()
        return {}, None, Failure(
            summary=Msg("構文エラーのため実行できません", "cannot run: syntax error"),
            expected=Msg("Python として正しいプログラム", "a valid Python program"),
            observed=problem)
    schedules = [s for seed in seeds for s in plan.schedules(exercise, seed)]
    execution = execute(exercise, submission.source, submission.filename, schedules, jobs, engine)
    if execution.compile_error:
        return {}, None, Failure(summary=Msg("構文エラーのため実行できません", "cannot run: syntax error"),
                                 observed=Msg.same(execution.compile_error))
    if execution.engine_error:
        return {}, execution.engine_error, None
    observations = {}
    for seed in seeds:
        runs = [r for r in execution.runs if r.schedule.base_seed == seed]
        planned = execution.planned.get(seed, len(runs))
        observations[seed] = Observation(
            exercise=exercise.id, source=submission.source, filename=submission.filename, runs=runs,
            base_seed=seed, replay=replay_command(submission.path, exercise, seed, explicit_exercise),
            planned=planned)
    return observations, None, None


def grade_submission(submission: Submission, exercise: Exercise, seed: int = 1, *,
                     jobs: int | None = None, explicit_exercise: bool = False,
                     student_key: str | None = None, student_name: str | None = None,
                     engine: EngineProcess | None = None, observed: dict | None = None) -> GradeResult:
    """Grade one decoded submission against one exercise (``engine``: a child started early;
    ``observed``: see ``grade_seeds``)."""
    return grade_seeds(submission, exercise, [seed], jobs=jobs, explicit_exercise=explicit_exercise,
                       student_key=student_key, student_name=student_name, engine=engine, observed=observed)[0]


def grade_seeds(submission: Submission, exercise: Exercise, seeds: list[int], *,
                jobs: int | None = None, explicit_exercise: bool = False,
                student_key: str | None = None, student_name: str | None = None,
                engine: EngineProcess | None = None, observed: dict | None = None) -> list[GradeResult]:
    """Grade one submission once per base seed, all in one engine child; result ``i`` is exactly
    what ``grade_submission(..., seeds[i])`` gives (same runs, same verdicts, same messages).

    ``observed``: a dict that receives the ``Observation`` of each seed that ran (nothing when the
    program could not be run), for reports of the runs themselves (``grade --events``)."""
    t0 = time.perf_counter()
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    observations, engine_error, unrunnable = observe(submission, exercise, seeds, jobs, explicit_exercise, engine)
    if observed is not None:
        observed.update(observations)
    properties = {"exercise_version": exercise.version, "exercise_fingerprint": exercise_fingerprint(exercise)[:SHORT]}
    results = []
    for seed in seeds:
        notes = list(submission.notes)
        output = ""
        if unrunnable is not None:
            checks = judge_unrunnable(exercise, unrunnable)
        elif engine_error is not None:
            checks = [CheckResult(id=c.id, title=c.title, points=0.0, max_points=c.points, passed=False,
                                  failure=Failure(summary=ENGINE_FAILED, observed=Msg.same(engine_error)),
                                  error=True) for c in exercise.checks]
        else:
            obs = observations[seed]
            checks = judge(exercise, obs)
            first = min(obs.runs, key=lambda r: r.schedule.index, default=None)
            output = first.all_output() if first is not None else ""
            notes.extend(_run_notes(obs))
            notes.extend(_data_notes(obs))
            notes.extend(Note(Msg(f"{c.id}: {m.ja}", f"{c.id}: {m.en}")) for c in checks for m in c.notes)
        results.append(GradeResult(
            exercise=exercise.id, exercise_title=exercise.title, submission=submission.path,
            checks=tuple(checks), seed=seed, seconds=(time.perf_counter() - t0) / len(seeds), timestamp=stamp,
            output=output, notes=tuple(notes), student_key=student_key, student_name=student_name,
            properties=dict(properties),
        ))
    return results


def _run_notes(obs: Observation) -> list[Note]:
    ran = len(obs.runs)
    directed = sum(1 for r in obs.runs if r.schedule.directions)
    seeded = ran - directed
    if directed:
        notes = [Note(Msg(
            f"{ran} 通りのスケジュールで実行しました: シードで決めた {seeded} 通りと、そこで見つかった競合"
            f"（2つのスレッドが共通のロックなしに同じデータを読み書きする所）を1つずつ逆の順に実行した {directed} 通り"
            "（sleep は仮想時間: 実際には待ちません）。",
            f"ran under {ran} schedules: {seeded} chosen by the seed and {directed} race-directed ones, each "
            "turning around one race those showed (two threads touching the same data with no common lock); "
            "sleeps use a virtual clock: no real waiting."))]
    else:
        notes = [Note(Msg(
            f"{ran} 通りのスケジュールで実行しました（sleep は仮想時間: 実際には待ちません）。",
            f"ran under {ran} schedules (sleeps use a virtual clock: no real waiting)."))]
    cut = [r for r in obs.runs if r.accesses_cut]
    if cut:
        from .runner.accesses import BUDGET
        which = ", ".join(f"#{r.schedule.index}" for r in cut[:5])
        notes.append(Note(Msg(
            f"スケジュール {which} では共有データへのアクセスが多すぎるため、最初の {BUDGET:,} 回だけを分析しました"
            f"（残り {sum(r.accesses_cut for r in cut):,} 回は分析していません）。",
            f"schedule {which}: too many accesses of shared state to analyse them all; the first {BUDGET:,} "
            f"were analysed ({sum(r.accesses_cut for r in cut):,} more were not).")))
    if ran < obs.planned:
        notes.append(Note(Msg(
            f"予定の {obs.planned} 通りのうち {ran} 通りで打ち切りました（止まらない・出力が多すぎる実行は繰り返しません）。",
            f"stopped after {ran} of {obs.planned} planned schedules (a run that hangs or floods is not repeated).",
        )))
    return notes


def _data_notes(obs: Observation) -> list[Note]:
    """Where the program looked for the course data, when that is not where the slides look."""
    data = course().data
    usual = {posixpath.normpath(p) for p in data.slide_paths}
    paths: list[str] = []
    for run in obs.runs:
        for e in run.of("data", process=None):
            rel = e.get("rel")
            if rel is not None and posixpath.normpath(rel) in usual:
                continue
            path = e.get("path", "")
            if path not in paths:
                paths.append(path)
    if not paths:
        return []
    shown = ", ".join(paths[:3]) + ("…" if len(paths) > 3 else "")
    slide = data.slide_paths[0]
    return [Note(Msg(
        f"データファイルを {shown} として開いています。採点では授業のデータを渡しましたが、"
        f"スライドのとおり {slide} （lec11 フォルダの外から実行）で開くと、誰の環境でも同じように動きます。",
        f"the program opens the data as {shown}; the grader served it the course data there, but "
        f"opening it as the slides do, {slide} (run from the folder above lec11/), works the same on every machine."))]

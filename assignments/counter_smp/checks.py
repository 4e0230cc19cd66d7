"""Checks of counter_smp (see assignment.yaml). Run by ``grade`` or ``pytest --submission``."""
from grader.model import Failure, Msg
from grader.verdicts.analysis import peak_inside, sync_objects
from grader.verdicts.analysis.timeline import semaphore_timeline
from grader.verdicts.common import check_runs, run_label  # noqa: F401  (the shared `runs` check)
from grader.verdicts.kit import (assert_exact_tallies, assert_from_the_threads, expected_of, fmt_dict, no_tally_failure,
                                 printed_tally, threads_left_it, where)
from grader.verdicts.integrity import check_integrity  # noqa: F401  (the shared `integrity` check)

LIMIT = 2
EXPECTED_INSIDE = Msg("辞書を読んでから書き込むまでの区間に、同時に入るのは最大2スレッド（Semaphore(2)）",
                      "at most 2 threads at once between reading and writing the dict (Semaphore(2))")


def _semaphores(run) -> Msg:
    """The sync objects the program created: ``Semaphore(1) (line 31)``."""
    made = [e for e in sync_objects(run.events).values() if e.get("proc", 0) == 0]
    return Msg("、".join(f"{e['kind']}({e.get('value')})（{e.get('ln')}行目）" for e in made) or "なし",
               ", ".join(f"{e['kind']}({e.get('value')}) (line {e.get('ln')})" for e in made) or "none")


def check_semaphore(obs):
    """Never more than 2 threads inside the guarded section, and 2 at some moment (timed runs)."""
    best = 0
    for run in obs.runs:
        peak, names = peak_inside(run.events)
        assert peak <= LIMIT, Failure(
            summary=Msg(f"{peak} スレッドが同時に保護区間に入りました（上限は2）",
                        f"{peak} threads were inside the guarded section at once (the limit is 2)"),
            expected=EXPECTED_INSIDE,
            observed=Msg(f"同時に入っていたスレッド: {', '.join(names)}。作られた同期オブジェクト: {_semaphores(run).ja}",
                         f"inside together: {', '.join(names)}; sync objects created: {_semaphores(run).en}"),
            where=run_label(run), timeline=semaphore_timeline(run.events, LIMIT))
        if run.schedule.time_mode == "timed":
            best = max(best, peak)
    timed = [r for r in obs.runs if r.schedule.time_mode == "timed"]
    if timed:
        run = timed[0]
        assert best == LIMIT, Failure(
            summary=Msg(f"保護区間に同時に入ったのは最大 {best} スレッドでした（2スレッドが同時に入るはず）",
                        f"at most {best} thread(s) were ever inside the guarded section (2 should be, at some moment)"),
            expected=EXPECTED_INSIDE,
            observed=Msg(f"最大 {best}。作られた同期オブジェクト: {_semaphores(run).ja}",
                         f"peak {best}; sync objects created: {_semaphores(run).en}"),
            where=run_label(run), timeline=semaphore_timeline(run.events, LIMIT))


def check_exact_with_one(obs):
    """With every Semaphore made Semaphore(1), the tally is exact (and the threads' work)."""
    assert_exact_tallies(obs.runs)
    return assert_from_the_threads(obs)


def check_tally(obs):
    """The printed tally is one the observed schedule can produce."""
    for run in obs.runs:
        true = expected_of(run)
        got, ln = printed_tally(run)
        assert got is not None, no_tally_failure(run, true)
        missing = [k for k in true if k not in got]
        bad = {k: v for k, v in got.items() if k not in true or not (1 <= v <= true[k])}
        problem = None
        if missing or bad:
            problem = Msg(f"各タイプが1以上 {fmt_dict(true)} 以下で、全タイプがあること",
                          f"every type present, each count between 1 and {fmt_dict(true)}")
        assert problem is None, Failure(
            summary=Msg("表示した集計結果がこの実行では起こりえない値です",
                        "the printed tally is not one this run could produce"),
            expected=problem, observed=Msg.same(fmt_dict(got)), where=where(run, ln))
        # The threads' shared dict holds the counts this run really reached: it must be what is printed.
        failure = threads_left_it(run, got, true)
        assert failure is None, failure
    return assert_from_the_threads(obs)

"""Building blocks for exercise checks: a printed tally, judged and explained.

Checks in ``assignments/<id>/checks.py`` compose these; nothing here names an exercise.

PYTEST_DONT_REWRITE: pytest rewrites the asserts of a pytest11 plugin's whole package, which would
turn the ``Failure`` an assert carries into a string; this marker keeps it an object.
"""
from __future__ import annotations

import ast

from ..model import Failure, Msg
from .analysis import (LostUpdate, agrees, calls, describe_lost_update, expected_tally, find_tally, how_lost,
                       process_view, shared_tallies, shares_between_processes, simplest_loss, thread_timeline,
                       threads_wrote)
from .analysis._common import fmt
from .analysis.timeline import join_timeline, lost_update_timeline
from .common import line_ref, run_label
from .observation import RunRecord

def counted_records(run: RunRecord) -> list[list[str]]:
    """The values of the records the result counts (``result.records`` of course.yaml: the
    lecture's first nine Pokémon)."""
    return run.types[:run.result_records]


def expected_of(run: RunRecord, first: int | None = None) -> dict[str, int]:
    """The exact tally of this run's data: the first ``first`` records, by default as many as the
    course declares (``result.records`` of course.yaml)."""
    return expected_tally(run.types, first if first is not None else run.result_records)


def printed_tally(run: RunRecord, marker: str | None = None) -> tuple[dict | None, int | None]:
    """The tally the main process printed after ``marker`` (by default the course's
    ``result.marker``), and the source line that printed it."""
    marker = marker or run.result_marker
    got, _, line = find_tally(run.output(), marker)
    ln = None
    if line is not None:
        ln = next((e.get("ln") for e in reversed(run.events)
                   if e["k"] == "out" and e.get("proc", 0) == 0 and marker in e.get("s", "")), None)
    return got, ln


def fmt_dict(d: dict) -> str:
    """A dict as Python prints it."""
    return repr(dict(d))


def where(run: RunRecord, ln: int | None) -> Msg:
    lab = run_label(run)
    ref = line_ref(ln)
    return Msg(f"{ref.ja}, {lab.ja}", f"{ref.en}, {lab.en}")


def no_tally_failure(run: RunRecord, expected: dict, marker: str | None = None) -> Failure:
    marker = marker or run.result_marker
    return Failure(
        summary=Msg(f"「{marker}」のあとに辞書が出力されていません",
                    f"no dict was printed after 「{marker}」"),
        expected=Msg.same(f"{marker}： {fmt_dict(expected)}"),
        observed=Msg("出力の最後の行: " + (run.lines()[-1] if run.lines() else "(出力なし)"),
                     "last line printed: " + (run.lines()[-1] if run.lines() else "(no output)")),
        where=run_label(run))


def loss_in(run: RunRecord) -> tuple[LostUpdate | None, list]:
    """The run's simplest lost update between its threads or, failing one, between its processes
    (``process_view``), with the event list it indexes (for its timeline)."""
    loss = simplest_loss(run.events)
    if loss is None and shares_between_processes(run.events):
        view = process_view(run.events)
        return simplest_loss(view), view
    return loss, run.events


def _indexed_by(run: RunRecord, loss: LostUpdate) -> list:
    """The event list ``loss`` was found in: the run's own, or its processes' view."""
    ev, step = run.events, loss.steps[0]
    if step.at < len(ev) and ev[step.at]["k"] == step.op and ev[step.at].get("th", 0) == step.th:
        return ev
    return process_view(ev)


def wrong_tally_failure(run: RunRecord, expected: dict, got: dict, ln: int | None,
                        loss: LostUpdate | None = None) -> Failure:
    """A wrong tally, with the interleaving that lost an update when the events show one
    (``loss``, or the run's simplest one)."""
    diffs = [(k, expected.get(k, 0), got.get(k, 0)) for k in dict.fromkeys([*expected, *got])
             if expected.get(k, 0) != got.get(k, 0)]
    detail_en = ", ".join(f"{fmt(k)} {g} instead of {e}" for k, e, g in diffs)
    detail_ja = "、".join(f"{fmt(k)} が {e} ではなく {g}" for k, e, g in diffs)
    if loss is None:
        loss, seen = loss_in(run)
    else:
        seen = _indexed_by(run, loss)
    trace: tuple[Msg, ...] = ()
    timeline = None
    summary = Msg(f"集計結果が正しくありません: {detail_ja}", f"the tally is wrong: {detail_en}")
    if loss is not None:
        head, trace = describe_lost_update(loss)
        how = how_lost(loss)
        # The count is the tally's; the interleaving tells one of the losses.
        short = sum(e - g for _, e, g in diffs if isinstance(e, int) and isinstance(g, int) and e > g)
        if loss.duplicate:
            why = Msg(f"下のインターリーブがその起こり方の1つです: {how.ja}",
                      f"the interleaving below shows one way it went wrong: {how.en}")
        elif short > 1:
            why = Msg(f"合計 {short} 回分足りません。そのうち1回の更新が失われた順序を下に示します: {how.ja}",
                      f"{short} counts short in all; the interleaving below shows how one update was lost: {how.en}")
        else:
            why = Msg(f"更新が1回失われました: {how.ja}", f"one update was lost: {how.en}")
        summary = Msg(f"{summary.ja}（{why.ja}）", f"{summary.en} ({why.en})")
        timeline = lost_update_timeline(seen, loss, caption=head)  # the same interleaving, drawn
    return Failure(summary=summary, expected=Msg.same(fmt_dict(expected)), observed=Msg.same(fmt_dict(got)),
                   where=where(run, ln), trace=trace, timeline=timeline)


def assert_exact_tally(run: RunRecord, first: int | None = None, marker: str | None = None) -> None:
    """The printed tally equals the counts of the run's data (``expected_of``)."""
    assert_exact_tallies([run], first, marker)


def threads_left_it(run: RunRecord, printed: dict, expected: dict) -> Failure | None:
    """Provenance: a tally printed right must be what the threads left in the state they shared.
    A failure when that state holds a tally and none of it agrees with the printed one (the
    program counted again on the side, say); None when it agrees, or holds no tally to compare."""
    states = shared_tallies(run.events)
    said = [agrees(state, printed, expected) for state in states]
    if True in said or False not in said:  # one agrees, or none is a tally: nothing contradicts it
        return None
    state = states[said.index(False)]
    shown = {k: state[k] for k in expected if k in state}
    return Failure(
        summary=Msg("表示した集計結果が、スレッドが共有して更新したデータと一致しません",
                    "the printed tally is not what the threads left in the state they shared"),
        expected=Msg(f"スレッドが更新した共有データそのもの（この実行では {fmt_dict(shown)}）を表示する",
                     f"print the shared state the threads updated (in this run: {fmt_dict(shown)})"),
        observed=Msg(f"表示された集計結果: {fmt_dict(printed)}", f"printed: {fmt_dict(printed)}"),
        where=run_label(run))


# How threads can hand results to MainThread without a recorded write: queues, futures and pools,
# processes, files, pipes, closures' variables, objects the engine does not look into.
_UNSEEN = frozenset({
    "queue", "Queue", "SimpleQueue", "LifoQueue", "PriorityQueue", "put", "put_nowait", "futures",
    "Executor", "ThreadPoolExecutor", "ProcessPoolExecutor", "submit", "apply_async", "starmap", "imap",
    "imap_unordered", "Pool", "ThreadPool", "multiprocessing", "Manager", "Value", "Array", "shared_memory",
    "send", "write", "writelines", "__slots__", "__getattr__", "__getattribute__"})


def _spelled(node: ast.AST) -> tuple[str, ...]:
    """The names a node spells: a name, an attribute, the parts of an imported module."""
    if isinstance(node, ast.Name):
        return (node.id,)
    if isinstance(node, ast.Attribute):
        return (node.attr,)
    if isinstance(node, ast.ImportFrom):
        return tuple(a.name for a in node.names) + tuple((node.module or "").split("."))
    if isinstance(node, ast.Import):
        return tuple(part for a in node.names for part in a.name.split("."))
    return ()


def unseen_channels(tree: ast.AST | None) -> list[str]:
    """The ways, in a program's source, that threads may pass results on without a write the run
    records (``_UNSEEN``, and ``nonlocal`` variables), in order of first appearance."""
    found: dict[str, None] = {}
    for node in ast.walk(tree) if tree is not None else ():
        if isinstance(node, ast.Nonlocal):
            found["nonlocal"] = None
        for name in _spelled(node):
            if name in _UNSEEN:
                found[name] = None
    return list(found)


def assert_from_the_threads(obs, marker: str | None = None) -> tuple[Msg, ...]:
    """Positive evidence that the printed tally is the threads' work, wherever threads ran the
    traced function: they wrote some state (``analysis.threads_wrote``). A program whose threads
    wrote nothing (a count made in MainThread beside idle threads) fails. Where the source may
    hand results on in a way runs do not record (``unseen_channels``), or a run's accesses were
    cut, it cannot be told: a note says so. Returns the notes."""
    doubtful = []
    for run in obs.runs:
        got, ln = printed_tally(run, marker)
        workers = {c.th for c in calls(run.events) if c.proc == 0 and c.th}
        if got and workers and not threads_wrote(run.events):
            doubtful.append((run, got, ln))
    if not doubtful:
        return ()
    channels = unseen_channels(obs.tree)
    if channels or any(run.accesses_cut for run, _, _ in doubtful):
        if channels:
            how = Msg(f"{', '.join(channels)}: 実行が記録しない受け渡し", f"{', '.join(channels)}: a hand-over runs do not record")
        else:
            how = Msg("記録の上限を超えたアクセス", "accesses past the recording budget")
        return (Msg(f"集計結果がスレッドの処理から来たことを確かめられませんでした（{how.ja}）",
                    f"could not trace the tally to the threads' work ({how.en})"),)
    run, got, ln = doubtful[0]
    ran = list(dict.fromkeys(c.tn for c in calls(run.events) if c.proc == 0 and c.th))
    assert False, Failure(
        summary=Msg("表示した集計結果はスレッドの処理の結果ではありません: スレッドは何も書き込んでいません",
                    "the printed tally is not the threads' work: the threads wrote nothing"),
        expected=Msg("各スレッドが共有の辞書（やリスト・属性・グローバル変数）を更新し、メインスレッドがそれを表示する",
                     "each thread updates the shared dict (or a list, attributes, a global) and MainThread prints it"),
        observed=Msg(f"{_names(ran)} は辞書・リスト・属性・グローバル変数のどれにも書き込まず、"
                     f"表示された集計結果 {fmt_dict(got)} は別の場所で数えられました",
                     f"{_names(ran)} wrote to no dict, list, attribute or global; the printed tally "
                     f"{fmt_dict(got)} was counted elsewhere"),
        where=where(run, ln))


def assert_exact_tallies(runs: list[RunRecord], first: int | None = None, marker: str | None = None,
                         provenance=threads_left_it) -> None:
    """Every run printed the exact tally of its own data, and it is what the run's shared state
    says (``provenance``: a function ``(run, printed, expected) -> Failure | None``). When several
    runs are wrong, the failure shown is the one whose lost update is told with the fewest thread
    switches (a race-directed run's, as a rule): the clearest explanation; a run with no tally at
    all comes first."""
    wrong = []
    for run in runs:
        expected = expected_of(run, first)
        got, ln = printed_tally(run, marker)
        assert got is not None, no_tally_failure(run, expected, marker)
        if got != expected:
            wrong.append((run, expected, got, ln, loss_in(run)[0]))
    if not wrong:
        for run in runs:
            expected = expected_of(run, first)
            got, _ = printed_tally(run, marker)
            failure = provenance(run, got, expected) if provenance is not None else None
            assert failure is None, failure
        return

    def clarity(item):
        loss = item[4]
        if loss is None:
            return (1, 0, 0, item[0].schedule.index)
        return (0, loss.switches, len(loss.steps), item[0].schedule.index)

    run, expected, got, ln, loss = min(wrong, key=clarity)
    assert False, wrong_tally_failure(run, expected, got, ln, loss)


def _names(names) -> str:
    names = list(names)
    return ", ".join(names[:6]) + (f" … (+{len(names) - 6})" if len(names) > 6 else "")


# The function a worker thread of a pool runs: its threads take call after call.
POOL_WORKERS = ("concurrent.futures.thread._worker", "multiprocessing.pool.worker")


def pool_workers(run: RunRecord) -> set[int]:
    """Threads of process 0 that are workers of a thread pool (``ThreadPoolExecutor``, ``ThreadPool``)."""
    return {e.get("th", 0) for e in run.of("begin") if e.get("target") in POOL_WORKERS}


def most_in_flight(cs) -> int:
    """The most calls that had begun and not yet returned at one moment."""
    edges = sorted([(c.enter_n, 1) for c in cs] + [(c.exit_n, -1) for c in cs if c.exit_n is not None])
    now = peak = 0
    for _, step in edges:
        now += step
        peak = max(peak, now)
    return peak


def assert_one_thread_per_call(run: RunRecord, fn: str, expected_calls: int) -> Msg | None:
    """``fn`` ran ``expected_calls`` times in process 0, each time in its own non-main thread.

    When the calls ran on the workers of a thread pool (a worker takes call after call), what
    matters is that they were handed to the pool together: on a run where sleeps take virtual
    time, two calls or more were under way at once. Returns a note saying so then, else None.
    """
    cs = [c for c in calls(run.events, fn) if c.proc == 0]
    assert len(cs) == expected_calls, Failure(
        summary=Msg(f"{fn} の呼び出し回数が {len(cs)} 回です（{expected_calls} 回のはず）",
                    f"{fn} was called {len(cs)} times, not {expected_calls}"),
        expected=Msg(f"データの各タイプについて1回ずつ、計 {expected_calls} 回",
                     f"once per type in the data, {expected_calls} calls"),
        observed=Msg(f"{len(cs)} 回", f"{len(cs)} calls"), where=run_label(run))
    in_main = [c for c in cs if c.th == 0]
    assert not in_main, Failure(
        summary=Msg(f"{fn} がメインスレッドで実行されています", f"{fn} ran in MainThread"),
        expected=Msg(f"{fn} の呼び出しごとに threading.Thread を1つ作って start する",
                     f"each call of {fn} runs in a threading.Thread of its own"),
        observed=Msg(f"MainThread が {fn} を {len(in_main)} 回直接呼び出しました",
                     f"MainThread called {fn} itself {len(in_main)} times"),
        where=where(run, in_main[0].ln))
    per_thread: dict[int, list] = {}
    for c in cs:
        per_thread.setdefault(c.th, []).append(c)
    workers = pool_workers(run)
    if workers and set(per_thread) <= workers:
        return _judge_pool(run, fn, cs, len(per_thread))
    shared = next((v for v in per_thread.values() if len(v) > 1), None)
    assert shared is None, Failure(
        summary=Msg(f"{shared[0].tn} が {fn} を {len(shared)} 回実行しています",
                    f"{shared[0].tn} ran {fn} {len(shared)} times"),
        expected=Msg("1回の呼び出しにつき1つのスレッド", "one thread per call"),
        observed=Msg(f"{len(per_thread)} スレッドで {len(cs)} 回", f"{len(cs)} calls in {len(per_thread)} threads"),
        where=run_label(run))


def _judge_pool(run: RunRecord, fn: str, cs, workers: int) -> Msg:
    if run.schedule.time_mode == "timed":
        peak = most_in_flight(cs)
        assert peak >= 2, Failure(
            summary=Msg(f"スレッドプールの {fn} が1つずつ順番に実行されています",
                        f"the pool runs the {fn} calls one at a time"),
            expected=Msg(f"すべての {fn} をプールに渡してから結果を待つ（submit の直後に result() を呼ばない）",
                         f"hand every {fn} call to the pool first, then wait (no result() right after each submit)"),
            observed=Msg(f"同時に実行中だった {fn} は最大 {peak} 個（{workers} スレッドで {len(cs)} 回）",
                         f"at most {peak} {fn} call(s) under way at once ({len(cs)} calls in {workers} thread(s))"),
            where=run_label(run))
    return Msg(f"{fn} はスレッドプールのワーカーで実行されました: 1呼び出し1スレッドではなく、呼び出しが同時に進むことで判定しました",
               f"{fn} ran on the worker threads of a pool: judged by the calls being under way together, "
               "not by one thread per call")


def assert_started_before_joined(run: RunRecord, fn: str | None = None) -> None:
    """Every thread was started before the first ``join``: they ran concurrently.

    With ``fn``, only the threads that ran ``fn`` count: a helper thread joined first (one that
    loads the data, say) is no sign of threads run one by one.
    """
    workers = {c.th for c in calls(run.events, fn) if c.proc == 0} if fn else None

    def counts(vid) -> bool:
        return workers is None or vid in workers

    first = next((e for e in run.events if e["k"] == "join" and e.get("proc", 0) == 0
                  and counts(e.get("target"))), None)
    if first is None:
        return
    late = [e for e in run.events if e["k"] == "spawn" and e.get("proc", 0) == 0 and e["n"] > first["n"]
            and counts(e.get("child"))]
    joined = thread_timeline(run.events).get(first.get("target"))
    target = joined.name if joined else "?"
    assert not late, Failure(
        summary=Msg("すべてのスレッドを開始する前に join しています（スレッドが順番に実行される）",
                    "a thread is joined before all threads are started (so they run one by one)"),
        expected=Msg("すべてのスレッドを start してから、まとめて join する",
                     "start every thread first, then join them"),
        observed=Msg(f"{target} を join した後に {_names(e['cn'] for e in late)} が開始されました",
                     f"{_names(e['cn'] for e in late)} started only after {target} was joined"),
        where=where(run, first.get("ln")))


def assert_printed_after_all_ended(run: RunRecord, marker: str | None = None, fn: str | None = None) -> None:
    """The line with ``marker`` came after the end of every thread of process 0 (with ``fn``: of
    every thread that ran ``fn``; a daemon that shows progress may well outlive the result)."""
    marker = marker or run.result_marker
    pos = next((i for i in range(len(run.events) - 1, -1, -1)
                if run.events[i]["k"] == "out" and run.events[i].get("proc", 0) == 0
                and marker in run.events[i].get("s", "")), None)
    assert pos is not None, no_tally_failure(run, {}, marker)
    printed = run.events[pos]
    ended = {e["th"] for e in run.events[:pos] if e["k"] == "end" and e.get("proc", 0) == 0}
    workers = {c.th for c in calls(run.events, fn) if c.proc == 0} if fn else None
    # Printed after every thread ended is shown only where threads ran: no evidence is no pass.
    assert workers is None or workers - {0}, Failure(
        summary=Msg(f"{fn} を実行したスレッドがないので、全スレッドの終了後に表示したかを判定できません",
                    f"no thread ran {fn}, so there is no thread whose end the result could wait for"),
        expected=Msg(f"{fn} をスレッドで実行し、すべて join してから結果を表示する",
                     f"run {fn} in threads, join them all, then print the result"),
        observed=Msg(f"{fn} はメインスレッドだけで実行されました", f"{fn} ran in MainThread only"),
        where=where(run, printed.get("ln")))
    running = [s for vid, s in thread_timeline(run.events).items()
               if vid != 0 and vid not in ended and (workers is None or vid in workers)]
    assert not running, Failure(
        summary=Msg(f"スレッドの終了を待たずに「{marker}」を表示しています",
                    f"「{marker}」 is printed before every thread has ended"),
        expected=Msg("すべてのスレッドを join してから結果を表示する",
                     "join every thread, then print the result"),
        observed=Msg(f"表示した時点（{printed['t']:.1f}秒）でまだ実行中: {_names(s.name for s in running)}",
                     f"still running when it was printed (at {printed['t']:.1f} s): {_names(s.name for s in running)}"),
        where=where(run, printed.get("ln")),
        timeline=join_timeline(run.events, pos, [s.vid for s in running], marker))

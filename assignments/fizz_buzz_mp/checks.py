"""Checks of fizz_buzz_mp (see assignment.yaml). Run by ``grade`` or ``pytest --submission``."""
import re

from _lib.fizzbuzz import call_line, wrong_result
from grader.model import Failure, Msg
from grader.verdicts.analysis import calls
from grader.verdicts.common import check_runs, run_label  # noqa: F401  (the shared `runs` check)
from grader.verdicts.integrity import check_integrity  # noqa: F401  (the shared `integrity` check)
from grader.verdicts.kit import where

CALLS = 5  # num_lst = [i*10000000 for i in range(5, 0, -1)]
START = re.compile(r"start\b", re.IGNORECASE)
# A process pool's own threads in the main process (the ``begin`` record's target, or class).
POOL_THREADS = ("multiprocessing.pool.Pool._handle_workers",)
POOL_CLASSES = ("_ExecutorManagerThread",)






def _num(c):
    return c.args[0] if isinstance(c.args, list) and c.args and isinstance(c.args[0], int) else None


def _never_ran(run) -> Failure:
    return Failure(
        summary=Msg("fizz_buzz が一度も実行されていないので、判定できません",
                    "fizz_buzz never ran, so there is nothing to judge"),
        expected=Msg("multiprocessing.Process(target=fizz_buzz, args=(num, bgn0)) を5つ作って start する",
                     "make and start 5 multiprocessing.Process(target=fizz_buzz, args=(num, bgn0))"),
        observed=Msg("fizz_buzz の呼び出しなし", "no call of fizz_buzz"),
        where=run_label(run))


def _in_main_process(run, cs, tree=None) -> Failure:
    threads = {c.th for c in cs} - {0}
    return Failure(
        summary=Msg("fizz_buzz が子プロセスではなく、メインのプロセスの中で実行されています",
                    "fizz_buzz ran inside the main process, not in child processes"),
        expected=Msg("呼び出しごとに multiprocessing.Process(target=fizz_buzz, args=(num, bgn0)) を作って start する"
                     "（threading.Thread ではなく）",
                     "each call runs in a multiprocessing.Process(target=fizz_buzz, args=(num, bgn0)) of its own "
                     "(not a threading.Thread)"),
        observed=Msg(f"メインのプロセスのスレッド {len(threads)} 個（{cs[0].tn} など）が fizz_buzz を実行しました"
                     "（threading のスレッドはプロセスの中で GIL を分け合うので、並列には実行されません）"
                     if threads else f"メインのプロセスの MainThread が fizz_buzz を {len(cs)} 回直接呼びました"
                     "（target=fizz_buzz(num, bgn0) と書くとその場で呼び出してしまい、start() の代わりに run() を呼ぶと"
                     "メインのプロセスで実行されます: target=fizz_buzz, args=(num, bgn0) として start()）",
                     f"{len(threads)} thread(s) of the main process ({cs[0].tn}, ...) ran fizz_buzz "
                     "(threads share one process and its GIL: they do not run in parallel)"
                     if threads else f"MainThread of the main process called fizz_buzz {len(cs)} time(s) itself "
                     "(target=fizz_buzz(num, bgn0) calls it on the spot, and run() instead of start() runs it in the "
                     "main process: write target=fizz_buzz, args=(num, bgn0), then start())"),
        # MainThread calling it itself: the line it is written on (a call record names only the def's)
        where=where(run, call_line(tree)) if not threads and call_line(tree) else run_label(run))


def _ordinal(k: int) -> Msg:
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(k if k < 20 else k % 10, "th")
    return Msg(f"{k}番目", f"{k}{suffix}")


def _pool(run) -> bool:
    """The program made a process pool (``multiprocessing.Pool``, ``ProcessPoolExecutor``): its
    threads in the main process say so."""
    return any(e.get("target") in POOL_THREADS or e.get("cls") in POOL_CLASSES for e in run.of("begin"))


def _children_of_main(run) -> list[dict]:
    born = list(run.of("proc", process=None))
    main_pid = next((e.get("pid") for e in born if e.get("proc", 0) == 0), None)
    return [e for e in born if e.get("proc") and e.get("ppid") == main_pid]


def check_processes(obs):
    """Each of the 5 calls runs in a child process of its own: not in a thread, not in main, not
    several on the same worker process (a pool with a worker for every call may hand them out as
    it likes: the scaled-down calls are so short that one worker often takes them all)."""
    notes = []
    for run in obs.runs:
        cs = calls(run.events, "fizz_buzz")
        assert cs, _never_ran(run)
        in_main = [c for c in cs if c.proc == 0]
        assert not in_main, _in_main_process(run, in_main, obs.tree)
        procs: dict[int, list] = {}
        for c in cs:
            procs.setdefault(c.proc, []).append(c)
        shared = next((v for v in procs.values() if len(v) > 1), None)
        pool, kids = _pool(run), len(_children_of_main(run))
        if shared is not None and pool and kids >= CALLS and len(cs) == CALLS:
            notes.append(Msg(f"fizz_buzz はプロセスプールのワーカー（{kids} プロセス）で実行されました: どのワーカーがどの呼び出しを"
                             "受け持つかはプールが決めるので、呼び出しの数だけワーカープロセスがあることで判定しました",
                             f"fizz_buzz ran on the worker processes of a pool ({kids} processes): which worker takes which "
                             "call is the pool's choice, so this was judged by there being a worker process for every call"))
            continue
        pool_ja = f"（プロセスプールのワーカーは {kids} 個: 呼び出しの数だけ必要）" if pool else ""
        pool_en = f" (the pool has {kids} worker process(es): one per call is needed)" if pool else ""
        assert shared is None and len(cs) == CALLS, Failure(
            summary=Msg(f"fizz_buzz の {len(cs)} 回の呼び出しが {len(procs)} 個の子プロセスで実行されました",
                        f"{len(cs)} fizz_buzz calls ran in {len(procs)} child process(es)"),
            expected=Msg(f"{CALLS} 回の呼び出しを、それぞれ別の multiprocessing.Process で",
                         f"{CALLS} calls, each in a multiprocessing.Process of its own"),
            observed=Msg((f"1つのプロセスが fizz_buzz を {len(shared)} 回実行しました"
                          f"（{', '.join(f'fizz_buzz({_num(c)})' for c in shared)}）" if shared
                          else f"{len(cs)} 回の呼び出し") + pool_ja,
                         (f"one process ran fizz_buzz {len(shared)} times "
                          f"({', '.join(f'fizz_buzz({_num(c)})' for c in shared)})" if shared
                          else f"{len(cs)} calls") + pool_en),
            where=run_label(run))
    return tuple(dict.fromkeys(notes))


def check_concurrent(obs):
    """All 5 processes are started before main prints ``start``, and none is waited for (``join``)
    before the next one is started: they run side by side."""
    notes = []
    for run in obs.runs:
        cs = [c for c in calls(run.events, "fizz_buzz") if c.proc != 0]
        assert cs, Failure(
            summary=Msg("fizz_buzz が子プロセスで一度も実行されていないので、判定できません",
                        "fizz_buzz never ran in a child process, so there is nothing to judge"),
            expected=Msg("multiprocessing.Process(target=fizz_buzz, args=(num, bgn0)) を5つ start してから print(\"start\")",
                         "start 5 multiprocessing.Process(target=fizz_buzz, args=(num, bgn0)), then print(\"start\")"),
            observed=Msg("子プロセスでの fizz_buzz の呼び出しなし（processes を参照）",
                         "no call of fizz_buzz in a child process (see processes)"),
            where=run_label(run))
        born = {e.get("proc"): e for e in run.of("proc", process=None)}
        main_pid = born.get(0, {}).get("pid")
        workers = []  # (at, nth, proc, pid, call): the children of main that ran fizz_buzz
        for c in cs:
            e = born.get(c.proc)
            if e is None or not isinstance(e.get("at"), int) or e.get("ppid") != main_pid:
                continue  # forked by another process, or its birth not recorded: judged by the others
            workers.append((e["at"], e.get("nth", 0), c.proc, e.get("pid"), c))
        if _pool(run):
            notes.append(Msg("fizz_buzz はプロセスプールで実行されました: ワーカープロセスが start の前に作られたことだけを判定し、"
                             "呼び出しがまとめてプールに渡されたかどうかは判定していません",
                             "fizz_buzz ran on a process pool: only that its worker processes were made before start "
                             "was judged, not whether the calls were handed to the pool together"))
        elif len(workers) < len(cs):
            notes.append(Msg(f"{len(cs) - len(workers)} 個の呼び出しは、メインのプロセスが直接 start したのではない子プロセスで"
                             "実行されたので、開始の順序を判定していません",
                             f"{len(cs) - len(workers)} call(s) ran in processes main did not start itself: "
                             "their start order was not judged"))
        workers.sort(key=lambda w: (w[0], w[1]))
        order = {w[2]: k for k, w in enumerate(workers, 1)}

        def named(w) -> Msg:
            o = _ordinal(order[w[2]])
            return Msg(f"{o.ja}のプロセス（fizz_buzz({_num(w[4])})）", f"the {o.en} process (fizz_buzz({_num(w[4])}))")

        start = next((e for e in run.of("out") if e.get("th", 0) == 0 and e.get("stream", "out") == "out"
                      and any(START.match(line.strip()) for line in e["s"].splitlines())), None)
        assert start is not None, Failure(
            summary=Msg("メインのプロセスが start を表示していません", "main never prints start"),
            expected=Msg("5つのプロセスをすべて start してから print(\"start\")", "start all 5 processes, then print(\"start\")"),
            observed=Msg("メインのプロセスの出力に start の行がありません", "no start line in the main process's output"),
            where=run_label(run))
        # A child joined (ended and waited for) before a later child was forked: they ran one by one.
        pid_of = {w[3]: w for w in workers}
        for j in run.of("xjoin"):
            w = pid_of.get(j.get("cpid"))
            if w is None or not j.get("done") or j.get("th", 0) != 0:
                continue
            later = [x for x in workers if x[0] >= j["n"]]
            assert not later, Failure(
                summary=Msg("プロセスの終わりを join で待ってから、次のプロセスを開始しています（1つずつ順番に実行される）",
                            "a process is waited for with join before the next one is started (so they run one by one)"),
                expected=Msg("5つのプロセスをすべて start してから print(\"start\")、join はその後でまとめて",
                             "start all 5 processes first, print(\"start\"), and join them only after that"),
                observed=Msg(f"{named(w).ja}を join した後に、{named(later[0]).ja}が開始されました",
                             f"{named(later[0]).en} was started only after {named(w).en} was joined"),
                where=where(run, j.get("ln")))
        late = [w for w in workers if w[0] >= start["n"]]
        assert not late, Failure(
            summary=Msg("start を表示した後にプロセスを開始しています", "processes are started after start is printed"),
            expected=Msg("5つのプロセスをすべて start してから print(\"start\")", "start all 5 processes, then print(\"start\")"),
            observed=Msg(f"start の後に開始: {', '.join(named(w).ja for w in late)}",
                         f"started after start: {', '.join(named(w).en for w in late)}"),
            where=where(run, start.get("ln")))
    return tuple(dict.fromkeys(notes))


def check_result(obs):
    """fizz_buzz returns the correct FizzBuzz list for 1..num, wherever it ran."""
    for run in obs.runs:
        cs = calls(run.events, "fizz_buzz")
        assert cs, _never_ran(run)
        for c in cs:
            num = _num(c)
            if num is None or not c.has_val:
                continue  # no number to check against, or a call that did not return (runs says why)
            runner = Msg(f"{c.proc}番目の子プロセス", f"child process {c.proc}") if c.proc else Msg(c.tn, c.tn)
            failure = wrong_result(num, c.val, where(run, c.ln), runner)
            assert failure is None, failure

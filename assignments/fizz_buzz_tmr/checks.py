"""Checks of fizz_buzz_tmr (see assignment.yaml). Run by ``grade`` or ``pytest --submission``."""
import re

from _lib.fizzbuzz import call_line, wrong_result
from grader.model import Failure, Msg
from grader.verdicts.common import check_runs, run_label  # noqa: F401  (the shared `runs` check)
from grader.verdicts.integrity import check_integrity  # noqa: F401  (the shared `integrity` check)
from grader.verdicts.kit import where

CALLS = 5                       # num_lst = [i*10000000 for i in range(5, 0, -1)]
INTERVALS = (1, 2, 3, 4, 5)     # Timer(t, ...) for t = 1..5 (enumerate(num_lst, 1))
SLACK = 0.25                    # virtual seconds: a Timer fires exactly; a Thread subclass may add a little
START = re.compile(r"start\b", re.IGNORECASE)






def _calls(run) -> list[dict]:
    """The ``call`` events of fizz_buzz in the program's own process (they carry the virtual clock)."""
    return [e for e in run.of("call") if e.get("fn") == "fizz_buzz"]


def _returns(run) -> dict:
    return {e.get("cid"): e for e in run.of("ret") if e.get("fn") == "fizz_buzz"}


def _num(e: dict):
    args = e.get("args")
    return args[0] if isinstance(args, list) and args and isinstance(args[0], int) else None


def _start_line(run) -> dict | None:
    """Main's ``out`` event whose text has a line beginning with ``start``, or None."""
    for e in run.of("out"):
        if e.get("th", 0) == 0 and e.get("stream", "out") == "out" \
                and any(START.match(line.strip()) for line in e["s"].splitlines()):
            return e
    return None


def _secs(x: float) -> str:
    return f"{x:.2f}"


def check_timer(obs):
    """Each of the 5 calls runs in a thread of its own that began it about 1, 2, ..., 5 virtual
    seconds after it was started: a ``threading.Timer`` (however imported), a Timer or Thread
    subclass that waits its interval, the intervals made in any order."""
    for run in obs.runs:
        cs = _calls(run)
        assert cs, Failure(
            summary=Msg("fizz_buzz が一度も実行されていません", "fizz_buzz never ran"),
            expected=Msg("threading.Timer(t, fizz_buzz, args=(num, bgn0)) を start する（t = 1〜5）",
                         "start threading.Timer(t, fizz_buzz, args=(num, bgn0)) for t = 1..5"),
            observed=Msg("fizz_buzz の呼び出しなし（daemon のタイマーはメインが終わると実行されません）",
                         "no call of fizz_buzz (a daemon timer never fires once main has ended)"),
            where=run_label(run))
        in_main = [e for e in cs if e.get("th", 0) == 0]
        assert not in_main, Failure(
            summary=Msg("fizz_buzz がメインスレッドで直接呼ばれています（タイマースレッドではありません）",
                        "fizz_buzz is called directly by MainThread, not by a timer thread"),
            expected=Msg("threading.Timer(t, fizz_buzz, args=(num, bgn0)) を作って start する（time.sleep してから呼ぶのではなく）",
                         "make and start threading.Timer(t, fizz_buzz, args=(num, bgn0)) (not time.sleep, then a call)"),
            observed=Msg(f"MainThread が fizz_buzz を {len(in_main)} 回呼びました（タイマーの start() の代わりに run() を呼ぶと、"
                         "メインスレッドで待ってから実行されます）",
                         f"MainThread called fizz_buzz {len(in_main)} time(s) (a timer's run() instead of start() "
                         "waits and runs it in MainThread)"),
            where=where(run, call_line(obs.tree)) if call_line(obs.tree) else run_label(run))
        per_thread: dict[int, list] = {}
        for e in cs:
            per_thread.setdefault(e["th"], []).append(e)
        shared = next((v for v in per_thread.values() if len(v) > 1), None)
        assert shared is None and len(cs) == CALLS, Failure(
            summary=Msg(f"fizz_buzz の {len(cs)} 回の呼び出しが {len(per_thread)} 個のスレッドで実行されました",
                        f"{len(cs)} fizz_buzz calls ran in {len(per_thread)} thread(s)"),
            expected=Msg(f"{CALLS} 回の呼び出しを、それぞれ別のタイマー（threading.Timer）で",
                         f"{CALLS} calls, each in a timer (threading.Timer) of its own"),
            observed=Msg(f"{shared[0]['tn']} が {len(shared)} 回実行" if shared else f"{len(cs)} 回の呼び出し",
                         f"{shared[0]['tn']} ran it {len(shared)} times" if shared else f"{len(cs)} calls"),
            where=run_label(run))
        started = {e.get("child"): e for e in run.of("spawn")}
        delays = []
        for e in cs:
            s = started.get(e["th"])
            if s is None or not isinstance(e.get("t"), (int, float)) or not isinstance(s.get("t"), (int, float)):
                continue  # a thread whose start was not recorded: judged by the others
            delays.append((e["t"] - s["t"], e, s))
        assert len(delays) == CALLS, Failure(
            summary=Msg("タイマースレッドの開始時刻が記録されていないので判定できません",
                        "the timer threads' start times were not recorded, so the intervals cannot be judged"),
            expected=Msg("threading.Timer を start する", "start threading.Timer objects"),
            observed=Msg(f"開始が記録されたスレッド: {len(delays)} / {CALLS}", f"threads with a recorded start: {len(delays)} of {CALLS}"),
            where=run_label(run))
        wanted = list(INTERVALS)
        wrong = []
        for d, e, s in sorted(delays, key=lambda x: x[0]):
            k = next((k for k in wanted if abs(d - k) <= SLACK), None)
            if k is None:
                wrong.append((d, e, s))
            else:
                wanted.remove(k)
        if wrong:
            d, e, s = wrong[0]
            got = ", ".join(_secs(x[0]) for x in sorted(delays, key=lambda x: x[0]))
            seen = ", ".join(f"{x[1]['tn']}: {_secs(x[0])}" for x in sorted(delays, key=lambda x: x[1]["th"]))
            assert False, Failure(
                summary=Msg(f"5つの呼び出しが、スレッドを start() してから {got} 秒後に始まりました（1, 2, 3, 4, 5 秒後のはず）",
                            f"the 5 calls began {got} s after their threads were started (should be 1, 2, 3, 4, 5 s)"),
                expected=Msg("threading.Timer(t, fizz_buzz, ...) を t = 1, 2, 3, 4, 5 で作り、それぞれ start() の t 秒後に開始"
                             f"（足りない間隔: {', '.join(map(str, wanted))} 秒）",
                             "threading.Timer(t, fizz_buzz, ...) for t = 1, 2, 3, 4, 5, each beginning t s after its start() "
                             f"(intervals missing: {', '.join(map(str, wanted))} s)"),
                observed=Msg(f"start() から fizz_buzz 開始までの秒数（仮想時間）: {seen}。"
                             f"{e['tn']} の fizz_buzz({_num(e)}) は {_secs(d)} 秒後",
                             f"seconds (virtual time) from start() to the fizz_buzz call: {seen}; "
                             f"fizz_buzz({_num(e)}) in {e['tn']} began {_secs(d)} s after"),
                where=where(run, s.get("ln")))


def check_start_first(obs):
    """Main prints ``start`` before any fizz_buzz call begins."""
    for run in obs.runs:
        start = _start_line(run)
        assert start is not None, Failure(
            summary=Msg("メインスレッドが start を表示していません", "main never prints start"),
            expected=Msg("すべてのタイマーを start() した後に print(\"start\")",
                         "print(\"start\") after starting every timer"),
            observed=Msg("MainThread の出力に start の行がありません", "no start line in MainThread's output"),
            where=run_label(run))
        cs = _calls(run)
        early = [e for e in cs if e["n"] < start["n"]]
        if early:
            first = early[0]
            join = next((e for e in run.of("join") if e.get("th", 0) == 0 and e["n"] < start["n"]), None)
            hint = Msg(f"。start の前に {join.get('ln') or '?'} 行目で join してタイマーの終わりを待っています",
                       f"; main waits for a timer with join (line {join.get('ln') or '?'}) before printing start") \
                if join else Msg("", "")
            assert False, Failure(
                summary=Msg("start を表示する前に fizz_buzz が始まっています", "a fizz_buzz call begins before start is printed"),
                expected=Msg("タイマーを start() したらすぐに print(\"start\")：start が最初に表示され、fizz_buzz は 1秒後から始まる",
                             "print(\"start\") right after starting the timers: start comes first, fizz_buzz begins 1 s later"),
                observed=Msg(f"start の前に始まった呼び出し: {len(early)} 個（最初は {first['tn']} の fizz_buzz({_num(first)})、"
                             f"{_secs(first.get('t', 0))} 秒の時点）。start は {_secs(start.get('t', 0))} 秒の時点{hint.ja}",
                             f"calls begun before start: {len(early)} (the first in {first['tn']}, fizz_buzz({_num(first)}) "
                             f"at {_secs(first.get('t', 0))} s); start was printed at {_secs(start.get('t', 0))} s{hint.en}"),
                where=where(run, start.get("ln")))
        assert cs, Failure(
            summary=Msg("fizz_buzz が一度も実行されていないので判定できません", "fizz_buzz never ran, so there is nothing to judge"),
            expected=Msg("start を表示した後に、タイマーが fizz_buzz を実行する", "after start is printed, the timers run fizz_buzz"),
            observed=Msg("fizz_buzz の呼び出しなし", "no call of fizz_buzz"),
            where=run_label(run))


def check_result(obs):
    """fizz_buzz returns the correct FizzBuzz list for 1..num."""
    for run in obs.runs:
        cs = _calls(run)
        assert cs, Failure(
            summary=Msg("fizz_buzz が一度も実行されていないので判定できません", "fizz_buzz never ran, so there is nothing to judge"),
            expected=Msg("タイマーが fizz_buzz を実行する", "the timers run fizz_buzz"),
            observed=Msg("fizz_buzz の呼び出しなし", "no call of fizz_buzz"),
            where=run_label(run))
        rets = _returns(run)
        for e in cs:
            num = _num(e)
            r = rets.get(e.get("cid"))
            if num is None or r is None or "val" not in r:
                continue  # no number to check against, or a call that did not return (runs says why)
            failure = wrong_result(num, r["val"], where(run, e.get("ln")), Msg(e["tn"], e["tn"]))
            assert failure is None, failure

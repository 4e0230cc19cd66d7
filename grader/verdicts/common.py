"""Checks and wording shared by every exercise: ``runs``, and how a run is named to a student.

PYTEST_DONT_REWRITE: pytest rewrites the asserts of a pytest11 plugin's whole package, which would
turn the ``Failure`` an assert carries into a string; this marker keeps it an object.
"""
from __future__ import annotations

import ast
import re
import signal

from ..model import Failure, Msg
from .analysis.timeline import deadlock_timeline
from .observation import Observation, RunRecord

_VARIANT = {
    "course": ("授業のデータ", "the course data"),
    "shuffled": ("行を並べ替えた隠しデータ", "hidden data (lines shuffled)"),
    "rotated": ("開始位置をずらした隠しデータ", "hidden data (starting further down)"),
    "reversed": ("逆順の隠しデータ", "hidden data (reversed)"),
}
_MODE = {"timed": ("sleepは仮想時間", "sleeps on a virtual clock"),
         "yield": ("sleepは切り替えのみ", "sleeps only yield")}
_STRATEGY = {"pct": ("スレッドに乱数で優先度をつけた順", "threads run in an order of random priorities"),
             "random": ("切り替えのたびにスレッドをランダムに選ぶ順", "a thread picked at random at each switch")}


def run_label(run: RunRecord) -> Msg:
    """``schedule #3 (threads run in an order of random priorities, sleeps on a virtual clock, hidden
    data (lines shuffled))``: how it ran, in words (no scheduler jargon)."""
    s = run.schedule
    vj, ve = _VARIANT.get(s.variant, (s.variant, s.variant))
    mj, me = _MODE.get(s.time_mode, (s.time_mode, s.time_mode))
    extra_j = extra_e = ""
    if s.start_method != "fork":
        extra_j = extra_e = f", {s.start_method}"
    for key, value in s.options:
        extra_j += f", {key}={value}"
        extra_e += f", {key}={value}"
    how_j, how_e = _STRATEGY.get(s.strategy, (s.strategy, s.strategy))
    if s.directions and "readers_of" in s.directions[-1].as_json():
        key = s.directions[-1].as_json()["readers_of"]
        what = "" if key is None else f" {key}"
        how_j = f"#{s.origin} の競合から: 各プロセスが共有データ{what}を読むたびに、書く前に他のプロセスへ順番を渡した実行"
        how_e = f"#{s.origin}'s race between processes: each process hands the turn on after reading{what}, before writing"
    elif s.directions:
        how_j = f"#{s.origin} の競合の順序を逆にした実行"
        how_e = f"#{s.origin} with one of its races turned around"
    return Msg(f"スケジュール #{s.index}（{how_j}, {mj}, {vj}{extra_j}）",
               f"schedule #{s.index} ({how_e}, {me}, {ve}{extra_e})")


def line_ref(ln) -> Msg:
    return Msg(f"{ln}行目", f"line {ln}") if ln else Msg("行不明", "line unknown")


def _hang_lines(raw: str, script_name: str, tree: ast.Module | None = None) -> list[str]:
    """From a faulthandler dump: per thread, the innermost line of the submission, as the header
    of the innermost loop around it when there is one (where in the loop the kill landed is luck)."""
    loops = [(node.lineno, node.end_lineno or node.lineno) for node in ast.walk(tree)
             if isinstance(node, (ast.For, ast.While, ast.AsyncFor))] if tree is not None else []
    found = []
    for block in raw.split("\n\n"):
        m = re.search(r'File "[^"]*' + re.escape(script_name) + r'", line (\d+)', block)
        if m and ("most recent call first" in block):
            ln = int(m.group(1))
            inside = [(first, last) for first, last in loops if first <= ln <= last]
            line = str(max(inside)[0]) if inside else str(ln)
            if line not in found:
                found.append(line)
    return found


def why_not_normal(run: RunRecord, obs: Observation) -> Failure:
    """Why one run did not end normally, worded for a student."""
    label = run_label(run)
    where = label
    stop = run.stop_event
    if run.tampered:
        return Failure(
            summary=Msg("プログラムが採点器の記録に書き込みました", "the program wrote into the grader's records"),
            expected=Msg("採点器のファイルやファイル記述子に触れないこと", "a program that leaves the grader's files and descriptors alone"),
            observed=Msg(f"採点器が書いていない記録が {run.tampered} 行ありました",
                         f"{run.tampered} record line(s) were not written by the grader"),
            where=where)
    if run.runner_killed:
        return Failure(
            summary=Msg("プログラムが、自分を実行している採点器のプロセスを終了させました",
                        "the program killed the grader's process that was running it"),
            expected=Msg("自分のプロセスと子プロセスだけを扱うこと", "a program that leaves other processes alone"),
            observed=Msg("親プロセスが強制終了されました（os.kill(os.getppid(), …)？）",
                         "its parent process was killed (os.kill(os.getppid(), ...)?)"),
            where=where)
    if run.timed_out:
        lines = _hang_lines(run.raw_output, obs.filename, obs.tree)
        at = ", ".join(lines)
        return Failure(
            summary=Msg("制限時間内に終わりませんでした（無限ループ？）", "did not finish within the time limit (an endless loop?)"),
            expected=Msg("プログラムが自分で終了すること", "the program ends by itself"),
            observed=Msg(f"制限時間（計算または待機していた時間。マシンが他の処理をしていた時間は数えません）で"
                         f"停止しました。止まっていた行: {at or '不明'}",
                         "stopped at its time limit (time spent computing or waiting; time the machine spent on "
                         f"other work does not count); lines it was running: {at or 'unknown'}"),
            where=where)
    if stop is not None and stop["k"] == "deadlock":
        trace = tuple(Msg(f"{b['tn']} が {_on(b['on'], 'ja')} を待っている（{line_ref(b.get('ln'))('ja')}）",
                          f"{b['tn']} waits for {_on(b['on'], 'en')} ({line_ref(b.get('ln'))('en')})")
                      for b in stop.get("blocked", []))
        if any(b["on"].startswith("recv on a Pipe") for b in stop.get("blocked", [])):
            return Failure(
                summary=Msg("届かないメッセージを recv で待ち続けています", "recv waits for a message that will never come"),
                expected=Msg("recv する前に、子プロセスがそのパイプに send すること",
                             "a child process sends on the pipe before it is received"),
                observed=Msg("子プロセスはすべて終了し、パイプは空のままでした（子プロセスが send する前に終了した？）",
                             "every child process has ended and the pipe is still empty (did a child end without sending?)"),
                where=where, trace=trace)
        forgotten = _kept_by_ended(run, stop)
        if forgotten is not None:
            return Failure(
                summary=Msg("デッドロック: release されないままの同期オブジェクトを待っています",
                            "deadlock: threads wait for what was never released"),
                expected=Msg("acquire したら必ず release すること（with 文を使えば確実）",
                             "every acquire is matched by a release (a with block does it for you)"),
                observed=forgotten, where=where, trace=trace, timeline=deadlock_timeline(run.events, stop))
        return Failure(
            summary=Msg("デッドロック: どのスレッドも進めなくなりました", "deadlock: no thread can go on"),
            expected=Msg("すべてのスレッドが最後まで進むこと", "every thread runs to its end"),
            observed=Msg("すべてのスレッドが互いを待って止まりました", "every thread is waiting for another"),
            where=where, trace=trace, timeline=deadlock_timeline(run.events, stop))
    if stop is not None and stop["k"] == "limit":
        return _limit_failure(stop, where)
    if run.exceptions:
        e = run.exceptions[0]
        if e["type"] == "OSError" and "File too large" in e.get("msg", ""):
            return Failure(
                summary=Msg("出力またはファイルが大きすぎます", "far too much output, or too large a file"),
                expected=Msg("ファイルサイズの上限（RLIMIT_FSIZE）以内", "within the file-size limit (RLIMIT_FSIZE)"),
                observed=Msg.same(f"{e['type']}: {e.get('msg', '')}"), where=where)
        tb = e.get("tb") or []
        ln = tb[-1][1] if tb else None
        observed = Msg.same(f"{e['type']}: {e.get('msg', '')}".rstrip(": "))
        at = Msg(f"{line_ref(ln)('ja')}, {label('ja')}", f"{line_ref(ln)('en')}, {label('en')}")
        if not tb:  # raised in the standard library: point at the program's line that led there
            at, observed = _inside_the_library(run, e, observed, label) or (at, observed)
        if e["type"] == "EOFError" and "reading a line" in e.get("msg", ""):
            observed = Msg(f"{observed.ja}（input() がキーボードからの入力を待ちましたが、採点ではキーボード入力はありません:"
                           " python ファイル名.py < /dev/null と同じく、入力はすぐに終わります）",
                           f"{observed.en} (input() waited for the keyboard, and grading gives no keyboard input:"
                           " as with python file.py < /dev/null, the input ends at once)")
        return Failure(
            summary=Msg(f"{e['tn']} で例外 {e['type']} が発生しました", f"{e['tn']} raised {e['type']}"),
            expected=Msg("例外なく最後まで実行されること", "the program runs to its end without an exception"),
            observed=observed, where=at)
    if run.signal is not None:
        name = _signal_name(run.signal)
        return Failure(
            summary=Msg(f"プログラムがシグナル {name} で強制終了しました", f"the program was killed by signal {name}"),
            expected=Msg("正常終了（終了ステータス0）", "a normal end (exit status 0)"),
            observed=Msg("メモリやプロセス数の上限を超えた可能性があります",
                         "it may have gone over the memory or process limit"),
            where=where)
    code = run.exit_code
    if code == 0:  # status 0 but the engine never saw the program's end
        return Failure(
            summary=Msg("プログラムが途中で強制終了しました（os._exit？）", "the program ended abruptly (os._exit?)"),
            expected=Msg("最後まで実行して終了すること", "the program runs to its end"),
            observed=Msg("終了処理を経ずにプロセスが終わりました", "the process ended without finishing normally"),
            where=where)
    return Failure(
        summary=Msg(f"終了ステータス {code} で終了しました", f"the program exited with status {code}"),
        expected=Msg("終了ステータス 0", "exit status 0"),
        observed=Msg(f"終了ステータス {code}（sys.exit や os._exit？）", f"exit status {code} (sys.exit or os._exit?)"),
        where=where)


_SYNC_OBJECT = re.compile(r"^(?:Lock|RLock|Semaphore|BoundedSemaphore) #(\d+)")


def _kept_by_ended(run: RunRecord, stop: dict) -> Msg | None:
    """When the threads of a deadlock wait for a lock or semaphore that only threads which have
    ended still hold (acquired, never released): who took it, and where."""
    waited = {int(m.group(1)): m.group(0) for b in stop.get("blocked", [])
              if (m := _SYNC_OBJECT.match(b.get("on", "")))}
    if not waited:
        return None
    ended = {e.get("th") for e in run.of("end")}
    held: dict[int, dict[int, list]] = {obj: {} for obj in waited}  # obj -> th -> [count, name, line]
    for e in run.of("acq", "rel"):
        obj = e.get("obj")
        if obj in held:
            entry = held[obj].setdefault(e.get("th"), [0, e.get("tn", "?"), None])
            entry[0] += 1 if e["k"] == "acq" else -1
            if e["k"] == "acq":
                entry[2] = e.get("ln")
    parts_ja, parts_en = [], []
    for obj, name in waited.items():
        holders = [(th, tn, ln) for th, (count, tn, ln) in held[obj].items() if count > 0]
        if not holders or any(th not in ended for th, _, _ in holders):
            return None  # someone alive holds it: an ordinary deadlock
        names = [tn for _, tn, _ in holders]
        lines = sorted({ln for _, _, ln in holders if ln is not None})
        at_ja = "、".join(f"{ln}行目" for ln in lines)
        at_en = ", ".join(str(ln) for ln in lines)
        parts_ja.append(f"{name} は {'・'.join(names)} が acquire したまま（{at_ja}）release せずに終了しました")
        parts_en.append(f"{name} was acquired by {' and '.join(names)}"
                        f"{f' (line {at_en})' if lines else ''}, which ended without releasing it")
    return Msg("。".join(parts_ja) + "。もう誰も release できません",
               "; ".join(parts_en) + ": nobody is left to release it")


def _on(what: str, lang: str) -> str:
    if what == "sleep":
        return "sleep" if lang == "en" else "sleepの終了"
    if what.startswith("join "):
        return f"the end of {what[5:]} (join)" if lang == "en" else f"{what[5:]} の終了（join）"
    if what == "wait":
        return "an Event/Condition" if lang == "en" else "Event/Condition"
    if what.startswith("recv on a Pipe"):
        return what if lang == "en" else "送り手のいない Pipe の recv（子プロセスはすべて終了済み）"
    if lang == "ja" and ", held by " in what:
        obj, holder = what.split(", held by ", 1)
        return f"{obj}（{holder} が保持中）"
    return what


def _limit_failure(stop: dict, where: Msg) -> Failure:
    what = stop.get("what")
    detail = stop.get("detail") or {}
    if what == "output":
        return Failure(
            summary=Msg("出力が多すぎます（止まらない print？）", "far too much output (a print that never stops?)"),
            expected=Msg(f"出力は {detail.get('cap', 0) // 1024} KiB まで", f"at most {detail.get('cap', 0) // 1024} KiB of output"),
            observed=Msg("上限を超えたので打ち切りました", "output went over the cap and the run was stopped"),
            where=where)
    sleepers = [b for b in stop.get("blocked", []) if b.get("on") == "sleep"]
    who = ", ".join(f"{b['tn']} ({line_ref(b.get('ln'))('en')})" for b in sleepers)
    who_ja = "、".join(f"{b['tn']}（{line_ref(b.get('ln'))('ja')}）" for b in sleepers)
    if what == "vtime":
        return Failure(
            summary=Msg("プログラムが終わりません（sleepを繰り返すループ？）", "the program never ends (a loop that keeps sleeping?)"),
            expected=Msg("プログラムが自分で終了すること", "the program ends by itself"),
            observed=Msg(f"仮想時間で {detail.get('vtime', 0):.0f} 秒たっても終わりませんでした。動き続けていたスレッド: {who_ja or '不明'}",
                         f"still running after {detail.get('vtime', 0):.0f} s of virtual time; kept alive by: {who or 'unknown'}"),
            where=where)
    return Failure(
        summary=Msg("プログラムが終わりません（待ち続けるループ？）", "the program never ends (a busy-waiting loop?)"),
        expected=Msg("プログラムが自分で終了すること", "the program ends by itself"),
        observed=Msg(f"{detail.get('steps', 0)} 回の切り替えを超えても終わりませんでした",
                     f"still running after {detail.get('steps', 0)} scheduling steps"),
        where=where)


def _inside_the_library(run: RunRecord, e: dict, observed: Msg, label) -> tuple[Msg, Msg] | None:
    """For an exception with no frame of the program: the line that started its thread (the
    standard library ran the thread's target from there), and why a target is not callable."""
    started = next((s for s in run.events if s["k"] == "spawn" and s.get("proc", 0) == e.get("proc", 0)
                    and s.get("child") == e.get("th") and s.get("ln")), None)
    if started is None:
        return None
    ln = started["ln"]
    at = Msg(f"{ln}行目（{e['tn']} を開始した行。例外は標準ライブラリの中で起きました）, {label('ja')}",
             f"line {ln} (where {e['tn']} was started; the exception came from inside the standard library), "
             f"{label('en')}")
    if e["type"] == "TypeError" and "not callable" in e.get("msg", ""):
        observed = Msg(f"{observed.ja}。スレッドに渡した target が関数ではありません: その場で呼び出していませんか"
                       "（Timer(t, f(x)) ではなく Timer(t, f, args=(x,))）",
                       f"{observed.en}. The thread's target is not a function: was it called at once "
                       "(Timer(t, f(x)) instead of Timer(t, f, args=(x,)))?")
    return at, observed


def _signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return str(sig)


def check_runs(obs: Observation) -> None:
    """Every run ends normally within its limits: no exception, deadlock, hang or crash."""
    for run in sorted(obs.runs, key=lambda r: r.schedule.index):
        assert run.ended_normally, why_not_normal(run, obs)

"""Checks of fizz_buzz_mt (see assignment.yaml). Run by ``grade`` or ``pytest --submission``."""
import ast
import re

from _lib.fizzbuzz import wrong_result
from grader.model import Failure, Msg
from grader.verdicts.analysis import calls
from grader.verdicts.common import check_runs, line_ref, run_label  # noqa: F401
from grader.verdicts.kit import assert_started_before_joined, where
from grader.verdicts.integrity import check_integrity  # noqa: F401  (the shared `integrity` check)

CALLS = 5  # num_lst = [i*10000000 for i in range(5, 0, -1)]






def _repr_pattern(name: str, ident: int | None = None) -> re.Pattern:
    """A Thread's repr as printed: ``<Thread(Thread-1 (fizz_buzz), started 1001)>``; with ``ident``,
    only with the number the run really gave that thread (a made-up string does not match)."""
    state = r"(?:initial|started|stopped)[^)]*" if ident is None else rf"(?:started|stopped)(?: daemon)? {ident}"
    return re.compile(r"<\w+\(" + re.escape(name) + r", " + state + r"\)>")


def _idents(run) -> dict[int, int]:
    """The ident each thread of the main process had in this run, by thread number."""
    found = {e["th"]: e["ident"] for e in run.of("begin") if isinstance(e.get("ident"), int)}
    if found and 0 not in found:
        th, ident = next(iter(found.items()))
        found[0] = ident - th  # MainThread's: the run numbers its threads from it
    return found


def _in_threads(run) -> list:
    """The fizz_buzz calls made by threads of the program's own process (MainThread included; a
    child process's are not the program's threads)."""
    return [c for c in calls(run.events, "fizz_buzz") if c.proc == 0]


def _no_thread_call(run) -> Failure:
    elsewhere = any(c.proc != 0 for c in calls(run.events, "fizz_buzz"))
    return Failure(
        summary=Msg("fizz_buzz がこのプログラムのスレッドで一度も実行されていないので、判定できません",
                    "fizz_buzz never ran in a thread of the program, so there is nothing to judge"),
        expected=Msg("threading.Thread(target=fizz_buzz, ...) で作ったスレッドの中で fizz_buzz を実行する",
                     "fizz_buzz runs in threads made with threading.Thread(target=fizz_buzz, ...)"),
        observed=Msg("fizz_buzz は子プロセスで実行されました（multiprocessing ではなく threading を使う）"
                     if elsewhere else "fizz_buzz は一度も呼ばれていません",
                     "fizz_buzz ran in child processes (use threading, not multiprocessing)"
                     if elsewhere else "fizz_buzz was never called"),
        where=run_label(run))


def _shows(text: str, name: str, ident: int | None = None) -> tuple[bool, bool]:
    """Does ``text`` show the Thread object, and the name besides the repr?"""
    pattern = _repr_pattern(name, ident)
    obj = bool(pattern.search(text))
    rest = pattern.sub("", text)
    return obj, name in rest


def check_import_style(obs):
    """``import threading`` used as a namespace; no ``from threading import ...``."""
    tree = obs.tree
    assert tree is not None, Failure(summary=Msg("構文エラー", "syntax error"))
    froms = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module == "threading"]
    assert not froms, Failure(
        summary=Msg("from threading import ... を使っています", "uses from threading import ..."),
        expected=Msg("import threading として threading.Thread, threading.enumerate() のように書く",
                     "import threading, then write threading.Thread, threading.enumerate()"),
        observed=Msg.same(ast.get_source_segment(obs.source, froms[0]) or "from threading import ..."),
        where=line_ref(froms[0].lineno))
    imports = [n for n in ast.walk(tree) if isinstance(n, ast.Import)
               and any(a.name == "threading" for a in n.names)]
    assert imports, Failure(
        summary=Msg("import threading がありません", "no import threading"),
        expected=Msg("import threading", "import threading"),
        observed=Msg("threading モジュールを import していません", "the threading module is never imported"))


def check_worker_identity(obs):
    """Every fizz_buzz call prints the Thread object (with the ident the run gave it) and name of
    the thread running it; at least one call ran in a thread."""
    for run in obs.runs:
        cs = _in_threads(run)
        assert cs, _no_thread_call(run)
        idents = _idents(run)
        for c in cs:
            printed = "".join(e["s"] for e in run.events if e["k"] == "out" and e.get("proc", 0) == 0
                              and e["th"] == c.th and c.enter_n <= e["n"] <= (c.exit_n or 1 << 60))
            obj, name = _shows(printed, c.tn, idents.get(c.th))
            lines = [ln for ln in printed.splitlines() if "<" in ln or "Thread" in ln][:3]
            assert obj and name, Failure(
                summary=Msg(f"{c.tn} で実行された fizz_buzz が、自分のスレッドの{'名前' if obj else 'Threadオブジェクト'}を表示していません",
                            f"fizz_buzz running in {c.tn} does not print its own thread's {'name' if obj else 'Thread object'}"),
                expected=Msg(f"print(threading.current_thread(), threading.current_thread().name) → <…({c.tn}, started …)> {c.tn}",
                             f"print(threading.current_thread(), threading.current_thread().name) → <…({c.tn}, started …)> {c.tn}"),
                observed=Msg("表示: " + (" / ".join(lines) or "(なし)"), "printed: " + (" / ".join(lines) or "(nothing)")),
                where=where(run, c.ln))


def check_listing(obs):
    """Main prints one line per thread of threading.enumerate(): object and name."""
    for run in obs.runs:
        events = run.events
        enums = [i for i, e in enumerate(events) if e["k"] == "enum" and e.get("proc", 0) == 0 and e["th"] == 0]
        assert enums, Failure(
            summary=Msg("メインスレッドで threading.enumerate() を呼んでいません",
                        "main never calls threading.enumerate()"),
            expected=Msg("for th in threading.enumerate(): print(th, th.name)",
                         "for th in threading.enumerate(): print(th, th.name)"),
            observed=Msg("threading.enumerate() の呼び出しなし", "no call of threading.enumerate()"),
            where=run_label(run))
        problem = None
        for k, i in enumerate(enums):
            end = enums[k + 1] if k + 1 < len(enums) else len(events)
            text = "".join(e["s"] for e in events[i:end] if e["k"] == "out" and e.get("proc", 0) == 0 and e["th"] == 0)
            lines = text.splitlines()
            missing = []
            for t in events[i]["threads"]:
                ok = any(_line_lists(lines, j, t["tn"], t.get("ident")) for j in range(len(lines)))
                if not ok:
                    missing.append(t["tn"])
            if not missing:
                problem = None
                break
            problem = (events[i], missing, lines)
        if problem is not None:
            e, missing, lines = problem
            assert False, Failure(
                summary=Msg(f"threading.enumerate() のスレッド {len(missing)} 個について、Threadオブジェクトと名前の行がありません",
                            f"{len(missing)} thread(s) of threading.enumerate() have no line with their Thread object and name"),
                expected=Msg("一覧の各スレッドについて1行: <Thread(名前, started …)> 名前（MainThread も）",
                             "one line per listed thread: <Thread(name, started …)> name (MainThread too)"),
                observed=Msg("足りないスレッド: " + ", ".join(missing), "missing: " + ", ".join(missing)),
                where=where(run, e.get("ln")))


def _line_lists(lines: list[str], j: int, name: str, ident: int | None = None) -> bool:
    obj, named = _shows(lines[j], name, ident)
    if obj and named:
        return True
    return obj and j + 1 < len(lines) and lines[j + 1].strip() == name


def check_concurrent(obs):
    """The 5 calls run in 5 threads, all started before ``start`` is printed."""
    for run in obs.runs:
        cs = [c for c in calls(run.events, "fizz_buzz") if c.proc == 0]
        threads = {c.th for c in cs}
        assert len(cs) == CALLS and len(threads) == CALLS and 0 not in threads, Failure(
            summary=Msg(f"fizz_buzz の {len(cs)} 回の呼び出しが {len(threads - {0})} 個のスレッドで実行されました",
                        f"{len(cs)} fizz_buzz calls ran in {len(threads - {0})} thread(s)"),
            expected=Msg("5回の呼び出しを5つの threading.Thread で", "5 calls in 5 threading.Thread objects"),
            observed=Msg("メインスレッドでの実行: " + ("あり" if 0 in threads else "なし"),
                         "ran in MainThread: " + ("yes" if 0 in threads else "no")),
            where=run_label(run))
        start = next((e for e in run.events if e["k"] == "out" and e.get("proc", 0) == 0 and e["th"] == 0
                      and "start" in e["s"].split("\n")), None)
        if start is not None:
            late = [e for e in run.events if e["k"] == "spawn" and e.get("proc", 0) == 0 and e["n"] > start["n"]]
            assert not late, Failure(
                summary=Msg("start を表示した後にスレッドを開始しています", "threads are started after start is printed"),
                expected=Msg("5つのスレッドをすべて start してから print(\"start\")",
                             "start all 5 threads, then print(\"start\")"),
                observed=Msg("後から開始: " + ", ".join(e["cn"] for e in late), "started later: " + ", ".join(e["cn"] for e in late)),
                where=where(run, start.get("ln")))
        assert_started_before_joined(run, "fizz_buzz")


def check_result(obs):
    """fizz_buzz returns the correct FizzBuzz list for 1..num, in the threads that ran it."""
    for run in obs.runs:
        cs = _in_threads(run)
        assert cs, _no_thread_call(run)
        for c in cs:
            num = c.args[0] if isinstance(c.args, list) and c.args else None
            if isinstance(num, int):
                failure = wrong_result(num, c.val, where(run, c.ln))
                assert failure is None, failure

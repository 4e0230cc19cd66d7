"""Checks of counter_pp (see assignment.yaml). Run by ``grade`` or ``pytest --submission``."""
import ast

from grader.model import Failure, Msg
from grader.verdicts.analysis import agrees, calls
from grader.verdicts.common import check_runs, run_label, why_not_normal  # noqa: F401
from grader.verdicts.kit import assert_exact_tallies, counted_records, expected_of, fmt_dict, printed_tally, where
from grader.verdicts.integrity import check_integrity  # noqa: F401  (the shared `integrity` check)

DICTS = ("dict", "defaultdict", "Counter", "OrderedDict")


def _calls(run):
    return calls(run.events, "counter")


def _received(run) -> list[dict]:
    """The dicts the parent process received through a Pipe, in order."""
    return [e["val"] for e in run.events if e["k"] == "recv" and e["proc"] == 0 and e.get("type") in DICTS
            and isinstance(e.get("val"), dict)]


def came_through_the_pipe(run, printed: dict, expected: dict):
    """Provenance: the printed tally is a dict the children sent back through a Pipe (or the sum of
    them). A program that received none (a Queue, a Manager) is judged by ``pipe``, not here."""
    received = _received(run)
    if not received:
        return None
    summed: dict = {}
    for d in received:
        for k, v in d.items():
            if isinstance(v, int):
                summed[k] = summed.get(k, 0) + v
    if any(agrees(d, printed, expected) for d in [*received, summed]):
        return None
    last = received[-1] if received else None
    return Failure(
        summary=Msg("表示した集計結果が、子プロセスから Pipe で戻ってきた辞書ではありません",
                    "the printed tally is not the dict that came back from the child processes through the Pipe"),
        expected=Msg("子プロセスが send した辞書を親プロセスで recv して、それを表示する",
                     "receive the dict each child sends, and print what came back"),
        observed=Msg(f"最後に受け取った辞書: {fmt_dict(last) if last is not None else 'なし'}",
                     f"the last dict received: {fmt_dict(last) if last is not None else 'none'}"),
        where=run_label(run))


def own_copies(run):
    """The lecture's counter_mp.py: the children counted in their own copies of the dict and
    nothing came back, so the parent printed its dict unchanged. A failure saying so, or None."""
    got, ln = printed_tally(run)
    if got is None or got == expected_of(run) or _received(run):
        return None
    children = [c for c in _calls(run) if c.proc != 0 and isinstance(c.args, list)
                and any(isinstance(a, dict) for a in c.args)]
    if not children:
        return None
    return Failure(
        summary=Msg("子プロセスはそれぞれ辞書の自分のコピーを更新しただけで、親プロセスの辞書は変わっていません"
                    "（新しいプロセスは親のメモリのコピーから始まり、そこで変えたものはそのプロセスの中に残ります）",
                    "each child process updated its own copy of the dict, and the parent's dict never changed "
                    "(a new process starts from a copy of the parent's memory, and what it changes stays in it)"),
        expected=Msg("子プロセスが数を足した辞書を Pipe で親プロセスに送り返し、親がそれを受け取って表示する",
                     "each child sends the dict it counted back through a Pipe; the parent receives it and prints it"),
        observed=Msg(f"{len(children)} 個の子プロセスが counter を実行しましたが、親プロセスは何も受け取らず "
                     f"{fmt_dict(got)} を表示しました",
                     f"{len(children)} child processes ran counter, the parent received nothing and printed "
                     f"{fmt_dict(got)}"),
        where=where(run, ln))


def check_tally(obs):
    """集計結果 is exact on every run and on hidden data, and is what came back through the Pipe."""
    for run in obs.runs:
        failure = own_copies(run)
        assert failure is None, failure
    assert_exact_tallies(obs.runs, provenance=came_through_the_pipe)


def check_processes(obs):
    """Each counter call runs in a child process of its own, not in a thread."""
    for run in obs.runs:
        cs = _calls(run)
        expected = sum(len(t) for t in counted_records(run))
        in_parent = [c for c in cs if c.proc == 0]
        assert not in_parent, Failure(
            summary=Msg("counter が親プロセスの中で実行されています", "counter ran inside the parent process"),
            expected=Msg("呼び出しごとに multiprocessing.Process を作って start する",
                         "each call runs in a multiprocessing.Process of its own"),
            observed=Msg(f"{in_parent[0].tn} が親プロセスで counter を実行しました",
                         f"{in_parent[0].tn} of the parent process ran counter"),
            where=run_label(run))
        procs = {c.proc for c in cs}
        assert len(cs) == expected and len(procs) == len(cs), Failure(
            summary=Msg(f"counter の呼び出し {len(cs)} 回が {len(procs)} 個の子プロセスで実行されました",
                        f"{len(cs)} counter calls ran in {len(procs)} child processes"),
            expected=Msg(f"{expected} 回の呼び出しを、それぞれ別の子プロセスで",
                         f"{expected} calls, each in a child process of its own"),
            observed=Msg(f"{len(cs)} 回 / {len(procs)} プロセス", f"{len(cs)} calls in {len(procs)} processes"),
            where=run_label(run))


def check_pipe(obs):
    """The dict goes back through a Pipe: send in every child, recv in the parent."""
    for run in obs.runs:
        senders = {e["proc"] for e in run.events if e["k"] == "send" and e["proc"] != 0 and e.get("type") in DICTS}
        silent = [c for c in _calls(run) if c.proc not in senders]
        assert not silent, Failure(
            summary=Msg("子プロセスが辞書を Pipe で送っていません", "a child process does not send the dict through a Pipe"),
            expected=Msg("子プロセスで pp.send(cnt_dct) して pp.close()", "in the child: pp.send(cnt_dct), then pp.close()"),
            observed=Msg(f"{len(silent)} 個の子プロセスが何も send しませんでした（Queue や共有メモリではなく Pipe を使う）",
                         f"{len(silent)} child process(es) sent nothing through a Pipe (use a Pipe, not a Queue or shared memory)"),
            where=run_label(run))
        received = [e for e in run.events if e["k"] == "recv" and e["proc"] == 0 and e.get("type") in DICTS]
        assert received, Failure(
            summary=Msg("親プロセスが Pipe から辞書を受け取っていません", "the parent never receives the dict from the Pipe"),
            expected=Msg("親プロセスで cnt_dct = pp2.recv()", "in the parent: cnt_dct = pp2.recv()"),
            observed=Msg("親プロセスで recv が一度も呼ばれませんでした", "the parent never called recv"),
            where=run_label(run))
        types = {t for row in counted_records(run) for t in row}
        for c in _calls(run):
            mine = [a for a in (c.args if isinstance(c.args, list) else []) if isinstance(a, str) and a in types]
            sent = [e["val"] for e in run.events if e["k"] == "send" and e["proc"] == c.proc
                    and isinstance(e.get("val"), dict)]
            if len(mine) != 1 or not sent:
                continue  # a call whose type is not known: judged by what comes back below
            own = mine[0]
            assert any(isinstance(d.get(own), int) and d[own] >= 1 for d in sent), Failure(
                summary=Msg(f"{own} を数えた子プロセスが Pipe で送り返した辞書に、その {own} が入っていません",
                            f"the child process that counts {own} sends back a dict without its count of {own}"),
                expected=Msg("子プロセスで数を足してから、その辞書を送る（pp.send(cnt_dct)）",
                             "in the child: add the count, then send that dict (pp.send(cnt_dct))"),
                observed=Msg(f"送った辞書: {fmt_dict(sent[-1])}", f"sent: {fmt_dict(sent[-1])}"),
                where=run_label(run))
            # Its own count: one more than the dict it was given holds, or a fresh count of one; a
            # dict counted before the fork and passed through unchanged is no child's work.
            given = next((a for a in c.args if isinstance(a, dict)), None)
            if given is not None and all(isinstance(v, int) for v in given.values()):
                counted_here = (given.get(own, 0) + 1, 1)
                assert any(d.get(own) in counted_here for d in sent), Failure(
                    summary=Msg(f"{own} を数えた子プロセスが、受け取った辞書の {own} を数えずにそのまま送り返しています",
                                f"the child process that counts {own} sends back its dict without adding its count of {own}"),
                    expected=Msg(f"受け取った辞書の {own} に 1 を足してから送る（{own}: {given.get(own, 0)} → "
                                 f"{given.get(own, 0) + 1}）",
                                 f"add 1 to {own} in the dict it was given, then send it ({own}: {given.get(own, 0)} → "
                                 f"{given.get(own, 0) + 1})"),
                    observed=Msg(f"受け取った辞書: {fmt_dict(given)}、送った辞書: {fmt_dict(sent[-1])}",
                                 f"given: {fmt_dict(given)}; sent: {fmt_dict(sent[-1])}"),
                    where=run_label(run))
        counted = [d for d in _received(run) if agrees(d, d, dict.fromkeys(types, 0)) is not None]
        assert counted, Failure(
            summary=Msg("Pipe で戻ってきた辞書に数が入っていません", "the dicts that come back through the Pipe hold no counts"),
            expected=Msg("子プロセスで数を足した辞書を送る（pp.send(cnt_dct)）", "send the dict with the count added (pp.send(cnt_dct))"),
            observed=Msg(f"受け取った辞書: {fmt_dict(_received(run)[-1])}", f"received: {fmt_dict(_received(run)[-1])}"),
            where=run_label(run))


def _has_main_guard(tree) -> bool:
    for node in getattr(tree, "body", []):
        if isinstance(node, ast.If) and "__name__" in ast.unparse(node.test) and "__main__" in ast.unparse(node.test):
            return True
    return False


def _child_name_error(run) -> dict | None:
    """A NameError in a child process (multiprocessing prints it on the child's stderr)."""
    for e in run.exceptions:
        if e.get("proc", 0) != 0 and e.get("type") == "NameError":
            return e
    for e in run.events:
        if e["k"] == "out" and e.get("proc", 0) != 0 and e.get("stream") == "err":
            for line in reversed(e.get("s", "").splitlines()):
                if line.startswith("NameError: "):
                    return {"type": "NameError", "msg": line[len("NameError: "):]}
    return None


def check_spawn_safe(obs):
    """Also correct under spawn (Windows/macOS): __main__ guard and picklable arguments."""
    for run in obs.runs:
        if not run.ended_normally:
            base = why_not_normal(run, obs)
            if not _has_main_guard(obs.tree):
                assert False, Failure(
                    summary=Msg("spawn 方式（Windows/macOS の既定）では動きません: if __name__ == \"__main__\": がありません",
                                "fails under spawn (the default on Windows and macOS): no if __name__ == \"__main__\": guard"),
                    expected=Msg("プロセスを作って start するコードを if __name__ == \"__main__\": の中に書く（子プロセスはファイルを読み込み直すため）",
                                 "put the code that creates and starts processes under if __name__ == \"__main__\": (each child re-imports your file)"),
                    observed=base.observed or base.summary, where=run_label(run))
            child_exc = _child_name_error(run)
            if child_exc is not None:
                assert False, Failure(
                    summary=Msg(f"spawn 方式では子プロセスで {child_exc['type']} になります: {child_exc.get('msg', '')}",
                                f"under spawn, the child processes raise {child_exc['type']}: {child_exc.get('msg', '')}"),
                    expected=Msg("子プロセスが使う名前はモジュールの最上位で定義するか、Process の引数で渡す"
                                 "（子プロセスは if __name__ == \"__main__\": の中を実行しません）",
                                 "define what the children use at the top of the module, or pass it as an argument "
                                 "of the Process (a spawned child does not run the if __name__ == \"__main__\": block)"),
                    observed=Msg.same(f"{child_exc['type']}: {child_exc.get('msg', '')}"), where=run_label(run))
            errors = run.output(stream="err") + "".join(
                e["s"] for e in run.events if e["k"] == "out" and e.get("stream") == "err")
            if "pickle" in errors.lower() or "Can't get attribute" in errors:
                assert False, Failure(
                    summary=Msg("spawn 方式では Process の引数を pickle できません",
                                "under spawn, the Process's target or arguments cannot be pickled"),
                    expected=Msg("target はモジュールの最上位で def した関数、引数は pickle できる値にする",
                                 "the target must be a function defined at the top of the module, the arguments picklable"),
                    observed=base.observed or base.summary, where=run_label(run))
            assert False, Failure(summary=Msg("spawn 方式で正常に終了しません: " + base.summary.ja,
                                              "does not run normally under spawn: " + base.summary.en),
                                  expected=base.expected, observed=base.observed, where=base.where, trace=base.trace)
        assert_exact_tallies([run], provenance=came_through_the_pipe)

"""Checks of counter_pp (see assignment.yaml). Run by ``grade`` or ``pytest --submission``."""
import ast

from grader.model import Failure, Msg
from grader.verdicts.analysis import calls
from grader.verdicts.common import check_runs, run_label, why_not_normal  # noqa: F401
from grader.verdicts.kit import assert_exact_tallies

DICTS = ("dict", "defaultdict", "Counter", "OrderedDict")


def _calls(run):
    return calls(run.events, "counter")


def check_tally(obs):
    """集計結果 is exact on every run and on hidden data."""
    assert_exact_tallies(obs.runs)


def check_processes(obs):
    """Each counter call runs in a child process of its own, not in a thread."""
    for run in obs.runs:
        cs = _calls(run)
        expected = sum(len(t) for t in run.types[:9])
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
        assert_exact_tallies([run])

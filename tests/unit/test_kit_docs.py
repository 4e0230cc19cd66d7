"""docs/kit.md cannot rot: every example marked ``python checks <exercise>`` compiles, names an
exercise, and every public building block of ``grader.verdicts.kit`` has its example there.

(``tests/e2e/test_kit_examples.py`` runs the same examples against real gradings.)
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

from grader.verdicts import kit

ROOT = Path(__file__).resolve().parents[2]
KIT_MD = ROOT / "docs" / "kit.md"
EXERCISES = {"counter_lck", "counter_smp", "counter_pp", "fizz_buzz_mt"}
_BLOCK = re.compile(r"^```python checks (\S+)\n(.*?)^```$", re.M | re.S)


def examples(path: Path = KIT_MD) -> list[tuple[str, int, str]]:
    """``(exercise, line, code)`` of every checks example of a Markdown file."""
    text = path.read_text(encoding="utf-8")
    return [(m.group(1), text.count("\n", 0, m.start(2)) + 1, m.group(2)) for m in _BLOCK.finditer(text)]


def test_every_example_compiles_and_defines_a_check():
    found = examples()
    assert len(found) >= 25
    for exercise, line, code in found:
        assert exercise in EXERCISES, f"kit.md:{line}: unknown exercise {exercise}"
        tree = compile(code, f"docs/kit.md:{line}", "exec", ast.PyCF_ONLY_AST)
        names = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
        assert any(n.startswith("check_") for n in names), f"kit.md:{line}: no check_ function"


def _names(code: str) -> set[str]:
    """The names an example uses or imports."""
    tree = ast.parse(code)
    return ({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
            | {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names})


def _public(module) -> set[str]:
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")}


def test_every_public_function_of_the_kit_has_an_example():
    used = set()
    for _, _, code in examples():
        used |= _names(code)
    missing = sorted(_public(kit) - used)
    assert not missing, f"docs/kit.md has no example using {missing}"


def test_the_helpers_a_check_is_meant_to_use_have_examples():
    used = set()
    for _, _, code in examples():
        used |= _names(code)
    meant = {"calls", "loss_in", "printed_tally", "assert_exact_tallies", "assert_started_before_joined",
             "assert_one_thread_per_call", "where", "line_ref", "run_label", "Failure", "Msg", "check_runs",
             "lock_verdict", "simplest_loss", "lost_updates", "describe_lost_update", "rmw_windows",
             "final_dict_state", "concurrent_locations", "process_view", "process_lock_verdict",
             "expected_tally", "expected_of", "counted_records", "thread_timeline", "peak_inside", "semaphore_holders_peak", "held_locks",
             "sync_objects", "shared_tallies", "threads_wrote", "find_tally", "parse_printed_dict",
             "lost_update_timeline", "lock_timeline", "semaphore_timeline", "deadlock_timeline"}
    assert not sorted(meant - used)


def test_docs_link_each_other():
    instructors = (ROOT / "docs" / "instructors.md").read_text(encoding="utf-8")
    assert "kit.md" in instructors and "events.md" in instructors
    assert "obs.tree()" not in instructors.replace("not `obs.tree()`", "")


def test_which_runs_a_check_sees_is_what_the_docs_say():
    """instructors.md and kit.md: with ``runs:``, the runs that ended normally (all of them with
    ``failed_runs: true``); without ``runs:``, every run, crashed ones too."""
    from grader.exercises.catalog import CheckSpec
    from grader.model import Msg
    from grader.verdicts.judge import _narrow
    from grader.verdicts.observation import Observation, RunRecord, Schedule

    def run(index: int, ok: bool) -> RunRecord:
        events = [{"k": "exit", "n": 1, "pid": 1, "th": 0, "tn": "MainThread", "t": 0.0, "code": 0, "proc": 0}]
        return RunRecord(Schedule(index, "explore", 1, "pct", "timed", "course"), [], events if ok else [], 0 if ok else 1)

    obs = Observation("x", "", "x.py", [run(0, True), run(1, False)])
    spec = CheckSpec("c", 1, Msg.same("c"), Msg.same(""))
    assert [r.schedule.index for r in _narrow(obs, spec).runs] == [0, 1]  # no runs: every run
    with_runs = CheckSpec("c", 1, Msg.same("c"), Msg.same(""), runs=("explore",))
    assert [r.schedule.index for r in _narrow(obs, with_runs).runs] == [0]
    failed_too = CheckSpec("c", 1, Msg.same("c"), Msg.same(""), runs=("explore",), failed_runs=True)
    assert [r.schedule.index for r in _narrow(obs, failed_too).runs] == [0, 1]

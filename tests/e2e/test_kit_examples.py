"""Every example of docs/kit.md, run against real gradings: the model answer of its exercise
(``reference/``) passes it, and a broken submission makes it pass or fail with a ``Failure`` (an
assert), never raise anything else: a wrong name, a wrong signature or a wrong field in the docs
is an error here.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from grader.exercises import catalog
from grader.grading import observe
from grader.model import Failure, Msg
from grader.sources.submission import load_submission

pytestmark = pytest.mark.timeout(300)

ROOT = Path(__file__).resolve().parents[2]
BROKEN = {
    "counter_lck": "tests/submissions/counter_lck/augassign_no_lock.py",
    "counter_smp": "tests/submissions/counter_smp/no_semaphore.py",
    "counter_pp": "tests/submissions/counter_pp/threads_instead.py",
    "fizz_buzz_mt": "tests/submissions/fizz_buzz_mt/join_in_loop.py",
}
_SEEN: dict[tuple[str, str], object] = {}
_BLOCK = re.compile(r"^```python checks (\S+)\n(.*?)^```$", re.M | re.S)  # as tests/unit/test_kit_docs.py


def examples() -> list[tuple[str, int, str]]:
    text = (ROOT / "docs" / "kit.md").read_text(encoding="utf-8")
    return [(m.group(1), text.count("\n", 0, m.start(2)) + 1, m.group(2)) for m in _BLOCK.finditer(text)]


def observed(exercise: str, path: str):
    """The observation a check with ``runs:`` gets: the runs that ended normally (once per file)."""
    key = (exercise, path)
    if key not in _SEEN:
        obs, error, unrunnable = observe(load_submission(str(ROOT / path)), catalog.get(exercise), [1])
        assert error is None and unrunnable is None
        obs = obs[1]
        _SEEN[key] = dataclasses.replace(obs, runs=[r for r in obs.runs if r.ended_normally])
    return _SEEN[key]


def checks_of(code: str, where: str) -> dict:
    namespace: dict = {"__name__": "kit_example"}
    exec(compile(code, where, "exec"), namespace)
    return {name: fn for name, fn in namespace.items() if name.startswith("check_") and callable(fn)}


@pytest.mark.parametrize("exercise,line,code", examples(), ids=lambda v: str(v) if isinstance(v, int) else None)
def test_example_runs_on_real_gradings(exercise, line, code):
    checks = checks_of(code, f"docs/kit.md:{line}")
    model = observed(exercise, f"reference/{exercise}.py")
    assert model.runs
    for name, fn in checks.items():
        said = fn(model)  # the model answer passes every example
        assert said is None or isinstance(said, Msg) or all(isinstance(m, Msg) for m in said), name
        broken = observed(exercise, BROKEN[exercise])
        try:
            fn(broken)
        except AssertionError as exc:
            assert not exc.args or isinstance(exc.args[0], (Failure, Msg, str)), (name, exc.args)

"""The AST rewrite: what becomes a hook call, and that programs keep their meaning and lines."""
import ast
import builtins

import pytest

from grader.engine import hooks
from grader.engine.instrument import compile_submission, rewrite


def rewritten(src: str, traced=()) -> str:
    return ast.unparse(rewrite(ast.parse(src), traced))


@pytest.fixture(autouse=True)
def installed_hooks():
    hooks.install()  # pass-throughs here: no scheduler is active in the test process


@pytest.mark.parametrize("src, expected", [
    ("x = d[k]", "x = __grader_getitem(d, k)"),
    ("d[k] = v", "__grader_setitem(d, k, v)"),
    ("d[k] += 1", "__grader_augitem(d, k, 'iadd', lambda: 1)"),
    ("d[t] = d.get(t, 0) + 1", "__grader_setitem(d, t, __grader_get(d, t, 0) + 1)"),
    ("ok = t in d", "ok = __grader_contains(d, t)"),
    ("ok = t not in d", "ok = not __grader_contains(d, t)"),
])
def test_dict_accesses_become_hooks(src, expected):
    # Compared as trees: ast.unparse's spacing differs between Python versions ("lambda : 1" on 3.10).
    assert ast.dump(ast.parse(rewritten(src))) == ast.dump(ast.parse(expected))


@pytest.mark.parametrize("src", ["y = lst[1:]", "del d[k]", "a[i], b = 1, 2", "x = d.get(k, default=0)"])
def test_slices_deletes_and_unusual_forms_are_left_alone(src):
    assert "__grader_" not in rewritten(src)


def test_traced_functions_get_the_trace_decorator_first():
    out = rewritten("@other\ndef counter(d, t):\n    pass\ndef helper():\n    pass", {"counter"})
    assert out.startswith("@__grader_trace('counter')\n@other\ndef counter")
    assert "@__grader_trace('helper')" not in out


def test_instrumented_program_behaves_the_same():
    src = (
        "import collections\n"
        "d = collections.defaultdict(int)\n"
        "c = {}\n"
        "for t in ['a', 'b', 'a']:\n"
        "    d[t] += 1\n"
        "    c[t] = c.get(t, 0) + 1\n"
        "    if t in c:\n"
        "        c[t] *= 10\n"
        "lst = [1, 2, 3][1:]\n"
        "result = (dict(d), c, lst, 'a' not in c)\n"
    )
    plain, hooked = {}, {}
    exec(compile(src, "s.py", "exec"), plain)
    exec(compile_submission(src, "s.py"), hooked)
    assert hooked["result"] == plain["result"] == ({"a": 2, "b": 1}, {"a": 110, "b": 10}, [2, 3], False)


def test_line_numbers_survive_so_tracebacks_point_at_the_student():
    src = "d = {}\n\n\nx = d['missing']\n"
    with pytest.raises(KeyError) as info:
        exec(compile_submission(src, "s.py"), {})
    lines = [tb.tb_lineno for tb in _walk(info.tb) if tb.tb_frame.f_code.co_filename == "s.py"]
    assert lines[-1] == 4


def test_syntax_errors_surface_as_syntax_errors():
    with pytest.raises(SyntaxError):
        compile_submission("def f(:\n", "s.py")


def _walk(tb):
    while tb is not None:
        yield tb
        tb = tb.tb_next


def test_hooks_are_builtins():
    assert callable(getattr(builtins, "__grader_getitem"))

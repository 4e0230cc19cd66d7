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
    ("x = d[k]", "x = __grader_getitem__(d, k)"),
    ("d[k] = v", "__grader_setitem__(d, k, v)"),
    ("d[k] += 1", "__grader_augitem__(d, k, 'iadd', lambda: 1)"),
    ("d[t] = d.get(t, 0) + 1", "__grader_setitem__(d, t, __grader_get__(d, t, 0) + 1)"),
    ("ok = t in d", "ok = __grader_contains__(d, t)"),
    ("ok = t not in d", "ok = not __grader_contains__(d, t)"),
])
def test_dict_accesses_become_hooks(src, expected):
    # Compared as trees: ast.unparse's spacing differs between Python versions ("lambda : 1" on 3.10).
    assert ast.dump(ast.parse(rewritten(src))) == ast.dump(ast.parse(expected))


@pytest.mark.parametrize("src", ["y = lst[1:]", "del d[k]", "a[i], b = 1, 2", "x = d.get(k, default=0)"])
def test_slices_deletes_and_unusual_forms_are_left_alone(src):
    assert "__grader_" not in rewritten(src)


def test_traced_functions_get_the_trace_decorator_first():
    out = rewritten("@other\ndef counter(d, t):\n    pass\ndef helper():\n    pass", {"counter"})
    assert out.startswith("@__grader_trace__('counter')\n@other\ndef counter")
    assert "@__grader_trace__('helper')" not in out


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
    assert callable(getattr(builtins, "__grader_getitem__"))


# Shapes whose meaning the rewrite must keep: each runs plainly and instrumented, same result.
SHAPES = {
    "private names in a class body": (
        "class CountThread:\n"
        "    def __init__(self, d, t):\n"
        "        self.__d, self.__t = d, t\n"
        "    def run(self):\n"
        "        self.__d[self.__t] = self.__d.get(self.__t, 0) + 1\n"
        "        self.__d[self.__t] += 1\n"
        "        return self.__t in self.__d\n"
        "d = {}\n"
        "result = (CountThread(d, 'a').run(), d)\n"),
    "augmented assignment in a class body sees class names": (
        "counts = {'a': 0}\n"
        "class C:\n"
        "    step = 5\n"
        "    counts['a'] += step\n"
        "result = counts\n"),
    "walrus on the right of an augmented assignment binds where Python binds it": (
        "d = {'a': 1}\n"
        "def f():\n"
        "    d['a'] += (n := 4)\n"
        "    return n\n"
        "result = (f(), d)\n"),
    "global and nonlocal": (
        "d = {}\n"
        "def outer():\n"
        "    total = {'n': 0}\n"
        "    def inner(k):\n"
        "        nonlocal total\n"
        "        global d\n"
        "        d[k] = d.get(k, 0) + 1\n"
        "        total['n'] += 1\n"
        "    for k in 'aab':\n"
        "        inner(k)\n"
        "    return total\n"
        "result = (outer(), d)\n"),
    "comprehensions and match": (
        "d = {'a': 1, 'b': 2}\n"
        "squares = {k: d[k] ** 2 for k in d if k in d}\n"
        "match d:\n"
        "    case {'a': x}:\n"
        "        found = x + d['b']\n"
        "result = (squares, found)\n"),
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_rewrite_keeps_the_meaning_of(name):
    src = SHAPES[name]
    plain, hooked = {}, {}
    exec(compile(src, "s.py", "exec"), plain)
    exec(compile_submission(src, "s.py"), hooked)
    assert hooked["result"] == plain["result"]


def test_defined_functions_finds_methods_and_nested_functions():
    from grader.engine.instrument import defined_functions
    tree = ast.parse("def a():\n    def b(): pass\nclass C:\n    def run(self): pass\n")
    assert defined_functions(tree) == {"a", "b", "run"}

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
    ("x = d[k]", "x = __grader_getitem__(d, k, 0)"),
    ("d[k] = v", "__grader_setitem__(v, d, k, 0)"),  # the value first, as Python evaluates it
    ("d[k] += 1", "__grader_augitem__(d, k, 'iadd', lambda: 1, 0)"),
    ("d[t] = d.get(t, 0) + 1", "__grader_setitem__(__grader_call__(0, d, 'get', t, 0) + 1, d, t, 2)"),
    ("ok = t in d", "ok = __grader_contains__(d, t, 0)"),
    ("ok = t not in d", "ok = not __grader_contains__(d, t, 0)"),
    ("del d[k]", "__grader_delitem__(d, k, 0)"),
    ("y = lst[1:]", "y = __grader_getitem__(lst, __grader_slice__(1, None, None), 0)"),
    ("a[i], b = 1, 2", "__grader_store__(a, 0)[i], b = (1, 2)"),
    ("x = o.a", "x = __grader_attr__(o, 'a', 0)"),
    ("o.a = 1", "__grader_attrset__(1, o, 'a', 0)"),
    ("o.a -= n", "__grader_augattr__(o, 'a', 'isub', lambda: n, 0)"),
    ("o.f(1)", "o.f(1)"),  # looking a method up reads no state
    ("lst.append(t)", "__grader_call__(0, lst, 'append', t)"),
    ("dict.__setitem__(d, k, 1)", "__grader_call__(0, dict, '__setitem__', d, k, 1)"),
    ("x = getattr(o, 'a', 0)", "x = __grader_getattr__(0, o, 'a', 0)"),
    ("setattr(o, name, 1)", "__grader_setattr__(0, o, name, 1)"),
    ("lst += [1]", "lst = __grader_iop__(lst, 'iadd', [1], 0)"),
    ("import threading\nt = threading.Thread()", "import threading\nt = threading.Thread()"),
])
def test_accesses_become_hooks(src, expected):
    # Compared as trees: ast.unparse's spacing differs between Python versions ("lambda : 1" on 3.10).
    assert ast.dump(ast.parse(rewritten(src))) == ast.dump(ast.parse(expected))


def test_globals_that_functions_rebind_are_hooked_where_they_mean_the_global():
    src = ("n = 0\ncnt = {}\n"
           "def f(t):\n    global n, cnt\n    n += 1\n    cnt = {**cnt, t: 1}\n"
           "def g():\n    return n\n"
           "def h(n):\n    return n\n"
           "class C:\n    n = 5\n")
    out = rewritten(src).replace("lambda :", "lambda:")  # 3.10's unparse spaces it
    assert "__grader_gstore__('n', 0" in out                      # the module's own assignment
    assert "__grader_gaug__('n', 'iadd', lambda: 1" in out        # under ``global n``
    assert "__grader_gstore__('cnt', {**__grader_gload__('cnt'" in out
    assert "return __grader_gload__('n'" in out                   # g reads the global
    assert "def h(n):\n    return n" in out                      # h's n is its parameter
    assert "class C:\n    n = 5" in out                          # a class body's own name


def test_private_attributes_are_mangled_as_the_compiler_does():
    out = rewritten("class _Acc:\n    def f(self):\n        self.__b += 1\n        return self.__b\n")
    assert "'_Acc__b'" in out and "'__b'" not in out


def test_the_site_table_names_each_object_as_the_program_writes_it():
    from grader.engine.instrument import instrument_tree
    _, sites = instrument_tree(ast.parse("src.balance -= 1\nCOUNTS[i] += 1\nself.cnt['a'] = 2\n"))
    assert [(s.ln, s.kind, s.label) for s in sites] == [
        (1, "attr", "src"), (2, "item", "COUNTS"), (3, "attr", "self"), (3, "item", "self.cnt")]


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


def test_containers_a_function_keeps_to_itself_are_not_hooked():
    from grader.engine.instrument import thread_local_names
    tree = ast.parse(
        "def f(shared, n):\n"
        "    result = list()\n"
        "    seen = {}\n"
        "    for i in range(n):\n"
        "        result.append(i)\n"
        "        seen[i] = seen.get(i, 0) + 1\n"
        "    leaked = []\n"
        "    shared['x'] = leaked\n"
        "    passed = {}\n"
        "    print(passed)\n"
        "    captured = []\n"
        "    g = lambda: captured\n"
        "    rebound = []\n"
        "    rebound = shared\n"
        "    size = len(seen)\n"
        "    return result\n")
    assert thread_local_names(tree.body[0]) == {"result", "seen"}
    out = rewritten(ast.unparse(tree))
    assert "result.append(i)" in out and "seen[i] = seen.get(i, 0) + 1" in out
    assert "__grader_setitem__(leaked, shared, 'x'" in out  # what is not the function's own is hooked


def test_an_expression_too_deep_to_compile_is_evaluated_apart_from_its_text():
    """3.10-3.12 refuse to compile an AST nested past a fixed C bound, however high the recursion
    limit: the deepest expression is evaluated from its own text, where it stands, at its line."""
    import ast as ast_module
    import builtins

    from grader.engine import hooks
    from grader.engine.hooknames import hook_name
    from grader.engine.instrument import DEEP, apart

    terms = " + ".join(f"x{i % 3}" for i in range(DEEP + 50))
    source = f"x0, x1, x2 = 1, 2, 3\ndef f(k):\n    return k * ({terms})\n\ntotal = f(2)\n"
    tree = apart(ast_module.parse(source), source)
    placed = [n for n in ast_module.walk(tree) if isinstance(n, ast_module.Call)
              and isinstance(n.func, ast_module.Name) and n.func.id == hook_name("deep")]
    assert len(placed) == 1 and placed[0].args[1].value == 3 and placed[0].args[0].value.startswith("k * (x0 + x1")
    namespace: dict = {}
    saved = getattr(builtins, hook_name("deep"), None)
    setattr(builtins, hook_name("deep"), hooks.deep)
    try:
        exec(compile(tree, "deep.py", "exec"), namespace)
    finally:
        if saved is None:
            delattr(builtins, hook_name("deep"))
        else:
            setattr(builtins, hook_name("deep"), saved)
    expected = 2 * sum((1, 2, 3)[i % 3] for i in range(DEEP + 50))
    assert namespace["total"] == expected

"""Rewrites a submission's AST so that the engine sees every access of state two threads can share.

A thread switch can only happen at a scheduling point, so ``d[k] += 1`` looks atomic unless the
read and the write are points of their own. The rewrite routes each access through a hook
(``grader.engine.hooks``) that passes it straight through unless several threads live, and models
it as the reads and writes it makes otherwise:

- subscripts of any container: ``x[k]``, ``x[k] = v``, ``x[k] op= v``, ``del x[k]``
- attributes: ``o.a``, ``o.a = v``, ``o.a op= v``, ``del o.a``, ``getattr``/``setattr``/``delattr``/
  ``hasattr``
- module globals that a function declares ``global`` (the ones threads can rebind): loads, stores,
  ``op=`` and ``del``
- membership ``k in x`` / ``k not in x``, and the container methods of ``METHODS`` however they are
  spelled (``d.get(k)``, ``dict.__setitem__(d, k, v)``, ``Counter.update(c, ts)``)
- ``n op= v`` on any name (an in-place ``+=`` on a shared list mutates it)
- ``def f`` for each traced function name -> decorated with ``__grader_trace__("f")``

Every hook call carries its *site*, an index into the table ``instrument`` returns (line, column,
the expression the program names the object by): the parent names what the reports show from its
own table, never from what the child says.

Targets that are not a single plain one (``a[i], b[j] = ...``, ``for o.x in ...``, ``with f() as
d[k]``) go through a store proxy (``__grader_store__(x, site)[k]``) so Python's own order of
evaluation and assignment is kept. The hooks are builtins whose names start *and end* with two
underscores: Python never mangles such a name in a class body, and no binding of the student's can
shadow a name of that form by accident. Line numbers are kept. Pure: no I/O.
"""
from __future__ import annotations

import ast
import operator
from dataclasses import dataclass

from .hooknames import hook_name

AUG_OPS = {
    ast.Add: "iadd", ast.Sub: "isub", ast.Mult: "imul", ast.Div: "itruediv",
    ast.FloorDiv: "ifloordiv", ast.Mod: "imod", ast.Pow: "ipow", ast.BitOr: "ior",
    ast.BitAnd: "iand", ast.BitXor: "ixor", ast.LShift: "ilshift", ast.RShift: "irshift",
    ast.MatMult: "imatmul",
}
assert all(hasattr(operator, name) for name in AUG_OPS.values())

# Methods of the built-in containers that read or change them (the hook decides at run time whether
# the object is a container: ``q.get()`` of a queue or ``s.count("a")`` of a string pass through).
METHODS = frozenset(
    "get setdefault pop popitem update clear subtract append extend insert remove index count sort "
    "reverse add discard appendleft popleft extendleft rotate __getitem__ __setitem__ __delitem__ "
    "__contains__".split())

_ATTR_BUILTINS = {"getattr": "getattr", "setattr": "setattr", "delattr": "delattr", "hasattr": "hasattr"}

# An expression a lambda cannot hold with the same meaning: an assignment expression would bind
# inside the lambda, and await/yield are not allowed there at all.
_NOT_IN_LAMBDA = (ast.NamedExpr, ast.Await, ast.Yield, ast.YieldFrom)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_LABEL_MAX = 40


@dataclass(frozen=True)
class Site:
    """One place in the submission where a hook is called."""

    ln: int
    col: int
    kind: str
    """``item``, ``attr``, ``global``, ``in``, ``call`` (a container method), ``iop`` or ``store``."""
    label: str
    """How the program names the object there (``cnt_dct``, ``self.counts``); the global's name."""

    def as_json(self) -> list:
        return [self.ln, self.col, self.kind, self.label]


def _name(hook: str) -> ast.Name:
    return ast.Name(id=hook_name(hook), ctx=ast.Load())


def _label(node: ast.AST) -> str:
    try:
        text = ast.unparse(node)
    except Exception:  # an AST the unparser does not know: the label is only for the reader
        return "?"
    text = " ".join(text.split())
    return text if len(text) <= _LABEL_MAX else text[:_LABEL_MAX - 1] + "…"


def mangle(name: str, class_name: str | None) -> str:
    """``__x`` inside ``class _Foo`` -> ``_Foo__x``, as the compiler does for ``self.__x``."""
    if not class_name or not name.startswith("__") or name.endswith("__") or "." in name:
        return name
    stripped = class_name.lstrip("_")
    return f"_{stripped}{name}" if stripped else name


def _lambda(body: ast.expr, like: ast.AST) -> ast.Lambda:
    return ast.copy_location(ast.Lambda(args=ast.arguments(
        posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]),
        body=body), like)


def declared_globals(tree: ast.AST) -> frozenset[str]:
    """Names some function (or lambda-free scope below the module) declares ``global``: the
    module globals that code other than the module's own top level can rebind."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in _own_nodes(node):
                if isinstance(inner, ast.Global):
                    out.update(inner.names)
    return frozenset(out)


def _own_nodes(scope: ast.AST):
    """The nodes of ``scope``'s own body, not of the scopes nested in it."""
    stack = list(ast.iter_child_nodes(scope))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, _SCOPES):
            # a nested def/class binds its name here; its decorators and defaults run here too
            stack.extend(node.decorator_list if not isinstance(node, ast.Lambda) else [])
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                stack.extend(d for d in node.args.defaults + node.args.kw_defaults if d is not None)
            if isinstance(node, ast.ClassDef):
                stack.extend(node.bases)
            continue
        if isinstance(node, _COMPREHENSIONS):
            stack.append(node.generators[0].iter)  # evaluated in the enclosing scope
            continue
        stack.extend(ast.iter_child_nodes(node))


def _bound(scope: ast.AST) -> tuple[set[str], set[str]]:
    """(names bound in ``scope`` itself, names it declares ``global``)."""
    bound: set[str] = set()
    glob: set[str] = set()
    if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        a = scope.args
        for arg in a.posonlyargs + a.args + a.kwonlyargs + [x for x in (a.vararg, a.kwarg) if x]:
            bound.add(arg.arg)
    elif isinstance(scope, _COMPREHENSIONS):
        for gen in scope.generators:
            bound.update(n.id for n in ast.walk(gen.target) if isinstance(n, ast.Name))
        return bound, glob
    for node in _own_nodes(scope):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bound.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.Global):
            glob.update(node.names)
        elif isinstance(node, ast.Nonlocal):
            bound.update(node.names)
        elif type(node).__name__ in ("MatchAs", "MatchStar") and getattr(node, "name", None):
            bound.add(node.name)
        elif type(node).__name__ == "MatchMapping" and getattr(node, "rest", None):
            bound.add(node.rest)
    return bound - glob, glob


_FRESH_CALLS = frozenset({"list", "dict", "set", "Counter", "defaultdict", "OrderedDict", "deque"})


def _fresh(value: ast.expr, shadowed) -> bool:
    """A new container made right there: ``[]``, ``{}``, a comprehension, ``list(...)``,
    ``collections.Counter()``..."""
    if isinstance(value, (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)):
        return True
    if isinstance(value, ast.Call):
        f = value.func
        if isinstance(f, ast.Name):
            return f.id in _FRESH_CALLS and f.id not in shadowed
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
            return f.attr in _FRESH_CALLS and f.value.id == "collections"
    return False


def thread_local_names(func: ast.AST, shadowed=frozenset()) -> frozenset[str]:
    """Local names of ``func`` whose container no other thread can reach while the function runs:
    bound only to a fresh container (``result = []``), and used only as a container (its items,
    its methods, ``in`` it, iterating it, ``len``) or returned. Their accesses need no hook.
    Anything else (passed to a call, stored somewhere, yielded, seen by a nested function) and the
    name is left to the hooks."""
    if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return frozenset()
    bound, glob = _bound(func)
    args = {a.arg for a in func.args.posonlyargs + func.args.args + func.args.kwonlyargs}
    candidates = bound - args - glob
    nested: set[str] = set()
    ok_uses: set[int] = set()   # ids of Name nodes used as a container
    stores: dict[str, list] = {}
    for node in ast.walk(func):
        if node is not func and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            nested.update(n.id for n in ast.walk(node) if isinstance(n, ast.Name))
            continue
        if isinstance(node, ast.Nonlocal):
            nested.update(node.names)
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            ok_uses.add(id(node.value))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and isinstance(node.func.value, ast.Name) and node.func.attr in METHODS):
            ok_uses.add(id(node.func.value))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "len"
              and len(node.args) == 1 and isinstance(node.args[0], ast.Name)):
            ok_uses.add(id(node.args[0]))
        elif isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], (ast.In, ast.NotIn)) \
                and isinstance(node.comparators[0], ast.Name):
            ok_uses.add(id(node.comparators[0]))
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)) and isinstance(node.iter, ast.Name):
            ok_uses.add(id(node.iter))
        elif isinstance(node, ast.Return) and isinstance(node.value, ast.Name):
            ok_uses.add(id(node.value))
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            ok_uses.add(id(node.target))
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            stores.setdefault(node.targets[0].id, []).append(node.value)
            ok_uses.add(id(node.targets[0]))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            stores.setdefault(node.target.id, []).append(node.value)
            ok_uses.add(id(node.target))
    out = set()
    for name in candidates - nested:
        values = stores.get(name)
        if not values or not all(_fresh(v, shadowed | bound) for v in values):
            continue
        uses = [n for n in _walk_own(func) if isinstance(n, ast.Name) and n.id == name]
        if all(id(n) in ok_uses for n in uses):
            out.add(name)
    return frozenset(out)


def _walk_own(func):
    """Every node of ``func`` but those of the functions, lambdas and classes nested in it."""
    stack = list(ast.iter_child_nodes(func))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))


def _module_imports(tree: ast.Module) -> frozenset[str]:
    """Names bound only by a top-level ``import x`` (``threading``, ``time``): ``x.attr`` on them
    reads a module, never shared state, and is left alone."""
    imported: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            imported.update((a.asname or a.name).split(".")[0] for a in node.names)
    rebound = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del))}
    rebound |= {a.asname or a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                for a in n.names}
    return frozenset(imported - rebound)


class _Scope:
    __slots__ = ("kind", "bound", "glob", "class_name", "local")

    def __init__(self, kind: str, bound=frozenset(), glob=frozenset(), class_name=None, local=frozenset()):
        self.kind = kind            # module, class, function, comprehension
        self.bound = bound
        self.glob = glob
        self.class_name = class_name
        self.local = local          # names of thread-local containers (``thread_local_names``)


class _Rewriter(ast.NodeTransformer):
    def __init__(self, traced: frozenset[str], shared_globals: frozenset[str], modules: frozenset[str],
                 module_bound: frozenset[str]):
        self.traced = traced
        self.module_bound = module_bound
        self.shared_globals = shared_globals
        self.modules = modules
        self.scopes: list[_Scope] = [_Scope("module")]
        self.sites: list[Site] = []

    # -- helpers ------------------------------------------------------------------------------

    def _site(self, node: ast.AST, kind: str, label: str) -> ast.Constant:
        self.sites.append(Site(getattr(node, "lineno", 0) or 0, getattr(node, "col_offset", 0) or 0, kind, label))
        return ast.Constant(len(self.sites) - 1)

    def _call(self, hook: str, args: list[ast.expr], like: ast.AST, keywords=()) -> ast.Call:
        return ast.copy_location(ast.Call(func=_name(hook), args=args, keywords=list(keywords)), like)

    def _class_name(self) -> str | None:
        return next((s.class_name for s in reversed(self.scopes) if s.kind == "class"), None)

    def _attr(self, name: str) -> ast.Constant:
        return ast.Constant(mangle(name, self._class_name()))

    def _lazy(self, rhs: ast.expr) -> bool:
        """May ``rhs`` be wrapped in a lambda (evaluated after the read, as Python does)? Not in a
        class body (its names are invisible to a lambda), nor around walrus/await/yield."""
        return self.scopes[-1].kind != "class" and not any(isinstance(n, _NOT_IN_LAMBDA) for n in ast.walk(rhs))

    def _is_global(self, name: str) -> bool:
        """Does ``name`` here mean a module global that threads can rebind?"""
        if name not in self.shared_globals:
            return False
        for scope in reversed(self.scopes):
            if scope.kind == "module":
                return True
            if scope.kind == "class":
                if scope is self.scopes[-1]:
                    return False  # a class body's own names are the class's
                continue
            if name in scope.glob:
                return True
            if name in scope.bound:
                return False
        return True

    def _module_name(self, node: ast.expr) -> bool:
        return isinstance(node, ast.Name) and node.id in self.modules

    def _thread_local(self, node: ast.expr) -> bool:
        """A name of the innermost function bound to a container only it can reach."""
        if not isinstance(node, ast.Name):
            return False
        for scope in reversed(self.scopes):
            if scope.kind == "function":
                return node.id in scope.local
            if scope.kind != "comprehension":
                return False
        return False

    # -- scopes -------------------------------------------------------------------------------

    def visit_ClassDef(self, node: ast.ClassDef):
        node.decorator_list = [self.visit(d) for d in node.decorator_list]
        node.bases = [self.visit(b) for b in node.bases]
        node.keywords = [self.visit(k) for k in node.keywords]
        self.scopes.append(_Scope("class", class_name=node.name))
        try:
            node.body = self._body(node.body)
        finally:
            self.scopes.pop()
        return node

    def _body(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for s in stmts:
            r = self.visit(s)
            if r is None:
                continue
            out.extend(r if isinstance(r, list) else [r])
        return out or [ast.Pass()]

    def _function(self, node):
        bound, glob = _bound(node)
        node.decorator_list = [self.visit(d) for d in node.decorator_list]
        node.args = self.visit(node.args)
        if node.returns is not None:
            node.returns = self.visit(node.returns)
        local = thread_local_names(node, self.module_bound)
        self.scopes.append(_Scope("function", frozenset(bound), frozenset(glob), local=local))
        try:
            node.body = self._body(node.body)
        finally:
            self.scopes.pop()
        if node.name in self.traced:
            deco = self._call("trace", [ast.Constant(node.name)], node)
            node.decorator_list = [deco, *node.decorator_list]
        return node

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def visit_Lambda(self, node: ast.Lambda):
        bound, _ = _bound(node)
        node.args = self.visit(node.args)
        self.scopes.append(_Scope("function", frozenset(bound)))
        try:
            node.body = self.visit(node.body)
        finally:
            self.scopes.pop()
        return node

    def _comprehension(self, node):
        bound, _ = _bound(node)
        first = node.generators[0]
        first.iter = self.visit(first.iter)  # evaluated in the enclosing scope
        self.scopes.append(_Scope("comprehension", frozenset(bound)))
        try:
            first.target = self.visit(first.target)
            first.ifs = [self.visit(x) for x in first.ifs]
            for gen in node.generators[1:]:
                self.visit(gen)
            for field in ("elt", "key", "value"):
                if getattr(node, field, None) is not None:
                    setattr(node, field, self.visit(getattr(node, field)))
        finally:
            self.scopes.pop()
        return node

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comprehension

    # -- loads --------------------------------------------------------------------------------

    def _key(self, node: ast.expr) -> ast.expr:
        """A subscript's key as an expression a call can take (``a:b`` -> ``slice(a, b)``)."""
        node = self.visit(node)
        if isinstance(node, ast.Slice):
            parts = [p if p is not None else ast.Constant(None) for p in (node.lower, node.upper, node.step)]
            return self._call("slice", parts, node)
        if isinstance(node, ast.Tuple) and any(isinstance(e, ast.Slice) for e in node.elts):
            node.elts = [self._call("slice", [p if p is not None else ast.Constant(None)
                                              for p in (e.lower, e.upper, e.step)], e)
                         if isinstance(e, ast.Slice) else e for e in node.elts]
        return node

    def visit_Subscript(self, node: ast.Subscript):
        if self._thread_local(node.value):
            self.generic_visit(node)
            return node
        if isinstance(node.ctx, ast.Load):
            obj, key = self.visit(node.value), self._key(node.slice)
            site = self._site(node, "item", _label(node.value))
            return self._call("getitem", [obj, key, site], node)
        self.generic_visit(node)
        return node

    def visit_Attribute(self, node: ast.Attribute):
        self.generic_visit(node)
        if (isinstance(node.ctx, ast.Load) and not _dunder(node.attr) and not self._module_name(node.value)):
            site = self._site(node, "attr", _label(node.value))
            return self._call("attr", [node.value, self._attr(node.attr), site], node)
        return node

    def visit_Name(self, node: ast.Name):
        if isinstance(node.ctx, ast.Load) and self._is_global(node.id):
            return self._call("gload", [ast.Constant(node.id), self._site(node, "global", node.id)], node)
        return node

    def visit_Call(self, node: ast.Call):
        func = node.func
        if (isinstance(func, ast.Attribute) and func.attr in METHODS and not self._module_name(func.value)
                and not self._thread_local(func.value)):
            obj = self.visit(func.value)
            args = [self.visit(a) for a in node.args]
            keywords = [self.visit(k) for k in node.keywords]
            site = self._site(func, "call", _label(func.value))
            # The next site names the first argument: the object of ``dict.get(d, k)``, said unbound.
            self._site(func, "call", _label(node.args[0]) if node.args else _label(func.value))
            return self._call("call", [site, obj, ast.Constant(func.attr), *args], node, keywords)
        if (isinstance(func, ast.Name) and func.id in _ATTR_BUILTINS and not node.keywords
                and self._builtin(func.id) and 2 <= len(node.args) <= 3
                and not any(isinstance(a, ast.Starred) for a in node.args)):
            args = [self.visit(a) for a in node.args]
            site = self._site(node, "attr", _label(node.args[0]))
            return self._call(_ATTR_BUILTINS[func.id], [site, *args], node)
        if isinstance(func, ast.Attribute):
            # ``o.method(...)``: looking a method up reads no shared state; only ``o`` is visited.
            func.value = self.visit(func.value)
            node.args = [self.visit(a) for a in node.args]
            node.keywords = [self.visit(k) for k in node.keywords]
            return node
        self.generic_visit(node)
        return node

    def _builtin(self, name: str) -> bool:
        """``name`` is not bound by the program anywhere it could be seen from here."""
        return not any(name in s.bound or name in s.glob for s in self.scopes) and name not in self.module_bound

    def visit_Compare(self, node: ast.Compare):
        self.generic_visit(node)
        if (len(node.ops) == 1 and isinstance(node.ops[0], (ast.In, ast.NotIn))
                and not self._thread_local(node.comparators[0])):
            site = self._site(node, "in", _label(node.comparators[0]))
            call = self._call("contains", [node.comparators[0], node.left, site], node)
            if isinstance(node.ops[0], ast.NotIn):
                return ast.copy_location(ast.UnaryOp(op=ast.Not(), operand=call), node)
            return call
        return node

    # -- stores -------------------------------------------------------------------------------

    def visit_Assign(self, node: ast.Assign):
        node.value = self.visit(node.value)
        if len(node.targets) == 1:
            simple = self._simple_store(node.targets[0], node.value, node)
            if simple is not None:
                return simple
        node.targets = [self._target(t) for t in node.targets]
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign):
        if node.value is None:
            return node
        node.value = self.visit(node.value)
        node.annotation = self.visit(node.annotation)
        simple = self._simple_store(node.target, node.value, node)
        if simple is not None:
            return simple
        node.target = self._target(node.target)
        return node

    def _simple_store(self, target: ast.expr, value: ast.expr, like: ast.stmt) -> ast.stmt | None:
        """``x[k] = v``, ``o.a = v`` or ``g = v`` as one hook call; None for any other target."""
        if isinstance(target, ast.Subscript) and self._thread_local(target.value):
            return None
        # The value first: Python evaluates it before the target's object and key.
        if isinstance(target, ast.Subscript):
            obj, key = self.visit(target.value), self._key(target.slice)
            site = self._site(target, "item", _label(target.value))
            call = self._call("setitem", [value, obj, key, site], like)
        elif isinstance(target, ast.Attribute) and not _dunder(target.attr):
            obj = self.visit(target.value)
            site = self._site(target, "attr", _label(target.value))
            call = self._call("attrset", [value, obj, self._attr(target.attr), site], like)
        elif isinstance(target, ast.Name) and self._is_global(target.id):
            site = self._site(target, "global", target.id)
            call = self._call("gstore", [ast.Constant(target.id), value, site], like)
        else:
            return None
        return ast.copy_location(ast.Expr(value=call), like)

    def _target(self, t: ast.expr) -> ast.expr:
        """A store target that is not alone on its left-hand side, through a store proxy."""
        if isinstance(t, ast.Subscript) and self._thread_local(t.value):
            return self.visit(t)
        if isinstance(t, ast.Subscript):
            obj, key = self.visit(t.value), self.visit(t.slice)  # a proxy's subscript may be a slice
            proxy = self._call("store", [obj, self._site(t, "item", _label(t.value))], t)
            return ast.copy_location(ast.Subscript(value=proxy, slice=key, ctx=t.ctx), t)
        if isinstance(t, ast.Attribute) and not _dunder(t.attr):
            obj = self.visit(t.value)
            proxy = self._call("store", [obj, self._site(t, "attr", _label(t.value))], t)
            return ast.copy_location(ast.Attribute(value=proxy, attr=t.attr, ctx=t.ctx), t)
        if isinstance(t, ast.Name) and self._is_global(t.id):
            proxy = self._call("gtarget", [self._site(t, "global", t.id)], t)
            return ast.copy_location(ast.Attribute(value=proxy, attr=t.id, ctx=t.ctx), t)
        if isinstance(t, (ast.Tuple, ast.List)):
            t.elts = [self._target(e) for e in t.elts]
            return t
        if isinstance(t, ast.Starred):
            t.value = self._target(t.value)
            return t
        return self.visit(t)

    def visit_For(self, node):
        node.iter = self.visit(node.iter)
        node.target = self._target(node.target)
        node.body = self._body(node.body)
        node.orelse = self._body(node.orelse) if node.orelse else []
        return node

    visit_AsyncFor = visit_For

    def visit_withitem(self, node: ast.withitem):
        node.context_expr = self.visit(node.context_expr)
        if node.optional_vars is not None:
            node.optional_vars = self._target(node.optional_vars)
        return node

    def visit_AugAssign(self, node: ast.AugAssign):
        target = node.target
        if type(node.op) not in AUG_OPS:
            self.generic_visit(node)
            return node
        op = ast.Constant(AUG_OPS[type(node.op)])
        rhs = self.visit(node.value)
        lazy = self._lazy(rhs)
        thunk = _lambda(rhs, node) if lazy else rhs
        if isinstance(target, ast.Subscript) and self._thread_local(target.value):
            node.target = self.visit(target)
            node.value = rhs
            return node
        if isinstance(target, ast.Name) and self._thread_local(target):
            node.value = rhs
            return node
        if isinstance(target, ast.Subscript):
            obj, key = self.visit(target.value), self._key(target.slice)
            site = self._site(target, "item", _label(target.value))
            call = self._call("augitem" if lazy else "augitem_value", [obj, key, op, thunk, site], node)
        elif isinstance(target, ast.Attribute) and not _dunder(target.attr):
            obj = self.visit(target.value)
            site = self._site(target, "attr", _label(target.value))
            call = self._call("augattr" if lazy else "augattr_value", [obj, self._attr(target.attr), op, thunk, site], node)
        elif isinstance(target, ast.Name) and self._is_global(target.id):
            site = self._site(target, "global", target.id)
            call = self._call("gaug" if lazy else "gaug_value", [ast.Constant(target.id), op, thunk, site], node)
        elif isinstance(target, ast.Name):
            # ``n op= v`` as ``n = iop(n, op, v)``: the same order (n, then v, then the operation),
            # and an in-place ``+=`` on a shared list is seen as the write it is.
            site = self._site(target, "iop", target.id)
            load = ast.copy_location(ast.Name(id=target.id, ctx=ast.Load()), target)
            call = self._call("iop", [load, op, rhs, site], node)
            return ast.copy_location(ast.Assign(targets=[target], value=call), node)
        else:
            node.target = self.visit(target)
            node.value = rhs
            return node
        return ast.copy_location(ast.Expr(value=call), node)

    def visit_Delete(self, node: ast.Delete):
        out: list[ast.stmt] = []
        for t in node.targets:
            if isinstance(t, ast.Subscript) and not self._thread_local(t.value):
                obj, key = self.visit(t.value), self._key(t.slice)
                site = self._site(t, "item", _label(t.value))
                call = self._call("delitem", [obj, key, site], node)
            elif isinstance(t, ast.Attribute) and not _dunder(t.attr):
                obj = self.visit(t.value)
                site = self._site(t, "attr", _label(t.value))
                call = self._call("attrdel", [obj, self._attr(t.attr), site], node)
            elif isinstance(t, ast.Name) and self._is_global(t.id):
                call = self._call("gdel", [ast.Constant(t.id), self._site(t, "global", t.id)], node)
            else:
                out.append(ast.copy_location(ast.Delete(targets=[self.visit(t)]), node))
                continue
            out.append(ast.copy_location(ast.Expr(value=call), node))
        return out


def _dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def rewrite(tree: ast.Module, traced: frozenset[str] | set[str] = frozenset()) -> ast.Module:
    """The instrumented tree (the input tree is changed in place and returned)."""
    return instrument_tree(tree, traced)[0]


def instrument_tree(tree: ast.Module, traced=frozenset()) -> tuple[ast.Module, list[Site]]:
    """The instrumented tree and its site table."""
    rewriter = _Rewriter(frozenset(traced), declared_globals(tree), _module_imports(tree), frozenset(_bound(tree)[0]))
    tree.body = rewriter._body(tree.body) if tree.body else []
    return ast.fix_missing_locations(tree), rewriter.sites


def defined_functions(tree: ast.AST) -> set[str]:
    """Names of every function and method the source defines (at any depth)."""
    return {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


def instrument(source: str, filename: str, traced=frozenset()):
    """``(code, sites)``: the instrumented submission compiled, and its site table. Raises
    SyntaxError like ``compile`` would. Any program CPython compiles is instrumented: one nested
    deeper than the recursion limit allows (a sum of 2,500 terms) is done again in a thread with a
    large stack and a high limit; where ``compile`` refuses so deep a tree whatever the limit
    (3.10-3.12 check an AST's depth against a fixed C bound), the deepest expressions are
    evaluated apart from their source text (``apart``), the rest instrumented as always."""
    def work(split: bool = False):
        tree = ast.parse(source, filename)
        if split:
            tree = apart(tree, source)
        tree, sites = instrument_tree(tree, traced)
        return compile(tree, filename, "exec", dont_inherit=True), sites

    try:
        return work()
    except RecursionError:
        pass
    try:
        return _deeply(work)
    except RecursionError:
        return _deeply(lambda: work(split=True))


DEEP = 300
"""Nesting below which an expression is compiled (and instrumented) as part of the program."""
_NOT_APART = (ast.NamedExpr, ast.Yield, ast.YieldFrom, ast.Await)  # what eval cannot do in place


def apart(tree: ast.Module, source: str) -> ast.Module:
    """``tree`` with each outermost expression nested deeper than ``DEEP`` replaced by
    ``__grader_deep__(its source text, its line)``, which evaluates that text where it stands (the
    frame's globals and locals). Such an expression's own accesses are not recorded."""
    depth: dict[int, int] = {}
    stack: list[tuple[ast.AST, bool]] = [(tree, False)]
    while stack:  # post-order without recursion: 3.12 bounds C-level recursion whatever the limit
        node, seen = stack.pop()
        if seen:
            depth[id(node)] = 1 + max((depth[id(c)] for c in ast.iter_child_nodes(node)), default=0)
        else:
            stack.append((node, True))
            stack.extend((c, False) for c in ast.iter_child_nodes(node))

    class Splitter(ast.NodeTransformer):
        def generic_visit(self, node):
            if isinstance(node, ast.expr) and depth.get(id(node), 0) > DEEP:
                text = ast.get_source_segment(source, node)
                if text is not None and not any(isinstance(n, _NOT_APART) for n in ast.walk(node)):
                    return ast.copy_location(ast.Call(
                        func=ast.Name(hook_name("deep"), ast.Load()),
                        args=[ast.Constant(text), ast.Constant(node.lineno)], keywords=[]), node)
            return super().generic_visit(node)

    return ast.fix_missing_locations(Splitter().visit(tree))


def _deeply(work):
    import sys
    import threading

    box: dict = {}

    def run() -> None:
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 400_000))
        try:
            box["value"] = work()
        except BaseException as exc:  # given back to the caller as it is
            box["error"] = exc
        finally:
            sys.setrecursionlimit(limit)

    size = threading.stack_size()
    threading.stack_size(1 << 30)  # address space, touched only as deep as the program goes
    try:
        helper = threading.Thread(target=run, name="instrument")
        helper.start()
    finally:
        threading.stack_size(size)
    helper.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def compile_submission(source: str, filename: str, traced=frozenset()):
    """Compile the instrumented submission; raises SyntaxError like ``compile`` would."""
    return instrument(source, filename, traced)[0]

"""Rewrites a submission's AST so the engine sees what a race needs to be seen.

A thread switch can only happen at a scheduling point, so ``d[k] += 1`` looks atomic unless the
subscript read and the subscript write are points of their own. The rewrite routes them through
hooks (``grader.engine.hooks``) that are plain pass-throughs for anything but a dict touched
while several threads live:

- ``x[k]`` (load)            -> ``__grader_getitem__(x, k)``
- ``x[k] = v``               -> ``__grader_setitem__(x, k, v)``
- ``x[k] op= v``             -> ``__grader_augitem__(x, k, op, lambda: v)``
- ``x.get(k[, d])``          -> ``__grader_get__(x, k[, d])``
- ``k in x`` / ``k not in x`` -> ``__grader_contains__(x, k)`` (negated)
- ``def f`` for each traced function name -> decorated with ``__grader_trace__("f")``

The hooks are builtins whose names start *and end* with two underscores: Python never mangles
such a name inside a class body (``self.__x`` style private names are mangled, ``__x__`` is not),
and no ``global``, ``nonlocal`` or local binding of the student's can shadow a name of that form by
accident. Line numbers are kept, so tracebacks and reports point at the student's lines. Pure: no I/O.
"""
from __future__ import annotations

import ast
import operator

from .hooknames import hook_name

AUG_OPS = {
    ast.Add: "iadd", ast.Sub: "isub", ast.Mult: "imul", ast.Div: "itruediv",
    ast.FloorDiv: "ifloordiv", ast.Mod: "imod", ast.Pow: "ipow", ast.BitOr: "ior",
    ast.BitAnd: "iand", ast.BitXor: "ixor", ast.LShift: "ilshift", ast.RShift: "irshift",
    ast.MatMult: "imatmul",
}
assert all(hasattr(operator, name) for name in AUG_OPS.values())

# An expression a lambda cannot hold with the same meaning: an assignment expression would bind
# inside the lambda, and await/yield are not allowed there at all.
_NOT_IN_LAMBDA = (ast.NamedExpr, ast.Await, ast.Yield, ast.YieldFrom)


def _name(hook: str) -> ast.Name:
    return ast.Name(id=hook_name(hook), ctx=ast.Load())


def _call(hook: str, args: list[ast.expr], like: ast.AST) -> ast.Call:
    return ast.copy_location(ast.Call(func=_name(hook), args=args, keywords=[]), like)


def _plain_key(node: ast.Subscript) -> bool:
    """Dict keys are never slices; leave slicing (``lst[1:]``) untouched."""
    return not isinstance(node.slice, ast.Slice)


class _Rewriter(ast.NodeTransformer):
    def __init__(self, traced: frozenset[str]):
        self.traced = traced
        self.scopes: list[str] = ["module"]  # "class" directly in a class body, else "function"/"module"

    def visit_Subscript(self, node: ast.Subscript):
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load) and _plain_key(node):
            return _call("getitem", [node.value, node.slice], node)
        return node

    def visit_Assign(self, node: ast.Assign):
        self.generic_visit(node)
        if len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Subscript) and _plain_key(target):
                call = _call("setitem", [target.value, target.slice, node.value], node)
                return ast.copy_location(ast.Expr(value=call), node)
        return node

    def visit_AugAssign(self, node: ast.AugAssign):
        target = node.target
        if isinstance(target, ast.Subscript) and _plain_key(target) and type(node.op) in AUG_OPS:
            value = self.visit(target.value)
            key = self.visit(target.slice)
            rhs = self.visit(node.value)
            # The right-hand side runs after the read, as Python evaluates ``d[k] += f()``; a class
            # body's names are invisible to a lambda, so there (and where a lambda would change the
            # meaning) it is evaluated first, which only narrows the window between read and write.
            lazy = self.scopes[-1] != "class" and not any(isinstance(n, _NOT_IN_LAMBDA) for n in ast.walk(rhs))
            if lazy:
                rhs = ast.copy_location(ast.Lambda(args=ast.arguments(
                    posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
                    defaults=[]), body=rhs), node)
            hook = "augitem" if lazy else "augitem_value"
            call = _call(hook, [value, key, ast.Constant(AUG_OPS[type(node.op)]), rhs], node)
            return ast.copy_location(ast.Expr(value=call), node)
        self.generic_visit(node)
        return node

    def visit_Call(self, node: ast.Call):
        self.generic_visit(node)
        func = node.func
        if (isinstance(func, ast.Attribute) and func.attr == "get" and not node.keywords
                and 1 <= len(node.args) <= 2 and not any(isinstance(a, ast.Starred) for a in node.args)):
            return _call("get", [func.value, *node.args], node)
        return node

    def visit_Compare(self, node: ast.Compare):
        self.generic_visit(node)
        if len(node.ops) == 1 and isinstance(node.ops[0], (ast.In, ast.NotIn)):
            call = _call("contains", [node.comparators[0], node.left], node)
            if isinstance(node.ops[0], ast.NotIn):
                return ast.copy_location(ast.UnaryOp(op=ast.Not(), operand=call), node)
            return call
        return node

    def _scoped(self, kind: str, node):
        self.scopes.append(kind)
        try:
            self.generic_visit(node)
        finally:
            self.scopes.pop()
        return node

    def visit_ClassDef(self, node: ast.ClassDef):
        return self._scoped("class", node)

    def _function(self, node):
        self._scoped("function", node)
        if node.name in self.traced:
            deco = _call("trace", [ast.Constant(node.name)], node)
            node.decorator_list = [deco, *node.decorator_list]
        return node

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def visit_Lambda(self, node: ast.Lambda):
        return self._scoped("function", node)


def rewrite(tree: ast.Module, traced: frozenset[str] | set[str] = frozenset()) -> ast.Module:
    """The instrumented tree (the input tree is changed in place and returned)."""
    tree = _Rewriter(frozenset(traced)).visit(tree)
    return ast.fix_missing_locations(tree)


def defined_functions(tree: ast.AST) -> set[str]:
    """Names of every function and method the source defines (at any depth)."""
    return {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


def compile_submission(source: str, filename: str, traced=frozenset()):
    """Compile the instrumented submission; raises SyntaxError like ``compile`` would."""
    tree = ast.parse(source, filename)
    return compile(rewrite(tree, traced), filename, "exec", dont_inherit=True)

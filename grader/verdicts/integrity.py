"""The ``integrity`` check (0 points): a program that looks inside the interpreter or the grader.

Such a program can reach what the grader keeps in its own process; it is not graded down for it, it
is named for a TA to review. Evidence of two kinds, joined:

- in the source (read here, from the tree): frames (``sys._getframe``, ``f_back``...), the insides
  of functions (``__globals__``, ``__closure__``, ``__code__``), the garbage collector's lists,
  ``ctypes``, tracing/profiling/audit hooks, the module table (``sys.modules``) or the grader's
  modules, changes to the builtins, the grader's hook names, descriptors it did not open;
- in the runs: what the run's audit hook saw the program do (``probe`` records, see
  ``grader.engine.watch``), which also catches names computed at run time.

Pure: no I/O. The public and the course's own submissions never do any of this.

PYTEST_DONT_REWRITE: pytest rewrites the asserts of a pytest11 plugin's whole package, which would
turn the ``Failure`` an assert carries into a string; this marker keeps it an object.
"""
from __future__ import annotations

import ast

from ..model import Failure, Msg

WHAT = {
    "frames": Msg("実行中の関数のフレームを読んでいます", "reads the frames of running functions"),
    "code": Msg("関数の内部（__globals__・__closure__・__code__ など）を読んでいます",
                "reads the insides of functions (__globals__, __closure__, __code__...)"),
    "gc": Msg("ガベージコレクタからオブジェクトを集めています", "collects objects from the garbage collector"),
    "ctypes": Msg("ctypes でメモリを直接扱っています", "uses ctypes (raw memory)"),
    "hooks": Msg("トレース・プロファイル・監査のフックを設定しています", "sets tracing, profiling or audit hooks"),
    "the grader's modules": Msg("モジュール表（sys.modules）や採点器のモジュールを読んでいます",
                                "reads the module table (sys.modules) or the grader's modules"),
    "builtins": Msg("組み込み関数（採点器のフックがある場所）を書き換えています",
                    "changes the builtins (where the grader's hooks are)"),
    "grader hooks": Msg("採点器のフック（__grader_…）を名指ししています", "names the grader's hooks (__grader_…)"),
    "descriptors": Msg("自分で開いていないファイル記述子を使っています（/proc/self/fd など）",
                       "uses file descriptors it did not open (/proc/self/fd...)"),
}

INSIDE = frozenset({"__globals__", "__closure__", "__code__", "__builtins__", "__subclasses__",
                    "__getattribute__", "__func__", "__self__"})
FRAMES = frozenset({"f_back", "f_locals", "f_globals", "f_builtins", "f_code", "tb_frame", "gi_frame",
                    "cr_frame", "ag_frame", "_getframe", "_current_frames", "currentframe", "stack",
                    "getouterframes", "getinnerframes", "trace"})
_INSPECT_FRAMES = frozenset({"currentframe", "stack", "getouterframes", "getinnerframes", "trace"})
_GC = frozenset({"get_objects", "get_referrers", "get_referents"})
_HOOKS = frozenset({"settrace", "setprofile", "addaudithook", "settrace_all_threads", "setprofile_all_threads"})
_FD_CALLS = frozenset({"write", "ftruncate", "dup2", "fdopen", "lseek", "pwrite", "writev", "close", "truncate"})


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def in_source(tree: ast.AST | None) -> list[tuple[str, int]]:
    """``(what, line)`` for each look inside found in the program's source."""
    if tree is None:
        return []
    found: list[tuple[str, int]] = []

    def add(what: str, node: ast.AST) -> None:
        found.append((what, getattr(node, "lineno", 0)))

    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in names:
                root = name.split(".")[0]
                if root in ("ctypes", "_ctypes", "cffi"):
                    add("ctypes", node)
                elif root == "grader":
                    add("the grader's modules", node)
            if isinstance(node, ast.ImportFrom):
                if node.module in ("sys", "inspect") and any(a.name in FRAMES for a in node.names):
                    add("frames", node)
                elif node.module == "gc" and any(a.name in _GC for a in node.names):
                    add("gc", node)
        elif isinstance(node, ast.Attribute):
            dotted = _dotted(node)
            if node.attr in INSIDE:
                add("code", node)
            elif node.attr in ("f_back", "f_locals", "f_globals", "f_builtins", "f_code", "tb_frame",
                               "gi_frame", "cr_frame", "ag_frame", "_getframe", "_current_frames"):
                add("frames", node)
            elif dotted.startswith("inspect.") and node.attr in _INSPECT_FRAMES:
                add("frames", node)
            elif dotted.startswith("gc.") and node.attr in _GC:
                add("gc", node)
            elif node.attr in _HOOKS and dotted.split(".")[0] in ("sys", "threading"):
                add("hooks", node)
            elif dotted == "sys.modules":
                add("the grader's modules", node)
            elif isinstance(node.ctx, (ast.Store, ast.Del)) and _dotted(node.value) in ("builtins", "__builtins__"):
                add("builtins", node)
        elif isinstance(node, ast.Name):
            if node.id.startswith("__grader_"):
                add("grader hooks", node)
            elif node.id == "__builtins__":
                add("builtins", node)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
            if "__grader_" in text:
                add("grader hooks", node)
            elif text.startswith(("/proc/self/fd", "/proc/self/mem", "/proc/thread-self")):
                add("descriptors", node)
            elif text in INSIDE or text in ("f_back", "f_locals", "f_globals", "tb_frame", "gi_frame"):
                add("code", node)
            elif text == "grader" or text.startswith("grader."):
                add("the grader's modules", node)
        elif isinstance(node, ast.Call):
            f = node.func
            dotted = _dotted(f)
            if (dotted.startswith("os.") and dotted[3:] in _FD_CALLS and node.args
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, int)
                    and node.args[0].value >= 3):
                add("descriptors", node)
            elif isinstance(f, ast.Name) and f.id in ("setattr", "delattr") and node.args \
                    and _dotted(node.args[0]) in ("builtins", "__builtins__"):
                add("builtins", node)
            elif isinstance(f, ast.Name) and f.id == "vars" and node.args and _dotted(node.args[0]) == "builtins":
                add("builtins", node)
    return found


def in_runs(runs) -> list[tuple[str, int]]:
    """``(what, line)`` for each look inside the runs' audit hooks saw (``probe`` records)."""
    found = []
    for run in runs:
        for e in run.of("probe", process=None):
            found.append((str(e.get("what", "")), e.get("ln") or 0))
    return found


def findings(obs) -> list[tuple[str, int]]:
    """Every look inside, from the source and the runs, once each, in the order of their lines."""
    seen = dict.fromkeys(in_source(obs.tree) + in_runs(obs.runs))
    return sorted(seen, key=lambda f: (f[1] or 1 << 30, f[0]))


def failure(found: list[tuple[str, int]]) -> Failure:
    """The check's failure: what was seen, where."""
    parts_ja, parts_en = [], []
    for what, ln in found[:8]:
        msg = WHAT.get(what, Msg.same(what))
        where_ja, where_en = (f"（{ln}行目）", f" (line {ln})") if ln else ("", "")
        parts_ja.append(msg.ja + where_ja)
        parts_en.append(msg.en + where_en)
    more = len(found) - 8
    if more > 0:
        parts_ja.append(f"ほか {more} 件")
        parts_en.append(f"{more} more")
    return Failure(
        summary=Msg("このプログラムはインタプリタや採点器の内部を調べています（0点の確認項目: TA が確認します）",
                    "the program looks inside the interpreter or the grader (a check worth 0 points: a TA reviews it)"),
        expected=Msg("課題に必要なことだけをするプログラム（採点器の内部に触れない）",
                     "a program that does what the exercise asks, leaving the grader's insides alone"),
        observed=Msg("、".join(parts_ja), "; ".join(parts_en)))


def check_integrity(obs):
    """The program does not look inside the interpreter or the grader (worth 0 points: named for a TA)."""
    found = findings(obs)
    assert not found, failure(found)

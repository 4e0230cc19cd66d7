"""``grade check-course``: what is wrong with a course folder, each problem at its file and line.

Two passes. The YAML files against their JSON Schemas (``schemas/*.schema.json``, which editors
can use too): unknown or misspelt keys, wrong types, bad limits, duplicate keys. Then what a
schema cannot say: a check judging a run group that does not exist, a ``check_<id>`` missing from
checks.py (or a checks.py that does not load), two checks or two exercises with one id, a data
file that is not there. Errors make grading wrong; warnings are worth a look.
"""
from __future__ import annotations

import ast
import difflib
import inspect
import json
import traceback
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..model import Msg

SCHEMAS = Path(__file__).resolve().parent / "schemas"
ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a course file."""

    path: Path
    line: int | None
    level: str
    """``error`` (the course must not be used as it is) or ``warning``."""
    msg: Msg

    def text(self, lang: str, root: Path | None = None) -> str:
        """``assignments/x/assignment.yaml:12: error: ...``."""
        shown = self.path
        if root is not None:
            try:
                shown = self.path.relative_to(root)
            except ValueError:
                pass
        level = {"ja": {ERROR: "エラー", WARNING: "警告"}, "en": {ERROR: "error", WARNING: "warning"}}[lang][self.level]
        where = f"{shown}:{self.line}" if self.line else str(shown)
        return f"{where}: {level}: {self.msg(lang)}"


@lru_cache(maxsize=None)
def schema(name: str) -> dict:
    """The JSON Schema of ``course`` or ``assignment`` files."""
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------- YAML with lines


def _compose(path: Path, problems: list[Problem]):
    """The file's YAML node tree (lines kept), or None after noting why it cannot be read."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problems.append(Problem(path, None, ERROR, Msg(f"UTF-8 で読めません（{exc.start} バイト目）",
                                                       f"not UTF-8 (byte {exc.start})")))
        return None
    except OSError as exc:
        problems.append(Problem(path, None, ERROR, Msg(f"読めません: {exc.strerror}", f"cannot be read: {exc.strerror}")))
        return None
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        what = " ".join(str(p) for p in (getattr(exc, "context", None), getattr(exc, "problem", None)) if p) or str(exc)
        problems.append(Problem(path, mark.line + 1 if mark else None, ERROR,
                                Msg(f"YAML として読めません: {what}", f"not valid YAML: {what}")))
        return None


def _construct(node):
    import yaml

    return yaml.SafeLoader(" ").construct_document(node) if node is not None else None


def _duplicate_keys(node, path: Path, problems: list[Problem]) -> None:
    """YAML keeps the last of two equal keys without a word: the first is silently lost."""
    import yaml

    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    problems.append(Problem(path, key.start_mark.line + 1, ERROR, Msg(
                        f"キー {key.value} が2回あります（{seen[key.value]}行目にも）: 前の方は無視されます",
                        f"key {key.value} appears twice (also line {seen[key.value]}): the first is ignored")))
                else:
                    seen[key.value] = key.start_mark.line + 1
            _duplicate_keys(value, path, problems)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _duplicate_keys(item, path, problems)


def _node_at(node, where) -> tuple[object, int | None]:
    """The node at a JSON path and its line; as deep as the path goes."""
    import yaml

    line = node.start_mark.line + 1 if node is not None else None
    for part in where:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(part)), None)
            if pair is None:
                break
            node = pair[1]
            line = pair[0].start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return node, line


def _key_line(node, where, key: str) -> int | None:
    """The line of ``key`` in the mapping at ``where``."""
    import yaml

    mapping, line = _node_at(node, where)
    if isinstance(mapping, yaml.MappingNode):
        for k, _ in mapping.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return k.start_mark.line + 1
    return line


# ------------------------------------------------------------------------------- the schema pass


def _dotted(where) -> str:
    out = ""
    for part in where:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_TYPES = {"string": ("文字列", "a string"), "integer": ("整数", "an integer"), "number": ("数", "a number"),
          "boolean": ("true/false", "true or false"), "object": ("キーと値の組", "a mapping"),
          "array": ("リスト", "a list"), "null": ("空", "empty")}


def _type_name(value) -> tuple[str, str]:
    kind = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
            dict: "object", type(None): "null"}.get(type(value), "string")
    return _TYPES[kind]


def _close(word: str, options) -> tuple[str, str]:
    hit = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return (f"（{hit[0]} のことですか？）", f" (did you mean {hit[0]}?)") if hit else ("", "")


def _schema_problem(error, tree, path: Path) -> list[Problem]:
    """One jsonschema error said in both languages, at its line."""
    where = list(error.absolute_path)
    name = _dotted(where)
    nja, nen = name or "ファイルの最上位", name or "the top level"
    _, line = _node_at(tree, where)
    v = error.validator
    if v == "additionalProperties":
        known = error.schema.get("properties", {})
        out = []
        for key in error.instance:
            if key in known:
                continue
            ja, en = _close(str(key), known)
            out.append(Problem(path, _key_line(tree, where, str(key)), ERROR, Msg(
                f"{nja} に不明なキー {key}{ja}: 使えるのは {', '.join(known)}",
                f"unknown key {key} in {nen}{en}: known keys are {', '.join(known)}")))
        if out:
            return out
        # additionalProperties is a schema (trace:, runs:): a value of the wrong shape, said below
    if v == "required":
        key = error.message.split("'")[1] if "'" in error.message else error.message
        return [Problem(path, line, ERROR, Msg(f"{nja} に必須のキー {key} がありません", f"{nen} lacks the required key {key}"))]
    if v == "type":
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        ja = "または".join(_TYPES[t][0] for t in wanted)
        en = " or ".join(_TYPES[t][1] for t in wanted)
        got = _type_name(error.instance)
        return [Problem(path, line, ERROR, Msg(f"{nja} は{ja}にしてください（{got[0]}になっています）",
                                               f"{nen} should be {en}, not {got[1]}"))]
    if v == "enum":
        options = ", ".join(str(o) for o in error.validator_value)
        ja, en = _close(str(error.instance), [str(o) for o in error.validator_value])
        return [Problem(path, line, ERROR, Msg(f"{nja} の {error.instance!r} は使えません{ja}: {options} のどれか",
                                               f"{nen}: {error.instance!r} is not one of {options}{en}"))]
    if v in ("minimum", "exclusiveMinimum"):
        op = "以上" if v == "minimum" else "より大きい数"
        sign = ">=" if v == "minimum" else ">"
        return [Problem(path, line, ERROR, Msg(f"{nja} は {error.validator_value} {op}にしてください（{error.instance!r}）",
                                               f"{nen} must be {sign} {error.validator_value} (it is {error.instance!r})"))]
    if v in ("minItems", "minProperties", "minLength"):
        return [Problem(path, line, ERROR, Msg(f"{nja} が空です", f"{nen} is empty"))]
    if v == "uniqueItems":
        return [Problem(path, line, ERROR, Msg(f"{nja} に同じものが2回あります", f"{nen} lists one thing twice"))]
    if v == "oneOf":
        kinds = [s.get("type") for s in error.validator_value]
        if "object" in kinds:
            return [Problem(path, line, ERROR, Msg(f"{nja} は文字列か、ja: と en: の組にしてください",
                                                   f"{nen} should be a string, or ja: and en: texts"))]
        return [Problem(path, line, ERROR, Msg(f"{nja} は名前か名前のリストにしてください",
                                               f"{nen} should be a name or a list of names"))]
    if v == "pattern":
        return [Problem(path, line, ERROR, Msg(f"{nja} の {error.instance!r} は使えない形です",
                                               f"{nen}: {error.instance!r} is not a valid name here"))]
    return [Problem(path, line, ERROR, Msg.same(f"{nen}: {error.message}"))]


def _validate(data, tree, path: Path, name: str, problems: list[Problem]) -> None:
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(schema(name))
    for error in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        problems.extend(_schema_problem(error, tree, path))


def _read(path: Path, name: str, problems: list[Problem]):
    """A YAML file's data and node tree, checked against its schema (None, None if unreadable)."""
    tree = _compose(path, problems)
    if tree is None:
        return None, None
    _duplicate_keys(tree, path, problems)
    data = _construct(tree)
    if data is None:
        data = {}
    _validate(data, tree, path, name, problems)
    return data, tree


# ------------------------------------------------------------------------------- what schemas cannot say


def _check_course(root: Path, problems: list[Problem]) -> None:
    path = root / "assignments" / "course.yaml"
    if not path.exists():
        return
    data, tree = _read(path, "course", problems)
    if not isinstance(data, dict):
        return
    raw = data.get("data")
    if isinstance(raw, dict):
        source = root / str(raw.get("source", f"data/{raw.get('file', 'poke_names.txt')}"))
        line = _key_line(tree, ["data"], "source") if "source" in raw else _node_at(tree, ["data"])[1]
        if not source.is_file():
            problems.append(Problem(path, line, ERROR, Msg(f"データファイル {source} がありません",
                                                           f"the data file {source} does not exist")))
        else:
            try:
                source.read_text(encoding=str(raw.get("encoding", "utf-8")))
            except (UnicodeDecodeError, LookupError) as exc:
                problems.append(Problem(path, line, ERROR, Msg(
                    f"データファイル {source.name} を {raw.get('encoding', 'utf-8')} で読めません: {exc}",
                    f"the data file {source.name} cannot be read as {raw.get('encoding', 'utf-8')}: {exc}")))


def _version_warning(data: dict, tree, path: Path, problems: list[Problem]) -> None:
    version = data.get("version")
    if isinstance(version, (int, float)) and not isinstance(version, bool):
        written = getattr(_node_at(tree, ["version"])[0], "value", version)
        problems.append(Problem(path, _key_line(tree, [], "version"), WARNING, Msg(
            f"version {written} は数 {version!r} として読まれます（1.10 は 1.1 になります）: \"{written}\" のように引用符で囲んでください",
            f"version {written} is read as the number {version!r} (1.10 is 1.1): quote it, \"{written}\"")))


def _check_runs(data: dict, tree, path: Path, problems: list[Problem]) -> None:
    groups = data.get("runs") if isinstance(data.get("runs"), dict) else {}
    judged: set[str] = set()
    seen: dict[str, int] = {}
    for i, check in enumerate(data.get("checks") or []):
        if not isinstance(check, dict) or not isinstance(check.get("id"), str):
            continue
        cid = check["id"]
        line = _node_at(tree, ["checks", i])[1]
        if cid in seen:
            problems.append(Problem(path, line, ERROR, Msg(f"チェック {cid} が2つあります（{seen[cid]}行目にも）",
                                                           f"two checks are named {cid} (also line {seen[cid]})")))
        seen.setdefault(cid, line)
        runs = check.get("runs", [])
        runs = [runs] if isinstance(runs, str) else runs if isinstance(runs, list) else []
        for name in runs:
            judged.add(str(name))
            if name not in groups:
                ja, en = _close(str(name), groups)
                declared = ", ".join(groups) or "(none)"
                problems.append(Problem(path, _key_line(tree, ["checks", i], "runs"), ERROR, Msg(
                    f"チェック {cid} が判定する実行グループ {name} は runs: にありません{ja}（あるのは {declared}）",
                    f"check {cid} judges the run group {name}, which runs: does not declare{en} (declared: {declared})")))
        if cid == "runs" and not runs and groups:
            problems.append(Problem(path, line, WARNING, Msg(
                "チェック runs に runs: がありません: ソースだけを判定します（実行は判定されません）",
                "check runs has no runs: it judges the source alone (no run is judged)")))
    for name in groups:
        if name not in judged:
            problems.append(Problem(path, _key_line(tree, ["runs"], name), WARNING, Msg(
                f"実行グループ {name} を判定するチェックがありません（実行の時間だけがかかります）",
                f"no check judges the run group {name} (its runs only cost time)")))
    limits = data.get("limits") if isinstance(data.get("limits"), dict) else {}
    wall, total = limits.get("wall_seconds"), limits.get("total_seconds")
    if isinstance(wall, (int, float)) and isinstance(total, (int, float)) and total < wall:
        problems.append(Problem(path, _key_line(tree, ["limits"], "total_seconds"), WARNING, Msg(
            f"total_seconds（{total}）が wall_seconds（{wall}）より短いので、1回の実行も途中で止まります",
            f"total_seconds ({total}) is below wall_seconds ({wall}): even one run would be cut short")))


def _load_failure_line(exc: BaseException, checks: Path) -> int | None:
    if isinstance(exc, SyntaxError) and exc.lineno:
        return exc.lineno
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename) == checks]
    return frames[-1].lineno if frames else None


def _check_functions(folder: Path, data: dict, tree, path: Path, problems: list[Problem]) -> None:
    """Every declared check has its ``check_<id>(obs)`` in checks.py; checks.py loads."""
    from .catalog import load_checks_module

    checks_py = folder / "checks.py"
    declared = [(i, c["id"]) for i, c in enumerate(data.get("checks") or [])
                if isinstance(c, dict) and isinstance(c.get("id"), str)]
    if not checks_py.is_file():
        problems.append(Problem(path, _key_line(tree, [], "checks"), ERROR, Msg(
            "checks.py がありません: チェックの関数（check_<id>）をこのフォルダの checks.py に書きます",
            "there is no checks.py: the check functions (check_<id>) belong in checks.py beside this file")))
        return
    try:
        module = load_checks_module(checks_py, f"grader_course_check_{folder.name}")
    except Exception as exc:  # the instructor's code: anything it raises is the finding
        what = f"{type(exc).__name__}: {exc}"
        problems.append(Problem(checks_py, _load_failure_line(exc, checks_py), ERROR, Msg(
            f"checks.py を読み込めません: {what}", f"checks.py does not load: {what}")))
        return
    defined = {name[6:]: getattr(module, name) for name in dir(module) if name.startswith("check_")}
    told: set[str] = set()
    for i, cid in declared:
        if cid in told:
            continue
        told.add(cid)
        fn = defined.get(cid)
        line = _key_line(tree, ["checks", i], "id")
        if fn is None:
            ja, en = _close(f"check_{cid}", [f"check_{d}" for d in defined])
            problems.append(Problem(path, line, ERROR, Msg(
                f"チェック {cid} の関数 check_{cid} が checks.py にありません{ja}",
                f"checks.py defines no check_{cid} for the check {cid}{en}")))
            continue
        if not callable(fn):
            problems.append(Problem(path, line, ERROR, Msg(f"checks.py の check_{cid} が関数ではありません",
                                                           f"check_{cid} in checks.py is not a function")))
            continue
        try:
            inspect.signature(fn).bind(object())
        except TypeError:
            problems.append(Problem(checks_py, _def_line(checks_py, f"check_{cid}"), ERROR, Msg(
                f"check_{cid} は引数1つ（obs）で呼べる関数にしてください",
                f"check_{cid} must take one argument (obs)")))
        except ValueError:
            pass  # a builtin without a signature: nothing to tell
    names = {cid for _, cid in declared}
    for cid, fn in defined.items():
        if cid not in names and getattr(fn, "__module__", None) == module.__name__ and callable(fn):
            problems.append(Problem(checks_py, _def_line(checks_py, f"check_{cid}"), WARNING, Msg(
                f"check_{cid} は assignment.yaml の checks: にないので実行されません",
                f"check_{cid} is never run: assignment.yaml declares no check {cid}")))


def _def_line(path: Path, name: str) -> int | None:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    return next((n.lineno for n in ast.walk(tree)
                 if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name), None)


def check_course(root: Path) -> list[Problem]:
    """Every problem of the course folder ``root`` (holding ``assignments/``), errors and warnings,
    in file order."""
    problems: list[Problem] = []
    assignments = root / "assignments"
    if not assignments.is_dir():
        return [Problem(root, None, ERROR, Msg(f"{root} に assignments/ がありません", f"{root} has no assignments/"))]
    _check_course(root, problems)
    ids: dict[str, Path] = {}
    folders = sorted(p for p in assignments.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))
                     and p.name != "__pycache__")
    for folder in folders:
        path = folder / "assignment.yaml"
        if not path.is_file():
            if any(folder.glob("*.py")) or any(folder.glob("*.y*ml")):
                problems.append(Problem(folder, None, WARNING, Msg(
                    f"{folder.name}/ に assignment.yaml がないので、課題として読まれません",
                    f"{folder.name}/ has no assignment.yaml: it is not an exercise")))
            continue
        data, tree = _read(path, "assignment", problems)
        if not isinstance(data, dict):
            continue
        _version_warning(data, tree, path, problems)
        eid = data.get("id")
        if isinstance(eid, str):
            if eid in ids:
                problems.append(Problem(path, _key_line(tree, [], "id"), ERROR, Msg(
                    f"課題 ID {eid} は {ids[eid].parent.name}/ と同じです", f"the exercise id {eid} is also {ids[eid].parent.name}/'s")))
            ids.setdefault(eid, path)
        _check_runs(data, tree, path, problems)
        _check_functions(folder, data, tree, path, problems)
    if not ids and not has_errors(problems):
        problems.append(Problem(assignments, None, ERROR, Msg("課題が1つもありません（assignments/<id>/assignment.yaml）",
                                                              "no exercise (assignments/<id>/assignment.yaml)")))
    order = {path: i for i, path in enumerate(dict.fromkeys(p.path for p in problems))}
    return sorted(problems, key=lambda p: (order[p.path], p.line or 0))


def has_errors(problems: list[Problem]) -> bool:
    return any(p.level == ERROR for p in problems)


def report(problems: list[Problem], lang: str, root: Path) -> str:
    """The problems one per line, then a count."""
    lines = [p.text(lang, root) for p in problems]
    errors = sum(p.level == ERROR for p in problems)
    warnings = len(problems) - errors
    if lang == "ja":
        lines.append(f"{root}: エラー {errors} 件、警告 {warnings} 件" if problems else f"{root}: 問題はありません")
    else:
        lines.append(f"{root}: {errors} error(s), {warnings} warning(s)" if problems else f"{root}: no problems")
    return "\n".join(lines) + "\n"

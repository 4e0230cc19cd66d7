"""The course as data: finds ``assignments/<id>/assignment.yaml`` and reads it into an ``Exercise``.

Adding an exercise is adding a folder; nothing here names one.
"""
from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import ModuleType

from ..model import GraderInputError, Msg
from .yamlfile import read_yaml

_PACKAGE = Path(__file__).resolve().parent.parent


def course_root() -> Path:
    """Where ``assignments/`` and ``data/`` are: ``$GRADER_COURSE`` (an instructor's own course),
    else inside the installed package, else the checkout."""
    own = os.environ.get("GRADER_COURSE")
    if own:
        return Path(own)
    packaged = _PACKAGE / "_course"
    if (packaged / "assignments").is_dir():
        return packaged
    return _PACKAGE.parent


@dataclass(frozen=True)
class DataSpec:
    """The course's data file and how one of its records maps to the values the exercises count.

    Declared in ``course.yaml`` beside the exercises; expected tallies are computed through it from
    the data actually served to a run, so another file, format or list needs no grader change.
    """

    file: str = "poke_names.txt"
    """The name programs open (from any folder)."""
    source: str = "data/poke_names.txt"
    slide_paths: tuple[str, ...] = ("lec11/data/poke_names.txt", "data/poke_names.txt")
    encoding: str = "utf-8"
    header_lines: int = 0
    separator: str | None = "\t"
    """``None``: whitespace, as ``str.split()``."""
    columns: tuple[int, ...] = (2,)
    """Columns whose values a record contributes (empty cells are skipped)."""
    split: str | None = " "
    """Each column's cell is split on this (``None``: whitespace); ``""``: kept whole."""

    def records(self, lines: list[str]) -> list[str]:
        """The data lines of a file's lines (the header left out, blank lines skipped)."""
        return [ln for ln in lines[self.header_lines:] if ln.strip()]

    def values(self, line: str) -> list[str]:
        """What one record contributes: ``1\tフシギダネ\tくさ どく`` -> ``['くさ', 'どく']``."""
        cells = line.rstrip("\r\n").split(self.separator) if self.separator is not None else line.split()
        out: list[str] = []
        for c in self.columns:
            if c < len(cells) and cells[c].strip():
                cell = cells[c].strip()
                out.extend([cell] if self.split == "" else cell.split(self.split) if self.split else cell.split())
        return [v for v in out if v]


@dataclass(frozen=True)
class ResultSpec:
    """What a program prints as its result, for the kit's tally checks (``result:`` in course.yaml)."""

    marker: str = "集計結果"
    """The words printed before the result dict."""
    records: int | None = 9
    """The result counts the first this many records of the data (None: all of them)."""


@dataclass(frozen=True)
class Course:
    """What every exercise of the course shares (``assignments/course.yaml``)."""

    title: Msg
    language: str
    data: DataSpec
    root: Path
    result: ResultSpec = ResultSpec()


def _data_spec(raw: dict) -> DataSpec:
    values = raw.get("values") or {}
    columns = values.get("columns", [values.get("column", 2)])
    return DataSpec(
        file=str(raw.get("file", "poke_names.txt")),
        source=str(raw.get("source", f"data/{raw.get('file', 'poke_names.txt')}")),
        slide_paths=tuple(raw.get("slide_paths") or (f"data/{raw.get('file', 'poke_names.txt')}",)),
        encoding=str(raw.get("encoding", "utf-8")),
        header_lines=int(raw.get("header_lines", 0)),
        separator=raw.get("separator", "\t"),
        columns=tuple(int(c) for c in columns),
        split=values.get("split", " "),
    )


@lru_cache(maxsize=None)
def _course_at(root: Path) -> Course:
    path = root / "assignments" / "course.yaml"
    raw: dict = {}
    if path.exists():
        raw = read_yaml(path) or {}
    result = raw.get("result") or {}
    records = result.get("records", ResultSpec.records)
    return Course(title=Msg.from_yaml(raw.get("title", "")), language=str(raw.get("language", "ja")),
                  data=_data_spec(raw.get("data") or {}), root=root,
                  result=ResultSpec(marker=str(result.get("marker", ResultSpec.marker)),
                                    records=None if records is None else int(records)))


def course() -> Course:
    """The course of ``course_root()``: its language and data declaration."""
    return _course_at(course_root())


def data_file() -> Path:
    """The course's own copy of its data file."""
    c = course()
    return c.root / c.data.source


@dataclass(frozen=True)
class RunGroup:
    """A family of runs from the YAML ``runs:`` section."""

    name: str
    schedules: int
    strategies: tuple[str, ...] = ("pct", "random")
    time_modes: tuple[str, ...] = ("timed",)
    data: tuple[str, ...] = ("course",)
    start_method: str = "fork"
    options: tuple[tuple[str, object], ...] = ()
    directed: int = 0
    """At most this many race-directed schedules (each turns one race of a run around)."""
    rounds: int = 2
    """How many directions a directed schedule may stack (a race found in a directed run)."""


@dataclass(frozen=True)
class CheckSpec:
    """One check as the YAML declares it; its code is ``check_<id>`` in the exercise's checks.py."""

    id: str
    points: float
    title: Msg
    description: Msg
    runs: tuple[str, ...] = ()
    """Run groups the check judges; empty for a check of the source alone."""
    failed_runs: bool = False
    """The check also sees runs that did not end normally (``runs`` always does)."""


@dataclass(frozen=True)
class Exercise:
    """One exercise, read from its folder."""

    id: str
    version: str
    title: Msg
    file: str
    folder: Path
    checks: tuple[CheckSpec, ...]
    groups: tuple[RunGroup, ...]
    limits: dict = field(default_factory=dict)
    trace: dict = field(default_factory=dict)
    pct_depth: int = 3
    pct_horizon: int = 200

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.checks)

    def check(self, check_id: str) -> CheckSpec:
        return next(c for c in self.checks if c.id == check_id)

    def checks_module(self) -> ModuleType:
        """The exercise's check functions (loaded from ``checks.py`` beside the YAML)."""
        return load_checks_module(self.folder / "checks.py", f"grader_checks_{self.id}")


DEFAULT_LIMITS = {
    "wall_seconds": 5.0,        # one run, its own time (engine/meter.py)
    "total_seconds": 60.0,      # all runs of one submission, real time
    "virtual_seconds": 3600.0,  # one run, virtual time
    "steps": 100_000,           # scheduling points in one run
    "output_bytes": 1 << 20,
    "file_bytes": 16 << 20,     # any file the run writes, its raw output included (RLIMIT_FSIZE)
    "memory_bytes": 2 << 30,
    "cpu_seconds": 60,          # per process of the run (RLIMIT_CPU)
    "processes": 256,
}


def _group(name: str, raw: dict) -> RunGroup:
    return RunGroup(
        name=name,
        schedules=int(raw.get("schedules", 1)),
        strategies=tuple(raw.get("strategies", ("pct", "random"))),
        time_modes=tuple(raw.get("time_modes", ("timed",))),
        data=tuple(raw.get("data", ("course",))),
        start_method=str(raw.get("start_method", "fork")),
        options=tuple(sorted((raw.get("options") or {}).items())),
        directed=int(raw.get("directed", 0)),
        rounds=int(raw.get("rounds", 2)),
    )


def _check(raw: dict) -> CheckSpec:
    runs = raw.get("runs", ())
    return CheckSpec(
        id=str(raw["id"]),
        points=float(raw.get("points", 1)),
        title=Msg.from_yaml(raw.get("title", raw["id"])),
        description=Msg.from_yaml(raw.get("description", "")),
        runs=(runs,) if isinstance(runs, str) else tuple(runs),
        failed_runs=bool(raw.get("failed_runs", raw["id"] == "runs")),
    )


def load_exercise(folder: Path) -> Exercise:
    """Read one exercise folder; a GraderInputError when it is not a usable exercise."""
    try:
        exercise = _exercise(folder, read_yaml(folder / "assignment.yaml"))
    except GraderInputError:
        raise
    except Exception as exc:  # a shape check-course would have named: say where, and how to see all
        raise GraderInputError(Msg(
            f"課題 {folder.name} の assignment.yaml に誤りがあります（{type(exc).__name__}: {exc}）。"
            "grade check-course で詳しく確かめられます（TA に知らせてください）",
            f"the exercise {folder.name} has an error in its assignment.yaml ({type(exc).__name__}: {exc}); "
            "grade check-course shows where (tell your TA)")) from None
    groups = {g.name for g in exercise.groups}
    for c in exercise.checks:
        unknown = [g for g in c.runs if g not in groups]
        if unknown:  # else the check would see no run, and the student read that nothing ran
            raise GraderInputError(Msg(
                f"課題 {exercise.id} のチェック {c.id} が、runs: にない実行グループ {unknown[0]} を判定します。"
                "grade check-course で確かめてください（TA に知らせてください）",
                f"the exercise {exercise.id}'s check {c.id} judges the run group {unknown[0]}, which its runs: "
                "does not declare; grade check-course shows more (tell your TA)"))
    return exercise


def _exercise(folder: Path, raw: dict) -> Exercise:
    limits = dict(DEFAULT_LIMITS)
    limits.update(raw.get("limits") or {})
    explore = raw.get("explore") or {}
    return Exercise(
        id=str(raw["id"]),
        version=str(raw.get("version", "1")),
        title=Msg.from_yaml(raw["title"]),
        file=str(raw.get("file", f"{raw['id']}.py")),
        folder=folder,
        checks=tuple(_check(c) for c in raw["checks"]),
        groups=tuple(_group(name, g or {}) for name, g in (raw.get("runs") or {}).items()),
        limits=limits,
        trace=dict(raw.get("trace") or {}),
        pct_depth=int(explore.get("pct_depth", 3)),
        pct_horizon=int(explore.get("pct_horizon", 200)),
    )


@lru_cache(maxsize=None)
def exercises() -> dict[str, Exercise]:
    """Every exercise of the course, by id."""
    root = course_root() / "assignments"
    found = {}
    for yml in sorted(root.glob("*/assignment.yaml")):
        ex = load_exercise(yml.parent)
        found[ex.id] = ex
    return found


def get(exercise_id: str) -> Exercise:
    """The exercise with this id, or a GraderInputError listing the known ones."""
    known = exercises()
    if exercise_id in known:
        return known[exercise_id]
    from ..sources.infer import unknown_exercise_message
    raise GraderInputError(unknown_exercise_message(exercise_id, sorted(known)))


def load_checks_module(path: Path, name: str) -> ModuleType:
    """Load an exercise's checks.py, its course's ``assignments/_lib/`` importable as ``_lib``
    (helpers the exercises share: ``from _lib.tallies import ...``)."""
    _course_lib(path.parent.parent / "_lib")
    return _load_module(str(path), name)


_LIB = "_lib"


def _course_lib(folder: Path) -> None:
    """Make ``_lib`` this course's (another course's, loaded before in this process, is dropped)."""
    current = sys.modules.get(_LIB)
    wanted = str(folder.resolve()) if folder.is_dir() else None
    if current is not None and getattr(current, "__path__", None) == [wanted]:
        return
    if current is not None and not getattr(current, "_grader_course_lib", False):
        return  # someone else's module named _lib: not ours to replace
    for name in [m for m in sys.modules if m == _LIB or m.startswith(_LIB + ".")]:
        del sys.modules[name]
    if wanted is None:
        return
    init = folder / "__init__.py"
    if init.is_file():
        spec = importlib.util.spec_from_file_location(_LIB, init, submodule_search_locations=[wanted])
    else:
        spec = importlib.machinery.ModuleSpec(_LIB, None, is_package=True)
    module = importlib.util.module_from_spec(spec)
    module.__path__ = [wanted]
    module._grader_course_lib = True
    sys.modules[_LIB] = module
    if init.is_file():
        spec.loader.exec_module(module)


def _load_module(path: str, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

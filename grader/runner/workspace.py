"""The scratch directories a submission runs in, with the course data where the lecture puts it."""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

_PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])

if TYPE_CHECKING:  # only a type here: importing the catalog (and YAML) would slow an early start
    from ..exercises.catalog import DataSpec


def child_env(home: Path) -> dict[str, str]:
    """A clean environment: nothing of the user's Python settings reaches the submission."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": _PACKAGE_PARENT,
    }


@dataclass
class Workspace:
    """A private temporary tree: ``work/<seed>/<variant>/`` per data variant, ``log/`` for the events.

    The submission sees only its ``work/<seed>/<variant>`` directory as its working directory; the events
    and raw output files live beside it, written by the engine. The tree exists before the
    submission is known (the engine's child starts early, confined to it); ``prepare`` names the
    script and the data.
    """

    root: Path
    script_name: str = ""
    spec: "DataSpec | None" = None
    variants: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    """The lines of each data variant, by (variant name, base seed)."""
    _values: dict[tuple[str, int], list[list[str]]] = field(default_factory=dict)

    @classmethod
    def new(cls) -> "Workspace":
        root = Path(tempfile.mkdtemp(prefix="grader-"))
        (root / "log").mkdir()
        return cls(root)

    def prepare(self, script_name: str, spec: "DataSpec") -> "Workspace":
        self.script_name, self.spec = script_name, spec
        return self

    def add_variant(self, name: str, seed: int, lines: list[str], source: str) -> Path:
        """A working directory holding the data ``lines`` where the slides put them, and the source."""
        cwd = self.cwd(name, seed)
        for rel in self.spec.slide_paths:
            path = cwd / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("".join(line + "\n" for line in lines), encoding=self.spec.encoding)
        (cwd / self.script_name).write_text(source, encoding="utf-8")
        self.variants[(name, seed)] = lines
        return cwd

    def values(self, variant: str, seed: int) -> list[list[str]]:
        """What each record of a variant contributes, as the course declares it (computed once)."""
        key = (variant, seed)
        if key not in self._values:
            self._values[key] = [self.spec.values(line) for line in self.spec.records(self.variants[key])]
        return self._values[key]

    def cwd(self, variant: str, seed: int) -> Path:
        return self.root / "work" / str(seed) / variant

    def data(self, variant: str, seed: int) -> Path:
        """The run's own copy of the data: what any open of the data file's name reads."""
        return self.cwd(variant, seed) / self.spec.slide_paths[0]

    def script(self, variant: str, seed: int) -> Path:
        return self.cwd(variant, seed) / self.script_name

    def events(self, key: str) -> Path:
        return self.root / "log" / f"{key}.events"

    def raw(self, key: str) -> Path:
        return self.root / "log" / f"{key}.out"

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def read_capped(path: Path, cap: int) -> tuple[bytes, bool]:
    """At most ``cap`` bytes of a file (head), and whether it was longer."""
    try:
        with open(path, "rb") as f:
            data = f.read(cap + 1)
    except FileNotFoundError:
        return b"", False
    return data[:cap], len(data) > cap

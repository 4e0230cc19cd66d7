"""The scratch directories a submission runs in, with the course data where the lecture puts it."""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only a type here: importing the catalog (and YAML) would slow an early start
    from ..exercises.catalog import DataSpec


@dataclass
class Workspace:
    """A private temporary tree: ``work/<variant>/`` per data variant, ``log/`` for the events.

    The submission sees only its ``work/<variant>`` directory as its working directory; the events
    and raw output files live beside it, written by the engine. The tree exists before the
    submission is known (the engine's child starts early, confined to it); ``prepare`` names the
    script and the data.
    """

    root: Path
    script_name: str = ""
    spec: "DataSpec | None" = None
    variants: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def new(cls) -> "Workspace":
        root = Path(tempfile.mkdtemp(prefix="grader-"))
        (root / "log").mkdir()
        return cls(root)

    def prepare(self, script_name: str, spec: "DataSpec") -> "Workspace":
        self.script_name, self.spec = script_name, spec
        return self

    def add_variant(self, name: str, lines: list[str], source: str) -> Path:
        """A working directory holding the data ``lines`` where the slides put them, and the source."""
        cwd = self.root / "work" / name
        for rel in self.spec.slide_paths:
            path = cwd / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("".join(line + "\n" for line in lines), encoding=self.spec.encoding)
        (cwd / self.script_name).write_text(source, encoding="utf-8")
        self.variants[name] = lines
        return cwd

    def cwd(self, variant: str) -> Path:
        return self.root / "work" / variant

    def data(self, variant: str) -> Path:
        """The run's own copy of the data: what any open of the data file's name reads."""
        return self.cwd(variant) / self.spec.slide_paths[0]

    def script(self, variant: str) -> Path:
        return self.cwd(variant) / self.script_name

    def events(self, index: int) -> Path:
        return self.root / "log" / f"{index}.events"

    def raw(self, index: int) -> Path:
        return self.root / "log" / f"{index}.out"

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

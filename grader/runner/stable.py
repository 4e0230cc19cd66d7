"""What a run leaves that differs from run to run for reasons that are not the program's.

Memory addresses (``<function f at 0x7f3a...>``: address-space randomisation), the scratch
folder's random name and the OS thread ids of a hang's stack dump would make two gradings of the
same file and seed read differently. They are replaced where a run's record is built, so every
report made from it is the same: each distinct address by a stand-in of its own, numbered in
order of appearance within the run, and the run's folder by nothing (paths read as the student
wrote them, relative to where the program ran).
"""
from __future__ import annotations

import re

_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{8,16}\b")
_BASE = 0x7F0000001000  # stand-ins look like the addresses they replace
STAND_IN_BASE = _BASE
"""The first stand-in; the next ones follow 0x40 apart (``grader.reports.events`` renumbers them)."""


class Stabilizer:
    """Rewrites the text of one run; the same address always gets the same stand-in."""

    def __init__(self, scratch_root: str, engine_dir: str | None = None):
        # ``<root>/work/<seed>/<variant>/`` is where the program ran; anything else under the root
        # (the engine's own files) is named as the scratch folder.
        root = re.escape(scratch_root.rstrip("/"))
        self._folder = re.compile(root + r"/work/[^/\s\"']+/[^/\s\"']+/|" + root + r"(?=[/\s\"']|$)")
        # A hang's stack dump runs down into the engine that started the program: not the student's.
        # (Its outermost frame is the engine's ``python -c``.)
        self._engine_frame = (re.compile(r'^ *File "(?:' + re.escape(engine_dir.rstrip("/")) + r'/[^"]*", line \d+'
                                         r'|<string>", line 1) in .*\n?', re.MULTILINE) if engine_dir else None)
        self._addresses: dict[str, str] = {}

    def text(self, s: str) -> str:
        """``s`` with the run's folder and every memory address made stable."""
        if "0x" not in s and "/" not in s:
            return s
        s = self._folder.sub(lambda m: "" if m.group(0).endswith("/") else "<scratch>", s)
        if self._engine_frame is not None and 'File "' in s:
            s = self._engine_frame.sub("", s)
        return _ADDRESS.sub(self._stand_in, s)

    def _stand_in(self, m: re.Match) -> str:
        seen = m.group(0).lower()
        if seen not in self._addresses:
            self._addresses[seen] = f"0x{_BASE + 0x40 * len(self._addresses):x}"
        return self._addresses[seen]

    def value(self, v):
        """A recorded value (text, or lists and dicts of them) with ``text`` applied throughout."""
        if isinstance(v, str):
            return self.text(v)
        if isinstance(v, list):
            return [self.value(x) for x in v]
        if isinstance(v, dict):
            return {self.value(k) if isinstance(k, str) else k: self.value(x) for k, x in v.items()}
        return v

    def events(self, events: list[dict]) -> None:
        """The program's own words and values in ``events`` (printed text, exception messages,
        values read, written, sent and returned, call arguments, thread reprs), in place."""
        for e in events:
            for field in _PROGRAMS_OWN:
                v = e.get(field)
                if v is not None and not isinstance(v, (int, float)):
                    e[field] = self.value(v)


# The fields of an event that hold what the program made (``engine.events``); the rest is the engine's.
# ``tb`` too: its frames name the script by its path in the run's scratch folder.
_PROGRAMS_OWN = ("s", "msg", "val", "key", "args", "exc", "threads", "tb")

"""Find every submission in a class's export: who handed in what, for which exercise.

``discover`` reads a folder or a ``.zip`` in any layout of ``layouts`` (Moodle, Canvas, a folder
per student), extracts zips safely (``archive``), ties each ``.py``/``.ipynb`` file to an exercise
by its name, keeps one file per student and exercise, and lists everything else as unmatched
with a reason the TA can act on.
"""
from __future__ import annotations

import difflib
import os
import re
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from ..model import GraderInputError, Msg
from ..sources.infer import GRADABLE_SUFFIXES, infer_exercise, normalise
from . import archive, layouts
from .layouts import File, Group
from .model import Discovery, Item, Student, Unmatched

CLOSE_MATCH = 0.8
"""difflib ratio from which a misspelt file name (``conter_lck.py``) counts as the exercise's."""
_ARCHIVES = (".rar", ".7z", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".lzh")
_MAX_UNWRAP = 4


def discover(path: Path, exercises: Mapping[str, str], workdir: Path, exclude: Iterable[Path] = (),
             budget: archive.Budget | None = None) -> Discovery:
    """Everything in ``path`` (a folder or a ``.zip``) to grade for ``exercises`` (id → expected file name).

    Zips (the export, and students' own zips one level deep) are extracted under ``workdir``, a
    scratch directory the caller owns; ``workdir/discover`` is emptied first. Students come out
    sorted by key, items by (key, exercise), unmatched files by (key, path). Raises
    ``GraderInputError`` when ``path`` is neither a folder nor a readable, reasonably sized zip.
    ``exclude``: folders left out wherever they are found (the batch's own output inside the input).
    ``budget``: what zips may hold when extracted (default: ``archive.Budget()``; a TA may raise it).
    """
    path = Path(path)
    if not path.exists():
        raise GraderInputError(Msg(f"{path} がありません", f"{path} does not exist"))
    if not (path.is_dir() or path.suffix.casefold() == ".zip"):
        raise GraderInputError(Msg(f"{path} はフォルダでも .zip でもありません",
                                   f"{path} is neither a folder nor a .zip"))
    scratch = archive.reset(Path(workdir) / "discover")
    budget = budget or archive.Budget()
    token = layouts.EXCLUDED.set(frozenset(os.path.realpath(p) for p in exclude))
    try:
        return _discover(path, exercises, scratch, budget)
    finally:
        layouts.EXCLUDED.reset(token)


def _discover(path: Path, exercises: Mapping[str, str], scratch: Path, budget) -> Discovery:
    root, skipped = _open_input(path, scratch, budget)
    layout = layouts.PARSERS[layouts.detect(root)](root)
    finder = _Finder(exercises, scratch, budget)
    for member in skipped:
        finder.unmatched.append(Unmatched(member.name, member.reason, layout.owner(member.name)))
    for top, first, other in layout.conflicts:
        finder.unmatched.append(Unmatched(top, Msg(
            f"ID {first.key} が2つの名前で現れます（{first.name} と {other}）。1人の学生として採点しました: エクスポートを確認してください",
            f"id {first.key} appears with two names ({first.name} and {other}); graded as one student: check the export"),
            first))
    for file in layout.loose:
        finder.loose(file)
    for group in layout.groups.values():
        finder.student(group)
    return Discovery(
        layout=layout.name,
        students=sorted((g.student for g in layout.groups.values()), key=lambda s: s.key),
        items=sorted(finder.items, key=lambda i: (i.student.key, i.exercise)),
        unmatched=sorted(finder.unmatched, key=lambda u: (u.student.key if u.student else "", u.relpath)),
    )


def _open_input(path: Path, scratch: Path, budget: archive.Budget) -> tuple[Path, list[archive.Skipped]]:
    """The folder the layout starts in: the zip extracted, wrapper folders (``export/``) seen through."""
    skipped: list[archive.Skipped] = []
    root, prefix = path, ""
    if path.is_file():
        root = scratch / "input"
        skipped = archive.extract_zip(path, root, budget)
    for n in range(_MAX_UNWRAP):
        entries = layouts.listdir(root)
        if len(entries) != 1 or entries[0].is_symlink():
            break
        only = entries[0]
        if only.is_file() and only.name.casefold().endswith(".zip") and _zip_is_export(only):
            root, prefix = scratch / f"input{n + 1}", ""
            skipped = archive.extract_zip(only, root, budget)
        elif only.is_dir() and _is_wrapper(only):
            root, prefix = only, f"{prefix}{layouts.text(only.name)}/"
        else:
            break
    # Members skipped in a wrapper folder are named relative to the layout root, like every file.
    return root, [archive.Skipped(s.name[len(prefix):] if s.name.startswith(prefix) else s.name, s.reason)
                  for s in skipped]


def _zip_is_export(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            tops = {archive.member_name(i).split("/", 1)[0] for i in zf.infolist()}
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    return layouts.looks_like_export(sorted(tops))


def _is_wrapper(folder: Path) -> bool:
    """A lone folder holding the export (``submissions/``), not a lone student's folder."""
    name = layouts.text(folder.name)
    if layouts.MOODLE_DIR.match(name):
        return False
    inside = layouts.listdir(folder)
    if layouts.looks_like_export([layouts.text(e.name) for e in inside]):
        return True
    if layouts.student_number(name):
        return False
    return any(e.is_dir() for e in inside) and not any(_gradable(e.name) for e in inside if e.is_file())


def _gradable(name: str) -> bool:
    return name.casefold().endswith(GRADABLE_SUFFIXES)


def _revision(name: str) -> int:
    """``counter_lck-2.py`` (Canvas) or ``counter_lck (2).py`` (a browser) → 2; else 0."""
    stem = name.rsplit(".", 1)[0]
    m = re.search(r"(?:-|\s\(|\()(\d{1,3})\)?$", stem)
    return int(m.group(1)) if m else 0


class _Finder:
    """Matches files to exercises, collecting items and unmatched entries."""

    def __init__(self, exercises: Mapping[str, str], scratch: Path, budget: archive.Budget):
        self.exercises = dict(exercises)
        self.scratch, self.budget = scratch, budget
        self.items: list[Item] = []
        self.unmatched: list[Unmatched] = []
        self.nested = 0
        by_stem = {}
        for ex_id, file in sorted(self.exercises.items()):
            by_stem.setdefault(file.rsplit(".", 1)[0] if "." in file else file, ex_id)
        self.by_stem = by_stem

    # --- files that are nobody's ---------------------------------------------------------

    def loose(self, file: File) -> None:
        """A file outside every student's folder: listed, never graded."""
        if file.symlink:
            self.unmatched.append(Unmatched(file.relpath, _reason("symlink")))
        else:
            self.unmatched.append(Unmatched(file.relpath, _reason("loose")))

    # --- one student ---------------------------------------------------------------------

    def student(self, group: Group) -> None:
        """Match one student's files: one item per exercise, the rest unmatched."""
        student = group.student
        chosen: dict[str, list[tuple[tuple, File, Msg | None]]] = {}
        gradable = False
        for file in self._expand(group):
            if file.symlink:
                self._drop(student, file.relpath, _reason("symlink"))
                continue
            if not _gradable(file.name):
                kind = "archive" if file.name.casefold().endswith(_ARCHIVES) else "other"
                self._drop(student, file.relpath, _reason(kind, file.name))
                continue
            gradable = True
            exercise, note, why = self.match(file.name)
            if exercise is None:
                self._drop(student, file.relpath, why)
                continue
            try:
                mtime = file.path.stat().st_mtime_ns
            except OSError:
                mtime = 0
            rank = (note is None, mtime, _revision(file.name), file.relpath)
            chosen.setdefault(exercise, []).append((rank, file, note))
        for exercise, candidates in chosen.items():
            candidates.sort(key=lambda c: c[0])
            _, best, note = candidates[-1]
            self.items.append(Item(student, exercise, best.path, best.relpath, note=note))
            for _, other, _ in candidates[:-1]:
                self._drop(student, other.relpath, _reason("duplicate", best.relpath))
        if not chosen:
            self.unmatched.append(Unmatched(group.relpath, _reason("none_matched" if gradable else "nothing"), student))

    def _drop(self, student: Student, relpath: str, reason: Msg) -> None:
        self.unmatched.append(Unmatched(relpath, reason, student))

    def _expand(self, group: Group) -> list[File]:
        """The student's files, their own zips (one level) replaced by what they hold (on a
        budget of the student's own)."""
        files: list[File] = []
        queue = list(group.files)
        budget = self.budget.for_student()
        while queue:
            file = queue.pop(0)
            if file.symlink or not file.name.casefold().endswith(".zip"):
                files.append(file)
            elif file.in_zip:
                self._drop(group.student, file.relpath, _reason("zip_in_zip"))
            else:
                self.nested += 1
                dest = self.scratch / "nested" / str(self.nested)
                try:
                    skipped = archive.extract_zip(file.path, dest, budget)
                except GraderInputError as exc:
                    self._drop(group.student, file.relpath, exc.msg)
                    continue
                for member in skipped:
                    self._drop(group.student, f"{file.relpath}/{member.name}", member.reason)
                queue[:0] = layouts.walk(dest, file.relpath, in_zip=True)
        return files

    # --- names ---------------------------------------------------------------------------

    def match(self, name: str) -> tuple[str | None, Msg | None, Msg | None]:
        """(exercise, note, reason) for a gradable file name.

        The exercise id in the name (as ``grade FILE`` infers it), else the expected file name's
        stem in it, else one expected name within difflib ratio ``CLOSE_MATCH`` (then ``note``
        says so). ``reason`` says why nothing matched.
        """
        ids = sorted(self.exercises)
        exercise = infer_exercise(name, ids)
        if exercise is None:
            stem = infer_exercise(name, sorted(self.by_stem))
            exercise = self.by_stem.get(stem) if stem else None
        if exercise is not None:
            return exercise, None, None
        contained = [i for i in ids if normalise(i) in normalise(name)]
        if len(contained) > 1:
            return None, None, _reason("ambiguous", name, ", ".join(contained))
        close = self._close(name)
        if len(close) == 1:
            return close[0], _reason("close", name, close[0]), None
        if len(close) > 1:
            return None, None, _reason("ambiguous", name, ", ".join(close))
        return None, None, _reason("unknown", name, ", ".join(self.exercises[i] for i in ids))

    def _close(self, name: str) -> list[str]:
        """Exercises whose id or expected file name is within ``CLOSE_MATCH`` of ``name``."""
        stem = name.rsplit(".", 1)[0]
        stem = re.sub(r"(?:-|\s?\()\d{1,3}\)?$", "", stem)  # counter_lck-1, counter_lck (2)
        stem = layouts.STUDENT_NUMBER.sub("", stem)  # s2212345_conter_lck
        key = normalise(stem)
        if not key:
            return []
        found = []
        for ex_id, file in sorted(self.exercises.items()):
            targets = {normalise(ex_id), normalise(file.rsplit(".", 1)[0])}
            if max(difflib.SequenceMatcher(None, key, t).ratio() for t in targets) >= CLOSE_MATCH:
                found.append(ex_id)
        return found


def _reason(kind: str, *args: str) -> Msg:
    """The bilingual reason a file or student is listed as unmatched (or a close match noted)."""
    a = args + ("", "", "")
    return {
        "other": Msg(f"{a[0]} は採点対象ではありません（.py / .ipynb ではありません）",
                     f"not graded: {a[0]} is not a .py or .ipynb file"),
        "archive": Msg(f"{a[0]} は展開できません（展開できるのは .zip だけです）",
                       f"cannot extract {a[0]}: only .zip archives are extracted"),
        "unknown": Msg(f"{a[0]} がどの課題のファイルか、名前から分かりません（課題のファイル名: {a[1]}）",
                       f"{a[0]} matches no exercise by its name (expected file names: {a[1]})"),
        "ambiguous": Msg(f"{a[0]} の名前が複数の課題（{a[1]}）に当てはまり、どの課題か決められません",
                         f"cannot tell which exercise {a[0]} is for: its name fits several ({a[1]})"),
        "close": Msg(f"{a[0]} は課題 {a[1]} のファイル名に近いため、{a[1]} として採点しました",
                     f"{a[0]} was graded as {a[1]}: its name is close to that exercise's file name"),
        "duplicate": Msg(f"同じ課題の別のファイル（{a[0]}）を採点しました",
                         f"another file was graded for this exercise ({a[0]})"),
        "nothing": Msg("提出物に .py / .ipynb のファイルがありません", "no .py or .ipynb file"),
        "none_matched": Msg("提出された .py / .ipynb のどれも、課題のファイルと分かりません",
                            "no .py or .ipynb file matched an exercise"),
        "loose": Msg("どの学生のフォルダにも入っていないファイルです（採点しません）",
                     "not in any student's folder (not graded)"),
        "symlink": Msg("シンボリックリンクはたどりません（採点しません）",
                       "a symbolic link: not followed, not graded"),
        "zip_in_zip": Msg("zip の中の zip は展開しません", "a zip inside a zip is not extracted"),
    }[kind]

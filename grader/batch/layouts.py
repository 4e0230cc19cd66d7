"""The layouts of a class's submissions, and who each file belongs to.

- Moodle "download all submissions": ``<Full Name>_<participant id>_assignsubmission_file_/…``
  (files possibly in sub-folders; ``_assignsubmission_onlinetext_`` folders ignored), or the same
  prefix on flat files when "download submissions in folders" is off.
- Canvas: flat files ``<name>_[late_]<user id>_<submission id>_<original file name>``.
- Folders: one folder per student; the key is the student number in the folder name.
"""
from __future__ import annotations

import hashlib
import contextvars
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from .archive import decode_name, is_junk_part
from .model import Student

MOODLE_DIR = re.compile(r"^(?P<name>.*?)_(?P<id>\d+)_assignsubmission_(?P<plugin>[A-Za-z]+)_?$", re.ASCII)
MOODLE_FILE = re.compile(r"^(?P<name>.*?)_(?P<id>\d+)_assignsubmission_(?P<plugin>[A-Za-z]+)_(?P<file>.+)$",
                         re.ASCII | re.DOTALL)
CANVAS_FILE = re.compile(r"^(?P<name>.+?)_(?:(?P<late>late)_)?(?P<uid>\d+)_(?P<sid>\d+)_(?P<file>.+)$",
                         re.ASCII | re.DOTALL)
STUDENT_NUMBER = re.compile(r"((?:(?<![A-Za-z0-9])[A-Za-z])?(?<![0-9])[0-9]{5,})(?![0-9])", re.ASCII)

_JUNK_DIRS = {"__pycache__", ".ipynb_checkpoints", "node_modules", "site-packages"}
_JUNK_SUFFIXES = (".pyc", ".pyo")


@dataclass
class File:
    """One file found in the input."""

    path: Path
    """On disk."""
    relpath: str
    """In the export, ``/``-separated (a nested zip's members as ``…/hand_in.zip/counter_lck.py``)."""
    name: str
    """The file name to match an exercise on (Canvas and flat Moodle prefixes removed)."""
    in_zip: bool = False
    """Extracted from a student's own zip (whose own zips are not extracted again)."""
    symlink: bool = False


@dataclass
class Group:
    """One student's files."""

    student: Student
    relpath: str
    """Where the student's files are, for messages: their folder, or their Canvas file prefix."""
    files: list[File] = field(default_factory=list)


@dataclass
class Layout:
    """The input split by student; ``loose`` files belong to no student."""

    name: str
    groups: dict[str, Group] = field(default_factory=dict)
    loose: list[File] = field(default_factory=list)
    owners: dict[str, str] = field(default_factory=dict)
    """Top-level entry name → student key, to tie a skipped zip member to its student."""
    conflicts: list[tuple[str, Student, str]] = field(default_factory=list)
    """``(top-level entry, the student first seen with its key, the other name)``: one id, two names."""

    def add(self, student: Student, relpath: str, top: str) -> Group:
        """The group of ``student`` (created on first sight; the first name seen is kept, another
        name with the same key is noted in ``conflicts``)."""
        group = self.groups.setdefault(student.key, Group(student, relpath))
        if group.student.name != student.name and not any(c[0] == top for c in self.conflicts):
            self.conflicts.append((top, group.student, student.name))
        self.owners[top] = student.key
        return group

    def owner(self, relpath: str) -> Student | None:
        """The student whose top-level entry ``relpath`` lies in."""
        key = self.owners.get(relpath.split("/", 1)[0])
        return self.groups[key].student if key else None


def text(name: str) -> str:
    """A name from disk as text: undecodable bytes (CP932 names unzipped on Linux) repaired; NFC."""
    if any("\udc80" <= c <= "\udcff" for c in name):
        raw = os.fsencode(name)
        name = decode_name(raw) or raw.decode("utf-8", "replace")
    return unicodedata.normalize("NFC", name)


def is_junk(name: str) -> bool:
    """Files and folders never handed in on purpose: caches, OS metadata, hidden files, editor locks."""
    return (is_junk_part(name) or name in _JUNK_DIRS or name.startswith((".", "~$"))
            or name.casefold().endswith(_JUNK_SUFFIXES))


EXCLUDED: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar("excluded", default=frozenset())
"""Real paths never listed (the batch's own output folder, when a TA put it inside the input)."""


def listdir(folder: Path) -> list[Path]:
    """Entries of ``folder`` that are not junk (nor ``EXCLUDED``), sorted by name."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    excluded = EXCLUDED.get()
    return [folder / n for n in names if not is_junk(text(n))
            and not (excluded and os.path.realpath(folder / n) in excluded)]


def walk(folder: Path, relpath: str, in_zip: bool = False) -> list[File]:
    """Every non-junk file under ``folder``, sorted; symbolic links listed, never followed."""
    found: list[File] = []
    for entry in listdir(folder):
        rel = f"{relpath}/{text(entry.name)}" if relpath else text(entry.name)
        if entry.is_symlink():
            found.append(File(entry, rel, text(entry.name), in_zip, symlink=True))
        elif entry.is_dir():
            if not (entry / "pyvenv.cfg").exists():  # a virtualenv the student zipped along
                found.extend(walk(entry, rel, in_zip))
        elif entry.is_file():
            found.append(File(entry, rel, text(entry.name), in_zip))
    return found


def student_number(name: str) -> str | None:
    """The student number in ``name``: a run of five or more digits, maybe after one letter (``s2212345``)."""
    m = STUDENT_NUMBER.search(unicodedata.normalize("NFKC", name))
    return m.group(1) if m else None


def folder_student(folder: str) -> Student:
    """The student a folder per student names: keyed by student number, else by an ASCII slug and hash."""
    name = text(folder)
    folded = unicodedata.normalize("NFKC", name)
    number = student_number(name)
    if number:
        rest = folded.replace(number, " ", 1)
        display = re.sub(r"[\s_\-.,]+", " ", rest).strip() or number
        return Student(key=number, name=display, lms="folder")
    slug = re.sub(r"[^a-z0-9]+", "-", folded.casefold()).strip("-")[:24].strip("-")
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    return Student(key=f"{slug or 'student'}-{digest}", name=name.strip() or folder, lms="folder")


def detect(root: Path) -> str:
    """``moodle``, ``canvas`` or ``folders``, from the top-level entries of ``root``."""
    entries = listdir(root)
    names = [text(e.name) for e in entries]
    if any(MOODLE_DIR.match(n) if e.is_dir() else MOODLE_FILE.match(n) for e, n in zip(entries, names)):
        return "moodle"
    canvas = sum(1 for e, n in zip(entries, names) if e.is_file() and CANVAS_FILE.match(n))
    folders = sum(1 for e in entries if e.is_dir())
    return "canvas" if canvas and canvas >= folders else "folders"


def looks_like_export(names: list[str]) -> bool:
    """Whether top-level names are those of a Moodle or Canvas export (to see through a wrapper)."""
    return any(MOODLE_DIR.match(n) or MOODLE_FILE.match(n) or CANVAS_FILE.match(n) for n in names)


def moodle(root: Path) -> Layout:
    """Students of a Moodle export: by participant id; ``onlinetext`` and other plugins' folders ignored."""
    layout = Layout("moodle")
    for entry in listdir(root):
        name = text(entry.name)
        m = MOODLE_DIR.match(name) if entry.is_dir() else MOODLE_FILE.match(name)
        if not m or entry.is_symlink():
            layout.loose.extend(walk(entry, name) if entry.is_dir() and not entry.is_symlink()
                                else [File(entry, name, name, symlink=entry.is_symlink())])
            continue
        student = Student(key=m["id"], name=m["name"].strip() or m["id"], lms="moodle", lms_id=m["id"])
        group = layout.add(student, name if entry.is_dir() else f"{m['name']}_{m['id']}_assignsubmission_file_",
                           name)
        if m["plugin"] != "file":
            continue  # online text, comments, feedback: the student is known, the content is not graded
        if entry.is_dir():
            group.relpath = name
            group.files.extend(walk(entry, name))
        else:
            group.files.append(File(entry, name, m["file"]))
    return layout


def canvas(root: Path) -> Layout:
    """Students of a Canvas export: flat files keyed by user id, ``_late_`` marked."""
    layout = Layout("canvas")
    parsed = []
    for entry in listdir(root):
        name = text(entry.name)
        m = CANVAS_FILE.match(name) if entry.is_file() and not entry.is_symlink() else None
        if not m:
            layout.loose.extend(walk(entry, name) if entry.is_dir() and not entry.is_symlink()
                                else [File(entry, name, name, symlink=entry.is_symlink())])
            continue
        parsed.append((entry, name, m))
    late = {m["uid"] for _, _, m in parsed if m["late"]}
    for entry, name, m in parsed:
        student = Student(key=m["uid"], name=m["name"], lms="canvas", lms_id=m["uid"], late=m["uid"] in late)
        prefix = name[: len(name) - len(m["file"])]
        layout.add(student, prefix, name).files.append(File(entry, name, m["file"]))
    return layout


def folders(root: Path) -> Layout:
    """One folder (or one zip) per student; other top-level files belong to no one."""
    layout = Layout("folders")
    for entry in listdir(root):
        name = text(entry.name)
        if entry.is_dir() and not entry.is_symlink():
            layout.add(folder_student(name), name, name).files.extend(walk(entry, name))
        elif entry.is_file() and not entry.is_symlink() and name.casefold().endswith(".zip"):
            stem = name[:-4]
            layout.add(folder_student(stem), name, name).files.append(File(entry, name, name))
        else:
            layout.loose.append(File(entry, name, name, symlink=entry.is_symlink()))
    return layout


PARSERS = {"moodle": moodle, "canvas": canvas, "folders": folders}

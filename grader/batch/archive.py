"""Safe extraction of the zip files a batch is handed: the LMS export itself, and students' own zips.

A zip is untrusted input. Members that would land outside the target (``..``, absolute paths,
drive letters) and symbolic links are never written: they are returned as skipped, with a
reason, so that the batch can list them and go on. Each student's own zips have a budget of
uncompressed bytes and members of their own (one student's zip bomb refuses that student's zip,
nobody else's), inside the budget of the whole run, which keeps the disk safe whatever the class.

Member names: a zip without the UTF-8 flag (bit 0x800) has its names decoded as CP437 by
``zipfile``; Windows zips in Japan carry CP932 there, macOS zips UTF-8. We take the raw bytes
back and try UTF-8, then CP932.
"""
from __future__ import annotations

import os
import re
import shutil
import time
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from ..model import GraderInputError, Msg

MAX_BYTES = 4 * 1024 * 1024 * 1024
"""Total uncompressed bytes extracted in one discovery (all zips together): the disk's safety net."""
MAX_MEMBERS = 200_000
"""Total zip members extracted in one discovery (all zips together)."""
STUDENT_BYTES = 100 * 1024 * 1024
"""Uncompressed bytes one student's own zips may hold (a handed-in folder is a few kilobytes)."""
STUDENT_MEMBERS = 5_000
"""Members one student's own zips may hold."""

_UTF8_FLAG = 0x800
_JUNK_PARTS = {"__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini"}
_CHUNK = 1 << 16


@dataclass
class Budget:
    """What is left to extract: bytes and members; a student's budget also spends its class's
    (``within``)."""

    bytes_left: int = MAX_BYTES
    members_left: int = MAX_MEMBERS
    within: "Budget | None" = None
    student_bytes: int = STUDENT_BYTES
    """What each student's own zips may hold, uncompressed (``grade batch --student-extract-mb``)."""

    def room(self) -> tuple[int, int]:
        """(bytes, members) left here and in every budget this one is within."""
        b, m = self.bytes_left, self.members_left
        if self.within is not None:
            ob, om = self.within.room()
            b, m = min(b, ob), min(m, om)
        return b, m

    def spend(self, nbytes: int = 0, members: int = 0) -> bool:
        """Spend; False when that goes past what was left (here or above)."""
        self.bytes_left -= nbytes
        self.members_left -= members
        ok = self.bytes_left >= 0 and self.members_left >= 0
        if self.within is not None:
            ok = self.within.spend(nbytes, members) and ok
        return ok

    def for_student(self) -> "Budget":
        """A budget of one student's own, within this one."""
        return Budget(self.student_bytes, STUDENT_MEMBERS, within=self)


@dataclass(frozen=True)
class Skipped:
    """A zip member that was not extracted, and why."""

    name: str
    """The member's (decoded) name inside the zip, ``/``-separated."""
    reason: Msg


def decode_name(raw: bytes) -> str | None:
    """A file name's bytes as text: UTF-8, else CP932 (Windows in Japan); None if neither."""
    for codec in ("utf-8", "cp932"):
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            continue
    return None


def member_name(info: zipfile.ZipInfo) -> str:
    """The member's real name: CP437-misread names re-decoded (UTF-8, then CP932), ``\\`` → ``/``, NFC."""
    name = info.filename
    if not info.flag_bits & _UTF8_FLAG:
        try:
            raw = name.encode("cp437")
        except UnicodeEncodeError:
            raw = None
        if raw is not None:
            name = decode_name(raw) or name
    # Decode first, then fix separators: a CP932 trail byte may be 0x5C, the backslash.
    return unicodedata.normalize("NFC", name.replace("\\", "/"))


def is_junk_part(part: str) -> bool:
    """Folders and files that no one handed in on purpose: macOS and Windows metadata."""
    return part in _JUNK_PARTS or part.startswith("._")


def _unsafe(name: str) -> bool:
    parts = name.split("/")
    return (name.startswith("/") or bool(re.match(r"^[A-Za-z]:", name)) or ".." in parts
            or any("\0" in p for p in parts))


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return (info.external_attr >> 16) & 0o170000 == 0o120000


def _mtime(info: zipfile.ZipInfo) -> float | None:
    try:
        return time.mktime(info.date_time + (0, 0, -1))
    except (OverflowError, ValueError):
        return None


def _too_big(src: Path, what_ja: str, what_en: str) -> GraderInputError:
    return GraderInputError(Msg(
        f"{src.name} は大きすぎて展開できません（{what_ja}）。内容を確かめたうえで、上限は grade batch"
        " --max-extract-mb（全体）と --student-extract-mb（学生ごと）で変えられます",
        f"{src.name} is too large to extract ({what_en}); once its content is checked, grade batch"
        " --max-extract-mb (in all) and --student-extract-mb (per student) raise the limits",
    ))


def _skip_reason(kind: str) -> Msg:
    return {
        "unsafe": Msg("zip 内のパスが展開先の外を指しているため、展開しませんでした",
                      "not extracted: its path in the zip points outside the extraction folder"),
        "symlink": Msg("zip 内のシンボリックリンクは展開しません", "not extracted: a symbolic link in a zip"),
        "unreadable": Msg("zip から読み出せませんでした（壊れているか、パスワード付きか、未対応の圧縮形式です）",
                          "could not be read from the zip (damaged, password-protected or an unsupported compression)"),
        "budget": Msg("展開できるサイズの上限を超えたため、展開しませんでした",
                      "not extracted: the size limit for extraction was reached"),
    }[kind]


def extract_zip(src: Path, dest: Path, budget: Budget) -> list[Skipped]:
    """Extract ``src`` into ``dest`` safely; return the members that were not extracted.

    Raises ``GraderInputError`` when ``src`` is not a readable zip or when its declared size or
    member count exceeds what is left of ``budget``: nothing is written then. File times are
    restored from the zip so that "the newest file" means the same as on the student's machine.
    """
    try:
        zf = zipfile.ZipFile(src)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise GraderInputError(Msg(f"{src.name} を zip として開けません: {exc}",
                                   f"cannot open {src.name} as a zip: {exc}")) from None
    with zf:
        infos = zf.infolist()
        bytes_room, members_room = budget.room()
        if len(infos) > members_room:
            raise _too_big(src, f"ファイル数 {len(infos)}", f"{len(infos)} members")
        declared = sum(i.file_size for i in infos)
        if declared > bytes_room:
            raise _too_big(src, f"展開後 {declared} バイト", f"{declared} bytes uncompressed")
        budget.spend(members=len(infos))
        dest.mkdir(parents=True, exist_ok=True)
        root = dest.resolve()
        skipped: list[Skipped] = []
        for info in infos:
            name = member_name(info)
            parts = [p for p in name.split("/") if p not in ("", ".")]
            if not parts or any(is_junk_part(p) for p in parts):
                continue
            if _unsafe(name):
                skipped.append(Skipped(name, _skip_reason("unsafe")))
                continue
            if _is_symlink(info):
                skipped.append(Skipped(name, _skip_reason("symlink")))
                continue
            target = root.joinpath(*parts)
            if os.path.commonpath([root, target.resolve()]) != str(root):
                skipped.append(Skipped(name, _skip_reason("unsafe")))
                continue
            try:
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                if not _copy(zf, info, target, budget):
                    skipped.append(Skipped(name, _skip_reason("budget")))
                    continue
            except (zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError, zlib.error, OSError):
                if target.is_file():
                    target.unlink()
                skipped.append(Skipped(name, _skip_reason("unreadable")))
                continue
            mtime = _mtime(info)
            if mtime is not None:
                os.utime(target, (mtime, mtime))
        return skipped


def _copy(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, budget: Budget) -> bool:
    """Copy one member, counting the bytes really written (a header may lie). False: over budget."""
    with zf.open(info) as src, open(target, "wb") as out:
        while True:
            chunk = src.read(_CHUNK)
            if not chunk:
                return True
            if not budget.spend(nbytes=len(chunk)):
                out.close()
                target.unlink(missing_ok=True)
                return False
            out.write(chunk)


def reset(folder: Path) -> Path:
    """Empty ``folder`` (ours, inside the caller's scratch directory) and create it again."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    return folder

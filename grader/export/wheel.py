"""A wheel of the grader that is running, with the course it grades, for a platform to install.

Built here, with the standard library: no build backend, no network, no checkout needed. The
package's own files come from where ``grader`` was imported (a checkout or an installed copy);
the course comes from where the grader reads it (``$GRADER_COURSE``, ``--course DIR``, the copy
inside an installed package, or the checkout's ``assignments/``, ``data/``, ``reference/``) and goes
to ``grader/_course/`` as ``pyproject.toml`` puts it. The same files give the same bytes.
"""
from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from pathlib import Path

from .. import __version__
from ..model import GraderInputError, Msg

DIST = "concurrency-grader"
_EPOCH = (1980, 1, 1, 0, 0, 0)
_FALLBACK_REQUIRES = ("PyYAML>=6.0", "nbformat>=5.7", "tqdm>=4.60")
_SKIP_DIRS = {"__pycache__", "_course"}


def wheel_name() -> str:
    return f"concurrency_grader-{__version__}-py3-none-any.whl"


def _requires() -> list[str]:
    """The grader's own dependencies (not its extras), as its metadata or pyproject.toml says."""
    try:
        from importlib.metadata import requires
        found = requires(DIST)
    except Exception:  # PackageNotFoundError, or metadata that cannot be read
        found = None
    if found:
        return [r for r in found if "extra ==" not in r]
    root = Path(__file__).resolve().parent.parent.parent
    try:
        import tomllib  # Python 3.11+
        data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
        return list(data["project"]["dependencies"])
    except Exception:
        return list(_FALLBACK_REQUIRES)


def _files() -> list[tuple[str, Path]]:
    """(name in the wheel, file on disk): the package's code, then the course under ``_course``."""
    from ..exercises.catalog import course_root

    package = Path(__file__).resolve().parent.parent
    out: list[tuple[str, Path]] = []
    for path in sorted(package.rglob("*")):
        rel = path.relative_to(package)
        if not path.is_file() or _SKIP_DIRS & set(rel.parts[:-1]) or path.suffix in (".pyc", ".pyo"):
            continue
        out.append((f"grader/{rel.as_posix()}", path))
    course = course_root()
    if not (course / "assignments").is_dir():
        raise GraderInputError(Msg(
            f"コースのフォルダが見つからないため wheel を作れません（{course}/assignments がありません）",
            f"cannot build the grader's wheel: no course folder ({course}/assignments does not exist)"))
    for part in ("assignments", "data", "reference"):
        base = course / part
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            rel = path.relative_to(base)
            if path.is_file() and "__pycache__" not in rel.parts and path.suffix not in (".pyc", ".pyo"):
                out.append((f"grader/_course/{part}/{rel.as_posix()}", path))
    return out


def _metadata() -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {DIST}", f"Version: {__version__}",
             "Summary: Grades Python concurrency exercises deterministically (a copy packaged by grade export).",
             "Requires-Python: >=3.10"]
    lines += [f"Requires-Dist: {r}" for r in _requires()]
    return "\n".join(lines) + "\n"


def build_wheel(out_dir: Path) -> Path:
    """Write the wheel into ``out_dir``; returns its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / wheel_name()
    target.write_bytes(wheel_bytes())
    return target


def wheel_bytes() -> bytes:
    """The wheel's bytes (a zip: the files, then the ``.dist-info`` with its RECORD)."""
    info = f"concurrency_grader-{__version__}.dist-info"
    entries: list[tuple[str, bytes]] = []
    for name, path in _files():
        try:
            entries.append((name, path.read_bytes()))
        except OSError as exc:
            raise GraderInputError(Msg(f"wheel に入れるファイルを読めません: {path}: {exc.strerror}",
                                       f"cannot read {path} for the wheel: {exc.strerror}")) from None
    entries.append((f"{info}/METADATA", _metadata().encode("utf-8")))
    entries.append((f"{info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: concurrency-grader export\n"
                                     b"Root-Is-Purelib: true\nTag: py3-none-any\n"))
    entries.append((f"{info}/entry_points.txt", b"[console_scripts]\ngrade = grader.cli.main:main\n\n"
                                                b"[pytest11]\nconcurrency_grader = grader.pytest_plugin\n"))
    record = []
    for name, data in entries:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    entries.append((f"{info}/RECORD", ("\n".join(record) + "\n").encode("utf-8")))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            zinfo = zipfile.ZipInfo(name, _EPOCH)
            zinfo.external_attr = 0o644 << 16
            zinfo.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(zinfo, data)
    return buf.getvalue()

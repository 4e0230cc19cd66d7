"""What a run may touch: the containment policy the parent sends to the engine (``engine.contain``).

Landlock only grants: a rule on a directory opens everything beneath it, and nothing can be carved
out again. So the rules are built here, in the grader's process, from what a Python process needs
(the interpreter's installation and standard library, the system's libraries, a few files of /etc),
and wherever one of those folders holds something the run must not read (the grader's package,
its course files, the scratch tree of the other runs, the home of the user grading), that folder
is opened entry by entry instead, leaving those out. A pip-installed grader under ``/usr/local``
or inside the interpreter's own ``site-packages`` stays out of reach this way.

The engine itself must stay importable in ``spawn`` children (they import
``grader.engine.spawned``): the scratch tree gets ``py/grader/`` holding a copy of the package's
``__init__.py`` and a link to ``engine/``, and spawned children find the engine there. The run may
read that, the engine's own folder and its working directory; not the rest of the package.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from ..engine import landlock

_PACKAGE = Path(__file__).resolve().parents[1]
# What a Python process reads or runs from the system; /bin and friends are links into /usr on most
# systems (the rules follow links, duplicates are harmless).
_SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# The dynamic loader's cache (and its preload list, where there is one: refused, every exec would
# complain of it), the time zone.
_SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/ld.so.preload", "/etc/localtime")
# os.cpu_count() reads /sys/devices/system/cpu/online (glibc).
_SYSTEM_READ = ("/sys/devices/system/cpu",)
_DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")
# multiprocessing's locks and semaphores are POSIX semaphores: files created, then unlinked at once,
# in /dev/shm. Not listing it keeps other programs' files there out of sight.
SHM_RIGHTS = (landlock.READ_FILE | landlock.WRITE_FILE | landlock.TRUNCATE | landlock.MAKE_REG
              | landlock.REMOVE_FILE)


def _real(path: str | os.PathLike) -> str:
    return os.path.realpath(os.fspath(path))


def _beneath(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def grant(path: str, rights: int, hidden: list[str]) -> list[tuple[str, int]]:
    """Rules granting ``rights`` on ``path`` but on no folder of ``hidden`` (real paths) as a whole:
    ``path`` itself when nothing hidden is beneath it, else its entries, recursively, the hidden
    ones left out."""
    real = _real(path)
    if not os.path.exists(real) or real in hidden:
        return []
    # A grant beneath a hidden folder opens only that part of it (the interpreter in the home of
    # the user grading, the engine in the package): what matters is that no grant holds one whole.
    inside = [h for h in hidden if _beneath(h, real)]
    if not inside or not os.path.isdir(real):
        return [(real, rights)]
    rules = []
    try:
        entries = sorted(os.listdir(real))
    except OSError:
        return []
    for name in entries:
        rules += grant(os.path.join(real, name), rights, hidden)
    return rules


def hidden_paths(root: Path) -> list[str]:
    """What a run must not read even where it lies inside a folder it may read."""
    from ..exercises.catalog import course_root

    paths = [_PACKAGE, course_root(), root, Path.home()]
    if os.environ.get("GRADER_COURSE"):
        paths.append(Path(os.environ["GRADER_COURSE"]))
    return sorted({_real(p) for p in paths})


def interpreter_paths() -> list[tuple[str, int]]:
    """The interpreter's own files, before anything is left out."""
    rx = landlock.READ_EXEC
    rules = [(p, rx) for p in _SYSTEM]
    for prefix in dict.fromkeys((sys.base_prefix, sys.base_exec_prefix)):
        rules.append((prefix, rx))
    rules.append((sys.executable, rx))  # a venv made with --copies has its own interpreter
    if sys.prefix != sys.base_prefix:  # a venv: the interpreter reads its pyvenv.cfg when it starts
        rules.append((os.path.join(sys.prefix, "pyvenv.cfg"), landlock.READ_FILE))
    rules += [(p, landlock.READ_FILE) for p in _SYSTEM_FILES]
    rules += [(p, landlock.READ) for p in _SYSTEM_READ]
    return rules


def engine_shim(root: Path) -> Path:
    """``root/py``: an import path that holds the engine and nothing else of the grader."""
    from .. import __version__

    shim = root / "py" / "grader"
    shim.mkdir(parents=True, exist_ok=True)
    # The version as a constant: the package's own __init__ would look for it in metadata the
    # child (no site-packages) cannot see, at each start.
    (shim / "__init__.py").write_text(f'"""The engine alone."""\n__version__ = {__version__!r}\n', encoding="utf-8")
    link = shim / "engine"
    if not link.exists():
        link.symlink_to(_PACKAGE / "engine", target_is_directory=True)
    return root / "py"


def kept_visible(root: Path) -> list[str]:
    """What a private mount namespace must bring back over its fresh /tmp, /dev/shm and scratch tree:
    an interpreter or a venv that lives there (spawned children exec it), the engine."""
    covered = ("/tmp", "/dev/shm", _real(root))
    paths = [sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(sys.executable),
             os.path.dirname(_real(sys.executable)), _PACKAGE / "engine"]
    return [p for p in dict.fromkeys(_real(p) for p in paths) if any(_beneath(p, c) for c in covered)]


def build(root: Path, abi: int, mounts: bool, private_tmp: bool = False, filtered: bool = False) -> dict:
    """The policy of every run in the scratch tree ``root`` (the run adds its own directories);
    ``abi``: the Landlock ABI to use (0: none); ``mounts``: each run makes its own mount namespace;
    ``private_tmp``: /tmp is the sandbox's; ``filtered``: a seccomp filter on sockets."""
    pythonpath = engine_shim(root)
    (root / "tmp").mkdir(exist_ok=True)
    policy: dict = {"root": str(root), "tmp": str(root / "tmp"), "pythonpath": str(pythonpath),
                    "mounts": bool(mounts), "private_tmp": bool(private_tmp), "landlock": int(abi),
                    "seccomp": bool(filtered), "keep": kept_visible(root)}
    if abi:
        hidden = hidden_paths(root)
        rules: list[tuple[str, int]] = []
        for path, rights in interpreter_paths():
            rules += grant(path, rights, hidden)
        io = landlock.READ_FILE | landlock.WRITE_FILE | landlock.TRUNCATE | landlock.IOCTL_DEV
        rules += [(d, io) for d in _DEVICES if os.path.exists(d)]
        rules.append(("/dev/shm", SHM_RIGHTS))
        # Granted on purpose, though inside what is hidden: the engine, and the import path to it.
        rules += [(_real(_PACKAGE / "engine"), landlock.READ), (str(pythonpath), landlock.READ)]
        policy["rules"] = [[p, r] for p, r in _pruned(rules)]
    return policy


def _pruned(rules: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Without the rules another one already covers (same path or beneath it, no more rights)."""
    kept: list[tuple[str, int]] = []
    for path, rights in rules:
        if not any(_beneath(path, p) and rights & ~r == 0 for p, r in kept):
            kept.append((path, rights))
    return kept

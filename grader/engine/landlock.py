"""Landlock, the kernel's unprivileged sandbox (Linux 5.13+), through three syscalls and ``ctypes``.

No binding is depended on: the interface is three system calls with small fixed structures
(``include/uapi/linux/landlock.h``), and the engine must import nothing outside the standard
library in the child. A leaf: imports nothing of ours.

A ruleset *handles* some access rights (everything this kernel's ABI knows of, here); a handled
right is refused unless a rule grants it: a rule on a directory grants rights on everything
beneath it, a rule on a file grants file rights on that file only. ``restrict_self`` applies the
ruleset to the calling thread and everything it later starts (threads, forks, execs); it cannot
be lifted. The rights a ruleset can handle grow with the ABI version:

- 1: files (execute, read, write, create and remove of each kind), Linux 5.13
- 2: ``REFER`` (rename and link across directories), 5.19
- 3: ``TRUNCATE``, 6.2
- 4: TCP bind and connect, 6.7
- 5: ``IOCTL_DEV`` (ioctl on devices), 6.10
- 6: scopes: signals and abstract UNIX sockets only within the sandbox, 6.12
- 7: audit logging flags, 6.15 (nothing to use here)
"""
from __future__ import annotations

import ctypes
import os
import stat

# System call numbers: the same on every architecture (they were added after the tables were unified).
_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1 << 0
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

# Filesystem rights (LANDLOCK_ACCESS_FS_*).
EXECUTE = 1 << 0
WRITE_FILE = 1 << 1
READ_FILE = 1 << 2
READ_DIR = 1 << 3
REMOVE_DIR = 1 << 4
REMOVE_FILE = 1 << 5
MAKE_CHAR = 1 << 6
MAKE_DIR = 1 << 7
MAKE_REG = 1 << 8
MAKE_SOCK = 1 << 9
MAKE_FIFO = 1 << 10
MAKE_BLOCK = 1 << 11
MAKE_SYM = 1 << 12
REFER = 1 << 13       # ABI 2
TRUNCATE = 1 << 14    # ABI 3
IOCTL_DEV = 1 << 15   # ABI 5
# Network rights (LANDLOCK_ACCESS_NET_*), ABI 4.
BIND_TCP = 1 << 0
CONNECT_TCP = 1 << 1
# Scopes (LANDLOCK_SCOPE_*), ABI 6.
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0
SCOPE_SIGNAL = 1 << 1

# Rights a rule on a file (not a directory) may carry.
FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV
READ = READ_FILE | READ_DIR
READ_EXEC = READ | EXECUTE


def fs_rights(abi: int) -> int:
    """Every filesystem right that ABI ``abi`` knows of."""
    rights = (1 << 13) - 1 if abi >= 1 else 0
    if abi >= 2:
        rights |= REFER
    if abi >= 3:
        rights |= TRUNCATE
    if abi >= 5:
        rights |= IOCTL_DEV
    return rights


def net_rights(abi: int) -> int:
    """The network rights of ABI ``abi`` (none before 4)."""
    return BIND_TCP | CONNECT_TCP if abi >= 4 else 0


def scopes(abi: int) -> int:
    """The scopes of ABI ``abi`` (none before 6)."""
    return SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1  # __attribute__((packed)) in the kernel's header: 12 bytes
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class LandlockError(OSError):
    """A Landlock call failed (its errno says why)."""


_libc = None


def _lib():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
        _libc.syscall.restype = ctypes.c_long
        _libc.prctl  # noqa: B018  (looked up now: abi() runs in the warm process, before the forks)
    return _libc


def _syscall(number: int, *args) -> int:
    ctypes.set_errno(0)
    result = _lib().syscall(ctypes.c_long(number), *args)
    if result < 0:
        err = ctypes.get_errno()
        raise LandlockError(err, os.strerror(err))
    return result


def abi() -> int:
    """The Landlock ABI version this kernel offers; 0 where it has none (old kernel, disabled at boot,
    not Linux, or a seccomp filter that refuses the call)."""
    try:
        return int(_syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION)))
    except (OSError, AttributeError):
        return 0


class Ruleset:
    """A Landlock ruleset being built: handles every right of ``abi`` (capped at what it knows)."""

    def __init__(self, abi_version: int):
        self.abi = abi_version
        self.fs = fs_rights(abi_version)
        self.net = net_rights(abi_version)
        self.scoped = scopes(abi_version)
        attr = _RulesetAttr(self.fs, self.net, self.scoped)
        # The structure grew with the ABI; an older kernel refuses a larger one with fields it lacks.
        size = 24 if self.scoped else 16 if self.net else 8
        self.fd = int(_syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0)))
        self.rules: list[tuple[str, int]] = []

    def allow_prepared(self, rule: "Prepared") -> None:
        """Add a rule made in advance (``prepare``): one system call."""
        _syscall(_SYS_ADD_RULE, ctypes.c_int(self.fd), ctypes.c_int(_RULE_PATH_BENEATH), ctypes.byref(rule.attr),
                 ctypes.c_uint32(0))

    def allow(self, path: str, rights: int) -> bool:
        """Grant ``rights`` on ``path`` (and beneath it, for a directory). A missing path is skipped
        (False); on a file, only the file rights of ``rights`` are granted."""
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            return False
        try:
            if not stat.S_ISDIR(os.fstat(fd).st_mode):
                rights &= FILE_RIGHTS
            rights &= self.fs
            if not rights:
                return False
            attr = _PathBeneathAttr(rights, fd)
            _syscall(_SYS_ADD_RULE, ctypes.c_int(self.fd), ctypes.c_int(_RULE_PATH_BENEATH), ctypes.byref(attr),
                     ctypes.c_uint32(0))
            self.rules.append((path, rights))
            return True
        finally:
            os.close(fd)

    def restrict_self(self) -> None:
        """Apply the ruleset to this thread and all it starts from now on (after no_new_privs)."""
        try:
            if _lib().prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
                err = ctypes.get_errno()
                raise LandlockError(err, f"prctl(PR_SET_NO_NEW_PRIVS): {os.strerror(err)}")
            _syscall(_SYS_RESTRICT_SELF, ctypes.c_int(self.fd), ctypes.c_uint32(0))
        finally:
            self.close()

    def close(self) -> None:
        """Release the ruleset's descriptor (a restricted process needs it no more)."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class Prepared:
    """A rule made ahead of the ruleset: its path opened (``O_PATH``, inherited by forked
    processes), its rights fitted to what the path is and to the ABI."""

    def __init__(self, path: str, rights: int, abi_version: int):
        self.fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        if not stat.S_ISDIR(os.fstat(self.fd).st_mode):
            rights &= FILE_RIGHTS
        self.attr = _PathBeneathAttr(rights & fs_rights(abi_version), self.fd)

    def close(self) -> None:
        try:
            os.close(self.fd)
        except OSError:
            pass

"""A seccomp filter on the sockets a run may make: the network where no namespace takes it away.

Landlock (ABI 4+) refuses TCP bind and connect, but not UDP, raw or SCTP sockets; a network
namespace refuses them all, where the machine allows one (root, or unprivileged user namespaces:
not a user of Ubuntu 24.04 without bubblewrap, for one). This filter, installed by the run on
itself, lets ``socket(2)`` make only UNIX sockets (multiprocessing's, a Manager's, asyncio's) and,
where Landlock refuses their bind and connect, plain TCP ones (so that Landlock is what refuses
them); any other family, type or protocol fails with EACCES. ``io_uring_setup`` is refused too
(an io_uring can make sockets without ``socket(2)``), as is every system call made through a
foreign ABI (x32, or 32-bit calls from a 64-bit process). A leaf: imports nothing of ours.
"""
from __future__ import annotations

import ctypes
import errno
import os

_PR_SET_NO_NEW_PRIVS, _PR_GET_SECCOMP, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 38, 21, 22, 2
_RET_ALLOW, _RET_ERRNO = 0x7FFF0000, 0x00050000
_LD_ABS_W, _JEQ, _JGE, _AND, _RET = 0x20, 0x15, 0x35, 0x54, 0x06
_AF_UNIX, _AF_INET, _AF_INET6, _SOCK_STREAM, _IPPROTO_TCP = 1, 2, 10, 1, 6
# (audit arch, socket, io_uring_setup, first number of a foreign ABI sharing the arch) per machine.
_ARCHES = {"x86_64": (0xC000003E, 41, 425, 0x40000000), "aarch64": (0xC00000B7, 198, 425, None)}


class _Filter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _Prog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Filter))]


def supported() -> bool:
    """Can this machine take the filter (a known architecture, a kernel with seccomp filters)?"""
    if os.uname().machine not in _ARCHES:
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_GET_SECCOMP, 0, 0, 0, 0) >= 0
    except (OSError, AttributeError):
        return False


def _program(tcp_allowed: bool) -> list[tuple[int, str | int, str | int, int]]:
    """The filter as (code, jump-if-true, jump-if-false, k), jumps given as labels or 0 (next)."""
    arch, nr_socket, nr_io_uring, foreign = _ARCHES[os.uname().machine]
    prog = [(_LD_ABS_W, 0, 0, 4),  # seccomp_data.arch
            (_JEQ, 0, "deny", arch),
            (_LD_ABS_W, 0, 0, 0)]  # seccomp_data.nr
    if foreign is not None:
        prog.append((_JGE, "deny", 0, foreign))
    prog += [(_JEQ, "deny", 0, nr_io_uring),
             (_JEQ, 0, "allow", nr_socket),
             (_LD_ABS_W, 0, 0, 16),  # args[0], its low half (little-endian): the family
             (_JEQ, "allow", 0, _AF_UNIX)]
    if tcp_allowed:
        prog += [(_JEQ, "stream", 0, _AF_INET),
                 (_JEQ, "stream", "deny", _AF_INET6),
                 ("stream", _LD_ABS_W, 0, 0, 24),  # args[1]: the type, with SOCK_NONBLOCK/CLOEXEC
                 (_AND, 0, 0, 0xF),
                 (_JEQ, 0, "deny", _SOCK_STREAM),
                 (_LD_ABS_W, 0, 0, 32),  # args[2]: the protocol (0 or TCP; not SCTP, MPTCP)
                 (_JEQ, "allow", 0, 0),
                 (_JEQ, "allow", "deny", _IPPROTO_TCP)]
    else:
        prog.append((_JGE, "deny", "deny", 0))
    prog += [("allow", _RET, 0, 0, _RET_ALLOW),
             ("deny", _RET, 0, 0, _RET_ERRNO | errno.EACCES)]
    return prog


def _assemble(prog) -> list[tuple[int, int, int, int]]:
    labels = {}
    lines = []
    for i, ins in enumerate(prog):
        if isinstance(ins[0], str):
            labels[ins[0]] = i
            ins = ins[1:]
        lines.append(ins)
    out = []
    for i, (code, jt, jf, k) in enumerate(lines):
        rel = [labels[j] - i - 1 if isinstance(j, str) else j for j in (jt, jf)]
        out.append((code, rel[0], rel[1], k))
    return out


_compiled: dict[bool, tuple] = {}


def prepare() -> None:
    """Assemble both filters now (in the warm process), so that a forked run only installs one."""
    global _libc
    if os.uname().machine not in _ARCHES:
        return
    _libc = ctypes.CDLL(None, use_errno=True)
    _libc.prctl  # noqa: B018  (looked up now)
    for tcp_allowed in (False, True):
        code = _assemble(_program(tcp_allowed))
        filters = (_Filter * len(code))(*[_Filter(*ins) for ins in code])
        _compiled[tcp_allowed] = (filters, _Prog(len(code), filters))


_libc = None


def restrict_sockets(tcp_allowed: bool) -> None:
    """Install the filter on this thread and everything it starts (raises OSError if refused)."""
    if tcp_allowed not in _compiled:
        prepare()
    libc = _libc
    _, prog = _compiled[tcp_allowed]
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or \
            libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"seccomp: {os.strerror(err)}")

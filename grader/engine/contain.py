"""The run's own containment, set by the run on itself before the submission's first line.

The parent decides the policy (``grader.runner.policy``: which paths the interpreter needs, what
this machine offers) and sends it in the job; ``enter`` applies it in a freshly forked run, after
the run's event and output files are open (they stay usable through their descriptors) and before
any thread is started, so that everything the submission starts inherits it: threads, forked and
spawned processes, programs it execs. In this order, each step needing the one before:

1. where the runner is root of its namespaces (``unshare``, not bubblewrap, which does its own):
   a mount namespace of the run's own, with a private ``/tmp`` and ``/dev/shm``, the scratch tree
   hidden but for the run's working directory, and everything read-only but the run's directory,
   ``/tmp`` and ``/dev/shm``;
2. a temporary directory of the run's own (``TMPDIR``): ``/tmp/run-<index>`` where /tmp is the
   sandbox's (this mount namespace, or bubblewrap's), else beneath the scratch tree;
3. every capability dropped (a root run could otherwise undo the mounts, or read any file);
4. Landlock: writes only in the run's directory and its temporary directory, reads only of what
   the interpreter needs, no TCP bind or connect, signals and abstract UNIX sockets only within
   the run's own processes;
5. a seccomp filter: no socket but UNIX ones (and TCP ones, where Landlock refuses their bind and
   connect): no UDP or raw network even where no network namespace could be made.

Nothing here decides a verdict. A step the parent asked for that fails raises ``Uncontained``:
the run then ends before the submission runs (the engine does not run code less contained than
``grade --doctor`` promised).

``python -m grader.engine.contain`` reads a policy on stdin, applies it in a forked process and
reports, as JSON, what was refused there: ``grade --doctor`` shows it.
"""
from __future__ import annotations

import ctypes
import json
import os
import sys
from _operator import _compare_digest as compare_digest  # hmac's, without importing OpenSSL

from . import landlock, seccomp
from .events import EXIT_INTERNAL, seal

_CLONE_NEWNS = 0x00020000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_BIND, _MS_REC, _MS_PRIVATE = 1, 2, 4, 4096, 16384, 1 << 18
_SYS_MOUNT_SETATTR = 442
_AT_FDCWD, _AT_RECURSIVE = -100, 0x8000
_MOUNT_ATTR_RDONLY = 0x1
_PR_CAPBSET_DROP, _PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL = 24, 47, 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
_SOCKET_DIRS = ("/run", "/var/run")
# A private tmpfs is memory: small ones (the run's files belong in its own directory).
_TMPFS = "size=64m,nr_inodes=4096,mode=1777"


class Uncontained(OSError):
    """A containment step the parent asked for could not be applied."""


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def _load():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        for name in ("prctl", "mount", "unshare", "capset"):  # looked up once, in the warm process
            getattr(libc, name)
        return libc
    except (OSError, AttributeError):
        return None


_libc = None  # loaded at the end of the module


def _c():
    if _libc is None:
        raise Uncontained(38, "no C library to call")
    return _libc


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise Uncontained(err, f"{what}: {os.strerror(err)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = lambda s: None if s is None else os.fsencode(s)  # noqa: E731
    _check(_c().mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)), f"mount {target}")


def _set_readonly(path: str, readonly: bool, recursive: bool) -> None:
    attr = _MountAttr(_MOUNT_ATTR_RDONLY if readonly else 0, 0 if readonly else _MOUNT_ATTR_RDONLY, 0, 0)
    flags = _AT_RECURSIVE if recursive else 0
    res = _c().syscall(ctypes.c_long(_SYS_MOUNT_SETATTR), ctypes.c_int(_AT_FDCWD), os.fsencode(path),
                       ctypes.c_uint(flags), ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)))
    if res == 0:
        return
    # Before Linux 5.12 (no mount_setattr): remount each mount point on its own.
    if ctypes.get_errno() != 38:  # ENOSYS
        _check(-1, f"mount_setattr {path}")
    # Best effort there (such a kernel has no Landlock either): a mount that refuses is left as it is.
    targets = [path]
    if recursive:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as f:
            targets = [line.split()[4].encode().decode("unicode_escape") for line in f]
    for target in targets:
        try:
            st = os.statvfs(target)
            # A user namespace may not clear these flags: keep them (ST_* and MS_* agree on these bits).
            keep = st.f_flag & (_MS_NOSUID | _MS_NODEV | 8 | 1024 | 2048)  # noexec, noatime, nodiratime
            _mount(None, target, None, 32 | _MS_BIND | keep | (_MS_RDONLY if readonly else 0))  # 32: MS_REMOUNT
        except OSError:
            if target == path and not readonly:
                raise  # what must be writable must be


def _beneath(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _private_mounts(root: str, rw: list[str], ro: list[str]) -> None:
    """A mount namespace of this process's own: /tmp and /dev/shm private, the scratch ``root``
    hidden but for ``rw`` and ``ro`` (folders or files), and nothing writable but ``rw``, /tmp
    and /dev/shm."""
    _check(_c().unshare(_CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    _mount(None, "/", None, _MS_REC | _MS_PRIVATE)  # nothing done here reaches the grader's mounts
    # Opened in the new namespace (a bind's source must be one of its mounts), before they are covered.
    keep = [(p, os.open(p, os.O_PATH | os.O_CLOEXEC), writable)
            for paths, writable in ((rw, True), (ro, False)) for p in paths if os.path.exists(p)]
    fresh = ["/tmp", "/dev/shm"]
    for target in fresh:
        if os.path.isdir(target):
            _mount("tmpfs", target, "tmpfs", _MS_NOSUID | _MS_NODEV, _TMPFS)
    # The host's UNIX sockets (a Docker daemon's, a database's, D-Bus) live under /run: an empty
    # one instead, so that no run connects to a socket it did not create. (A socket on a
    # read-only mount still accepts connections: hiding is what keeps it out of reach.)
    for target in _SOCKET_DIRS:
        if os.path.isdir(target) and not os.path.islink(target) and not _beneath(root, target):
            _mount("tmpfs", target, "tmpfs", _MS_NOSUID | _MS_NODEV, "size=64k,nr_inodes=64,mode=0755")
    if not any(_beneath(root, f) for f in fresh):
        _mount("tmpfs", root, "tmpfs", _MS_NOSUID | _MS_NODEV, "size=1m,nr_inodes=256,mode=0755")
    for path, fd, _ in keep:  # bring back what the run may see, from the descriptors opened above
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            os.makedirs(path, exist_ok=True)
        else:  # a file is bound onto a file
            os.makedirs(os.path.dirname(path), exist_ok=True)
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o600))
        _mount(f"/proc/self/fd/{fd}", path, None, _MS_BIND | _MS_REC)
        os.close(fd)
    _set_readonly("/", True, recursive=True)
    for path in [f for f in fresh if os.path.isdir(f)] + [p for p, _, writable in keep if writable]:
        _set_readonly(path, False, recursive=False)


def _capabilities() -> tuple[bool, int]:
    """(does this process hold or may it gain any capability, the highest capability number)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            sets = {k: int(v, 16) for k, v in (line.split(":") for line in f if line.startswith("Cap"))}
        with open("/proc/sys/kernel/cap_last_cap", encoding="ascii") as f:
            last = int(f.read())
        return any(sets.values()), last
    except (OSError, ValueError):
        return True, 63


def _drop_capabilities() -> None:
    """No capability now or after an exec: the bounding set emptied, then the process's own sets.
    (Nothing to do where there is none to drop: under bubblewrap, or for a user who has none.)"""
    if not _CAPS[0]:
        return
    libc = _c()
    for cap in range(_CAPS[1] + 1):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() == 22:  # EINVAL: past the last
            break
    libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    _check(libc.capset(ctypes.byref(header), data), "capset")


# The rules of the job's policy that every run shares, made once in the warm process (``prepare``):
# (policy id, prepared rules, the rules left for each run to make).
_prepared: tuple[int, list, list] | None = None


def prepare(policy: dict | None) -> None:
    """Make, once in the warm process, the Landlock rules its runs share: a run then only adds
    them (a rule made in each forked run costs it the opening of its path, and the memory it
    touches to do so). Not those under /tmp, /dev/shm or the scratch tree, which a run's own mount
    namespace replaces with other folders: each run opens those itself."""
    global _prepared
    if not policy or not policy.get("landlock"):
        return
    fresh = ["/tmp", "/dev/shm", os.path.realpath(policy.get("root") or "/nonexistent")]
    made, left = [], []
    for path, rights in policy.get("rules", []):
        if policy.get("mounts") and any(_beneath(path, f) for f in fresh):
            left.append((path, rights))
            continue
        try:
            made.append(landlock.Prepared(path, int(rights), int(policy["landlock"])))
        except OSError:
            pass  # not on this machine: no rule, as Ruleset.allow would do
    _prepared = (id(policy), made, left)


def _landlock(policy: dict, rw: list[str], events: str | None) -> None:
    ruleset = landlock.Ruleset(int(policy["landlock"]))
    prepared = _prepared if _prepared is not None and _prepared[0] == id(policy) else None
    try:
        if prepared:
            for rule in prepared[1]:
                ruleset.allow_prepared(rule)
        for path, rights in (prepared[2] if prepared else policy.get("rules", [])):
            ruleset.allow(path, int(rights))
        everything = landlock.fs_rights(ruleset.abi)
        own = [(path, everything) for path in rw]
        if events:  # appended to by spawned children, by path; not truncated, not read
            own.append((events, landlock.WRITE_FILE))
        for path, rights in own:
            if not ruleset.allow(path, rights):
                raise Uncontained(2, f"Landlock rule for {path}")
        ruleset.restrict_self()
    except landlock.LandlockError as exc:
        ruleset.close()
        raise Uncontained(exc.errno or 1, f"Landlock: {exc.strerror}") from None
    if prepared:  # the run's copies of the warm process's descriptors: of no use to the program
        for rule in prepared[1]:
            rule.close()


def run_tmp(policy: dict, index) -> str | None:
    """The temporary directory of run ``index``: in the sandbox's own /tmp where it has one (a short
    path: a Manager's AF_UNIX socket path must fit in 108 bytes), else in the scratch tree."""
    if policy.get("mounts") or policy.get("private_tmp"):
        return f"/tmp/run-{index}"
    return os.path.join(policy["tmp"], str(index)) if policy.get("tmp") else None


UNCONTAINED = "grader: サンドボックスを設定できない / the sandbox could not be set up".encode()


def apply(job: dict, spec: dict, sealer=None) -> None:
    """Contain this run as the job's policy says, or end it, saying why, before the program runs
    (the parent then reports a grader error, not the student's failure). The line is sealed as
    the events are (``sealer``), and believed only from a run that had not yet told the engine its
    program was starting: a program cannot pass its own failure off as the grader's."""
    try:
        enter(job.get("contain"), spec["cwd"], spec.get("index", 0), spec.get("events"))
    except OSError as exc:
        line = UNCONTAINED + f": {exc}".encode()
        os.write(2, line + (b"\t" + seal(line, sealer) if sealer is not None else b"") + b"\n")
        os._exit(EXIT_INTERNAL)


def uncontained(raw: bytes, key: bytes) -> str | None:
    """What ``apply`` said, from the start of a run's output, if it said it (sealed with ``key``)."""
    line = raw.split(b"\n", 1)[0]
    text, _, mac = line.rpartition(b"\t")
    if not text.startswith(UNCONTAINED) or not key or not compare_digest(mac, seal(text, key)):
        return None
    return text.decode("utf-8", "replace")


def enter(policy: dict | None, cwd: str, index=0, events: str | None = None) -> None:
    """Contain this process (and all it starts) for run ``index`` working in ``cwd``, whose
    spawned children append to ``events``; see the module.

    Call it in a single-threaded process: Landlock binds the calling thread and what it starts.
    """
    if not policy:
        return
    rw = [os.path.realpath(cwd)]
    if policy.get("pythonpath"):  # spawned children import the engine from here, nothing else of ours
        os.environ["PYTHONPATH"] = policy["pythonpath"]
    events = os.path.realpath(events) if events else None
    if policy.get("mounts"):
        ro = ([policy["pythonpath"]] if policy.get("pythonpath") else []) + list(policy.get("keep", []))
        # The events file is kept writable (not read-only bound) for spawned children; Landlock,
        # where there is, then lets them only append to it.
        _private_mounts(os.path.realpath(policy["root"]), rw + ([events] if events else []), ro)
        os.chdir(cwd)  # the working directory is now the bind mount: the view the run has
    tmp = run_tmp(policy, index)
    if tmp:  # made after the mounts: in the run's own /tmp when it has one
        os.makedirs(tmp, exist_ok=True)
        rw.append(os.path.realpath(tmp))
        os.environ["TMPDIR"] = tmp
        _forget_temp_dirs()
    _drop_capabilities()
    if policy.get("landlock"):
        _landlock(policy, rw, events)
    if policy.get("seccomp"):  # TCP sockets are left to Landlock where it refuses their bind and connect
        seccomp.restrict_sockets(tcp_allowed=int(policy.get("landlock") or 0) >= 4)


def _forget_temp_dirs() -> None:
    """A temporary directory chosen before TMPDIR changed (in the warm process) is not the run's."""
    tempfile = sys.modules.get("tempfile")
    if tempfile is not None:
        tempfile.tempdir = None
    process = sys.modules.get("multiprocessing.process")
    if process is not None:
        try:
            process.current_process()._config.pop("tempdir", None)
        except AttributeError:
            pass


# -- the probe grade --doctor runs inside the sandbox ---------------------------------------------

def _attempt(action) -> str:
    """'allowed', or why it was refused ('EACCES', 'EPERM', 'ESRCH'...)."""
    import errno
    try:
        action()
        return "allowed"
    except OSError as exc:
        return errno.errorcode.get(exc.errno, str(exc.errno)) if exc.errno else type(exc).__name__


def _probe(job: dict) -> dict:
    import socket

    def write(path):
        with open(path, "w") as f:
            f.write("probe\n")

    def read(path):
        with open(path, "rb") as f:
            f.read(1)

    def tcp():
        with socket.create_connection(("127.0.0.1", int(job["tcp_port"])), timeout=2):
            pass

    def udp():
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(job["token"].encode(), ("127.0.0.1", int(job["udp_port"])))

    def unix(address):
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(2)
            s.connect(address)

    out = {"cwd": _attempt(lambda: write(os.path.join(job["cwd"], "probe.txt")))}
    for i, path in enumerate(job.get("write", [])):
        out[f"write{i}"] = _attempt(lambda: write(path))
    for i, path in enumerate(job.get("read", [])):
        out[f"read{i}"] = _attempt(lambda: read(path))
    out["list_root"] = _attempt(lambda: os.listdir("/"))
    out["tcp"] = _attempt(tcp)
    out["udp"] = _attempt(udp)
    if job.get("unix_path"):
        out["unix"] = _attempt(lambda: unix(job["unix_path"]))
    if job.get("unix_abstract"):
        out["unix_abstract"] = _attempt(lambda: unix("\0" + job["unix_abstract"]))
    out["signal_runner"] = _attempt(lambda: os.kill(job["runner"], 0))
    out["signal_grader"] = _attempt(lambda: os.kill(int(job["grader"]), 0))
    return out


def main() -> None:
    """Apply the policy read on stdin in a forked process (a run's place) and report what held."""
    job = json.loads(sys.stdin.buffer.read())
    job["runner"] = os.getpid()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            enter(job["policy"], job["cwd"], "probe")
            result = _probe(job)
        except BaseException as exc:  # reported, not raised: the doctor says what failed
            result = {"error": f"{type(exc).__name__}: {exc}"}
        os.write(w, json.dumps(result).encode())
        os._exit(0)
    os.close(w)
    chunks = []
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.waitpid(pid, 0)
    sys.stdout.write((b"".join(chunks) or b'{"error": "the probe ended without a report"}').decode() + "\n")


# Done when the warm process imports this module, not in each forked run: a first ctypes call (the
# library, each function looked up), the seccomp filters' assembly, the capability sets read cost
# a run about a millisecond each.
_libc = _load()
landlock.abi()
seccomp.prepare()
_CAPS = _capabilities()  # the warm process's, which its forked runs inherit


if __name__ == "__main__":
    main()

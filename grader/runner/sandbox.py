"""Layers that contain the submission's child process, each used where this machine has it.

- always: a new session and process group (killed as a whole), resource limits set by the
  child on itself before any student code runs (see ``engine.child``), a clean environment;
- a namespace sandbox: bubblewrap (``bwrap``: no network, a read-only view of the system, a
  private /tmp, the grader's course files hidden, every capability dropped), else ``unshare``
  (new network and PID namespaces: no network, and every process dies with the sandbox's PID 1);
- a ``pids`` cgroup (v1 or v2) capping the process count, which also binds root (RLIMIT_NPROC
  does not), and lets every process of the run be found and killed;
- the engine's runner (``engine.child``) as a child subreaper, so processes that escape with
  ``setsid`` are reparented to it and killed after each run. (Not the grader itself: a run
  reparented to ``grade`` could kill it with ``os.kill(os.getppid(), ...)``.)
- set by each run on itself (``engine.contain``, with the policy of ``runner.policy``), needing no
  package and no privilege: Landlock (writes only in the run's directory, reads only what the
  interpreter needs, no TCP, no signal out of the run), a seccomp filter (no socket but UNIX and
  Landlock-guarded TCP ones: no UDP where there is no network namespace), all capabilities
  dropped, and where the runner is root of its namespaces (``unshare``), a mount namespace per run
  (private /tmp and /dev/shm, read-only system, the other runs' directories hidden).

``detect()`` probes once per process; ``grade --doctor`` prints what it found, then what a probe
inside the sandbox was refused.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..engine import landlock, seccomp
from ..engine.reaper import subreaper_available
from ..usercache import cache_path, write_atomic
from . import policy


@dataclass(frozen=True)
class Layer:
    """One protection and whether this machine has it: what it does, in English and Japanese."""

    name: str
    active: bool
    detail: str
    ja: str = ""

    def text(self, lang: str) -> str:
        return self.ja if lang == "ja" and self.ja else self.detail


@dataclass(frozen=True)
class Protections:
    """What can be used on this machine."""

    namespace: str | None       # "bwrap", "unshare" or None
    cgroup: Path | None         # the pids cgroup hierarchy we may create groups in
    subreaper: bool
    layers: tuple[Layer, ...] = field(default=())
    landlock: int = 0           # the Landlock ABI the runs use (0: none)
    mounts: bool = False        # each run makes its own mount namespace (runner root of its namespaces)
    seccomp: bool = False       # each run filters the sockets it may make


def skipped() -> set[str]:
    """Layers of the run's own sandbox left out for debugging or measuring the grader:
    ``GRADER_SANDBOX_SKIP=landlock,seccomp,mounts`` (any of them)."""
    return {s.strip() for s in os.environ.get("GRADER_SANDBOX_SKIP", "").split(",") if s.strip()}


# Run inside the namespace probe: can a process there make a mount namespace of its own, with a
# tmpfs in it (what ``engine.contain`` does for each run)?
_MOUNT_PROBE = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
print('sandbox-ok')
if libc.unshare(0x20000) == 0 and libc.mount(None, b'/', None, 16384 | (1 << 18), None) == 0 \\
        and libc.mount(b'tmpfs', b'/tmp', b'tmpfs', 0, b'size=1m') == 0:
    print('mounts-ok')
"""


PROBE_TTL = 600.0
"""Seconds a probe's outcome is reused by later gradings of this user on this machine: each probe
starts an interpreter in the sandbox, a tenth of grading one file. ``grade --doctor`` always
probes afresh, and so does a grading whose engine could not start."""
_fresh_probes = False


def _probe(cmd: list[str]) -> tuple[bool, str, str]:
    key = _probe_key(cmd)
    if not _fresh_probes:
        hit = _probe_cache().get(key)
        if hit is not None and time.time() - hit[0] < PROBE_TTL:
            return hit[1], hit[2], hit[3]
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=10, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc), ""
    ok = p.returncode == 0 and b"sandbox-ok" in p.stdout
    outcome = ok, (p.stderr.decode(errors="replace").strip().splitlines() or [""])[-1][:160], p.stdout.decode(
        errors="replace")
    _remember_probe(key, outcome)
    return outcome


def _probe_key(cmd: list[str]) -> str:
    """The probe, and what its outcome depends on: who asks, the kernel, the programs involved."""
    stamps = []
    for exe in (cmd[0], sys.executable):
        try:
            st = os.stat(exe)
            stamps.append(f"{exe}:{st.st_mtime_ns}:{st.st_size}")
        except OSError:
            stamps.append(exe)
    return "|".join([str(os.geteuid()), os.uname().release, *stamps, *cmd[1:]])


def _probe_cache() -> dict:
    try:
        with open(cache_path("sandbox-probes.json"), encoding="utf-8") as f:
            data = json.load(f)
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _remember_probe(key: str, outcome: tuple[bool, str, str]) -> None:
    cache = {k: v for k, v in _probe_cache().items() if time.time() - v[0] < PROBE_TTL}
    cache[key] = [time.time(), *outcome]
    try:  # best effort: a read-only home only costs the next grading its probe
        write_atomic(cache_path("sandbox-probes.json"), json.dumps(cache))
    except OSError:
        pass


def redetect() -> "Protections":
    """Probe again, ignoring what earlier gradings found (their machine may have changed since)."""
    global _fresh_probes
    _fresh_probes = True
    detect.cache_clear()
    return detect()


def _pids_cgroup_root() -> Path | None:
    for root in (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup")):
        controllers = root / "cgroup.controllers"
        is_v1 = root.name == "pids" and (root / "cgroup.procs").exists()
        is_v2 = controllers.exists() and "pids" in controllers.read_text().split()
        if (is_v1 or is_v2) and os.access(root, os.W_OK):
            test = root / f"grader-probe-{os.getpid()}"
            try:
                test.mkdir()
                ok = (test / "pids.max").exists()
                test.rmdir()
            except OSError:
                continue
            if ok:
                return root
    return None


def _landlock_layers(abi: int, skipped_here: bool) -> list[Layer]:
    if skipped_here:
        return [Layer("landlock", False, "disabled by GRADER_SANDBOX_SKIP", "GRADER_SANDBOX_SKIP で無効")]
    if not abi:
        en = "not offered by this kernel (Linux 5.13+ with landlock among its LSMs, e.g. lsm=landlock,...)"
        ja = "このカーネルにはない（Linux 5.13 以降で LSM に landlock が入っていること: lsm=landlock,...）"
        return [Layer("landlock fs", False, en, ja)]
    layers = [Layer("landlock fs", True,
                    f"ABI {abi}: writes only in the run's own directory; reads only the interpreter and the "
                    "system (not the grader, the course files, other runs or students, the home directory)",
                    f"ABI {abi}: 書き込みは実行自身のディレクトリの中だけ、読み取りはインタプリタとシステムだけ"
                    "（採点器・課題のファイル・ほかの実行や学生・ホームディレクトリは読めない）")]
    if abi >= 4:
        layers.append(Layer("landlock tcp", True, "TCP connect and bind refused", "TCP の connect と bind を拒否"))
    else:
        layers.append(Layer("landlock tcp", False, f"needs ABI 4 (Linux 6.7); this kernel has ABI {abi}",
                            f"ABI 4（Linux 6.7）以降が必要。このカーネルは ABI {abi}"))
    if abi >= 6:
        layers.append(Layer("landlock scope", True,
                            "signals and abstract UNIX sockets only among the run's own processes "
                            "(the grader cannot be signalled)",
                            "シグナルと抽象 UNIX ソケットは実行自身のプロセスの間だけ（採点器にシグナルを送れない）"))
    else:
        layers.append(Layer("landlock scope", False, f"needs ABI 6 (Linux 6.12); this kernel has ABI {abi}",
                            f"ABI 6（Linux 6.12）以降が必要。このカーネルは ABI {abi}"))
    return layers


@lru_cache(maxsize=1)
def detect() -> Protections:
    """Probe this machine's protections (cached for the process)."""
    if os.environ.get("GRADER_SANDBOX") == "off":  # for debugging the grader itself
        off = "disabled by GRADER_SANDBOX=off"
        return Protections(None, None, False, (Layer("sandbox", False, off, "GRADER_SANDBOX=off で無効"),))
    layers = [Layer("session", True, "new session and process group, killed as a whole",
                    "新しいセッションとプロセスグループ（まとめて終了させる）"),
              Layer("rlimits", True, "CPU time, memory (data), file size, open files, core dumps",
                    "CPU 時間・メモリ（data）・ファイルサイズ・開けるファイル数・コアダンプを制限")]
    namespace = None
    mounts = False
    bwrap = shutil.which("bwrap")
    if bwrap:
        ok, why, _ = _probe(_bwrap_profile(Path("/tmp")) + [sys.executable, "-S", "-c", "print('sandbox-ok')"])
        layers.append(Layer("bwrap", ok, "no network, read-only system, private /tmp, capabilities dropped"
                            if ok else f"bwrap present but refused: {why}",
                            "ネットワークなし・システムは読み取り専用・専用の /tmp・ケーパビリティなし"
                            if ok else f"bwrap はあるが使えない: {why}"))
        namespace = "bwrap" if ok else None
    else:
        layers.append(Layer("bwrap", False, "not installed (Debian/Ubuntu: apt-get install bubblewrap)",
                            "インストールされていない（Debian/Ubuntu: apt-get install bubblewrap）"))
    if namespace is None:
        unshare = shutil.which("unshare")
        if unshare:
            ok, why, out = _probe(_unshare_cmd(unshare) + [sys.executable, "-S", "-c", _MOUNT_PROBE])
            layers.append(Layer("unshare", ok, "network and PID namespaces: no network, nothing outlives the run"
                                if ok else f"unshare refused: {why}",
                                "ネットワークと PID の名前空間: ネットワークなし、実行の後に何も残らない"
                                if ok else f"unshare が使えない: {why}"))
            namespace = "unshare" if ok else None
            mounts = ok and "mounts-ok" in out
        else:
            layers.append(Layer("unshare", False, "util-linux unshare not found", "util-linux の unshare がない"))
        if mounts and "mounts" in skipped():
            mounts = False
            layers.append(Layer("mounts", False, "disabled by GRADER_SANDBOX_SKIP", "GRADER_SANDBOX_SKIP で無効"))
        elif mounts:
            layers.append(Layer("mounts", True, "a mount namespace per run: private /tmp and /dev/shm, an empty /run "
                                "(the host's UNIX sockets out of reach), read-only system, only the run's own "
                                "directory writable, other runs' directories hidden",
                                "実行ごとのマウント名前空間: 専用の /tmp と /dev/shm、空の /run（ホストの UNIX ソケットに"
                                "届かない）、システムは読み取り専用、書き込めるのは実行自身のディレクトリだけ、"
                                "ほかの実行のディレクトリは見えない"))
        else:
            layers.append(Layer("mounts", False, "no namespace the runner is root of (user namespaces refused?): "
                                "/tmp and the system are shared, guarded only by Landlock and file permissions",
                                "実行器が root になれる名前空間がない（ユーザー名前空間が拒否された？）: /tmp とシステムは"
                                "共有のまま、守りは Landlock とファイルの権限だけ"))
    skip = skipped()
    abi = 0 if "landlock" in skip else landlock.abi()
    layers += _landlock_layers(abi, "landlock" in skip)
    filtered = "seccomp" not in skip and seccomp.supported()
    if filtered:
        layers.append(Layer("seccomp", True, "sockets: UNIX ones only" + (" and TCP (refused by Landlock)" if abi >= 4
                            else "") + ": no UDP, raw or other network even without a network namespace",
                            "ソケットは UNIX" + ("と TCP（Landlock が拒否）" if abi >= 4 else "") +
                            "だけ: ネットワークの名前空間がなくても UDP・raw などの通信はできない"))
    else:
        why = "disabled by GRADER_SANDBOX_SKIP" if "seccomp" in skip else \
            f"no seccomp filter for this machine ({os.uname().machine}) or kernel"
        layers.append(Layer("seccomp", False, why, "GRADER_SANDBOX_SKIP で無効" if "seccomp" in skip else
                            f"この環境（{os.uname().machine}）では seccomp フィルタが使えない"))
    layers.append(Layer("capabilities", True, "every capability dropped in the run (a root run cannot undo "
                        "its sandbox, nor read what file permissions refuse)",
                        "実行ではケーパビリティをすべて捨てる（root の実行でもサンドボックスを外せず、"
                        "ファイルの権限を越えて読めない）"))
    cgroup = _pids_cgroup_root()
    layers.append(Layer("pids cgroup", cgroup is not None,
                        f"process count capped in {cgroup} (binds root too)" if cgroup else
                        "no writable pids cgroup: the process count is capped by RLIMIT_NPROC, which does not bind root",
                        f"プロセス数を {cgroup} で制限（root にも効く）" if cgroup else
                        "書き込める pids cgroup がない: プロセス数の上限は RLIMIT_NPROC だけで、root には効かない"))
    subreaper = subreaper_available()
    weak = not (namespace or cgroup)
    layers.append(Layer("subreaper", subreaper, "the runner adopts and kills setsid escapees while it lives"
                        + ("; one that kills the runner first can survive" if weak else "")
                        if subreaper else "prctl(PR_SET_CHILD_SUBREAPER) not available",
                        "setsid で抜けたプロセスも実行器が引き取って終了させる"
                        + ("（先に実行器を殺したものは残りうる）" if weak else "")
                        if subreaper else "prctl(PR_SET_CHILD_SUBREAPER) が使えない"))
    if os.geteuid() == 0 and namespace is None and cgroup is None:
        layers.append(Layer("warning", False, "running as root with neither a namespace nor a cgroup: "
                            "a fork bomb is bounded only by the time limit",
                            "root で実行中で名前空間も cgroup もない: fork 爆弾を止めるのは制限時間だけ"))
    return Protections(namespace, cgroup, subreaper, tuple(layers), abi, mounts, filtered)


def _unshare_cmd(unshare: str) -> list[str]:
    cmd = [unshare, "--fork", "--pid", "--net", "--mount", "--mount-proc", "--kill-child"]
    if os.geteuid() != 0:
        cmd.insert(1, "--map-root-user")
    return cmd


@dataclass
class Confinement:
    """The wrapping of one child process: the command prefix, and how to clean up after it."""

    prefix: list[str]
    cgroup: Path | None = None
    namespace: str | None = None
    policy: dict | None = None
    """What each run applies to itself (``engine.contain``); None: nothing."""

    @property
    def needs_reaper(self) -> bool:
        """Neither a PID namespace nor a cgroup catches processes that escape with setsid."""
        return self.cgroup is None and self.namespace is None

    def command(self, cmd: list[str]) -> list[str]:
        return self.prefix + cmd

    def kill_all(self) -> None:
        """Kill every process of the run (those in its cgroup), then remove the cgroup.

        A fork bomb's thousand children take a moment to die: keep killing until the cgroup
        can be removed (about 3 s at most); one still busy then is swept by a later run.
        """
        if self.cgroup is None:
            return
        end = time.monotonic() + 3.0
        pause = 0.001  # killed processes are gone within a millisecond or two, a fork bomb's later
        while True:
            try:
                pids = [int(p) for p in (self.cgroup / "cgroup.procs").read_text().split()]
            except OSError:
                pids = []
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            try:
                self.cgroup.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                if time.monotonic() > end:
                    return
                time.sleep(pause)
                pause = min(0.02, pause * 2)


def _sweep(root: Path) -> None:
    """Remove empty cgroups that earlier runs could not (their last processes were still dying)."""
    now = time.time()
    for old in root.glob("grader-*"):
        try:  # an empty group just made by a concurrent grader is young: leave it alone
            if now - old.stat().st_mtime > 60 and not (old / "cgroup.procs").read_text().split():
                old.rmdir()
        except OSError:
            pass


def confine(work: Path, max_processes: int, with_policy: bool = True) -> Confinement:
    """How to start a child confined to ``work`` with at most ``max_processes`` processes.

    ``with_policy=False`` leaves out what each run applies to itself (``run_policy`` makes it): the
    child can then start before it is built, which is what the grader does to save time.
    """
    prot = detect()
    prefix: list[str] = []
    if prot.namespace == "bwrap":
        prefix = _bwrap_profile(work)
    elif prot.namespace == "unshare":
        prefix = _unshare_cmd(shutil.which("unshare")) + ["--"]
    cgroup = None
    if prot.cgroup is not None:
        _sweep(prot.cgroup)
        cgroup = prot.cgroup / f"grader-{os.urandom(6).hex()}"
        try:
            cgroup.mkdir()
            (cgroup / "pids.max").write_text(str(max_processes))
            # The shell joins the cgroup, then becomes the sandbox: nothing forks before it joined.
            prefix = ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', str(cgroup / "cgroup.procs")] + prefix
        except OSError:
            cgroup = None
    return Confinement(prefix, cgroup, prot.namespace, run_policy(work) if with_policy else None)


def run_policy(work: Path) -> dict | None:
    """What each run in the scratch tree ``work`` applies to itself (``engine.contain``)."""
    if os.environ.get("GRADER_SANDBOX") == "off":
        return None
    prot = detect()
    return policy.build(work, prot.landlock, prot.mounts, private_tmp=prot.namespace == "bwrap",
                        filtered=prot.seccomp)


def _bwrap_profile(work: Path) -> list[str]:
    """Only what the interpreter needs, read-only; the scratch tree read-write; nothing else."""
    cmd = [shutil.which("bwrap"), "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
           "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    seen: set[str] = set()
    for path in _readonly_paths():
        if path in seen or not os.path.exists(path):
            continue
        seen.add(path)
        if os.path.islink(path) and os.path.dirname(path) == "/":
            cmd += ["--symlink", os.readlink(path), path]  # merged /usr: /bin -> usr/bin
        else:
            cmd += ["--ro-bind", path, path]
    for hidden in _course_dirs():
        if any(str(hidden).startswith(p + os.sep) for p in seen):
            cmd += ["--tmpfs", str(hidden)]
    cmd += ["--bind", str(work), str(work), "--chdir", str(work), "--"]
    return cmd


def _executable_hops() -> list[str]:
    """The folders of every link from ``sys.executable`` to the interpreter: a venv made from
    another venv's python (``venv/bin/python -> /tmp/other/bin/python -> /usr/bin/python3.10``)
    runs only if each hop resolves inside the sandbox, whose /tmp is its own."""
    hops, path = [], sys.executable
    for _ in range(16):  # a bound on a link cycle
        if not path or not os.path.islink(path):
            break
        target = os.readlink(path)
        path = os.path.normpath(os.path.join(os.path.dirname(path), target))
        hops.append(os.path.dirname(path))
    return hops


def _readonly_paths() -> list[str]:
    package = Path(__file__).resolve().parents[1]
    # The folder of sys.executable too: it is what is run, and may be a link outside both prefixes.
    paths = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc/ld.so.cache", "/etc/localtime",
             sys.base_prefix, sys.prefix, os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix),
             os.path.dirname(sys.executable), *_executable_hops(), str(package)]
    return [p for p in paths if p]


def _course_dirs() -> list[Path]:
    """The grader's course files (model answers, checks, data) that a submission must not see."""
    from ..exercises.catalog import course_root
    root = course_root()
    return [p for p in (root / "reference", root / "assignments", root / "data") if p.is_dir()]


def probe() -> dict:
    """Run ``engine.contain``'s probe in the sandbox a run gets: what it was refused, measured.

    Its attempts are harmless (a file created in /tmp or the home directory is removed at once,
    signal 0 checks reachability without delivering anything) and aimed at sockets of our own.
    """
    import json
    import socket
    import tempfile

    from ..exercises.catalog import data_file
    from .workspace import child_env

    prot = detect()
    token = os.urandom(8).hex()
    outside = [os.path.join(tempfile.gettempdir(), f"grader-doctor-{token}"),
               os.path.join(os.path.expanduser("~"), f".grader-doctor-{token}")]
    tcp = socket.socket()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # A host's UNIX socket where a daemon's would be (/run, when we may write there), open to
    # all as a careless one is; and one in the abstract namespace (X11's and D-Bus's are there).
    unix = socket.socket(socket.AF_UNIX)
    unix_path = os.path.join("/run" if os.access("/run", os.W_OK) else tempfile.gettempdir(),
                             f"grader-doctor-{token}.sock")
    abstract = socket.socket(socket.AF_UNIX)
    root = Path(tempfile.mkdtemp(prefix="grader-"))
    try:
        tcp.bind(("127.0.0.1", 0))
        tcp.listen(4)
        udp.bind(("127.0.0.1", 0))
        unix.bind(unix_path)
        os.chmod(unix_path, 0o777)
        unix.listen(4)
        abstract.bind(f"\0grader-doctor-{token}")
        abstract.listen(4)
        cwd = root / "work" / "probe"
        cwd.mkdir(parents=True)
        confinement = confine(root, 64)
        job = {"policy": confinement.policy, "cwd": str(cwd), "write": outside, "token": token,
               "read": [str(Path(__file__).resolve()), str(data_file())],
               "tcp_port": tcp.getsockname()[1], "udp_port": udp.getsockname()[1], "grader": os.getpid(),
               "unix_path": unix_path, "unix_abstract": f"grader-doctor-{token}"}
        try:
            p = subprocess.run(confinement.command([sys.executable, "-S", "-m", "grader.engine.contain"]),
                               input=json.dumps(job).encode(), capture_output=True, timeout=30, cwd=root,
                               env=child_env(root), start_new_session=True)
            result = json.loads(p.stdout.decode(errors="replace").strip().splitlines()[-1])
        except (OSError, subprocess.TimeoutExpired, ValueError, IndexError) as exc:
            result = {"error": f"{type(exc).__name__}: {exc}"}
        finally:
            confinement.kill_all()
        result["outside_written"] = [path for path in outside if os.path.exists(path)]
        tcp.setblocking(False)
        udp.setblocking(False)
        try:
            tcp.accept()[0].close()
            result["tcp_reached"] = True
        except OSError:
            result["tcp_reached"] = False
        try:
            result["udp_reached"] = udp.recv(64) == token.encode()
        except OSError:
            result["udp_reached"] = False
        for key, listener in (("unix_reached", unix), ("unix_abstract_reached", abstract)):
            listener.setblocking(False)
            try:
                listener.accept()[0].close()
                result[key] = True
            except OSError:
                result[key] = False
        result["processes"] = ("pids cgroup" if prot.cgroup else "RLIMIT_NPROC" if os.geteuid() else None)
        result["outlive"] = prot.namespace is not None or prot.cgroup is not None
        return result
    finally:
        for path in outside + [unix_path]:  # the probe's own marker, if something let it through
            try:
                os.unlink(path)
            except OSError:
                pass
        for sock in (tcp, udp, unix, abstract):
            sock.close()
        shutil.rmtree(root, ignore_errors=True)


def _glance(r: dict) -> list[tuple[str, bool, str, str]]:
    """The probe's findings per concern: (concern, contained, English, Japanese)."""
    if "error" in r:
        return [("probe", False, f"the probe failed: {r['error']}", f"検査が失敗: {r['error']}")]
    refused = lambda key: r.get(key) not in (None, "allowed")  # noqa: E731
    writes = [k for k in r if k.startswith("write")]
    reads = [k for k in r if k.startswith("read")]
    files_ok = (r.get("cwd") == "allowed" and all(refused(k) for k in writes + reads)
                and not r.get("outside_written"))
    read_leak = not all(refused(k) for k in reads)
    leaks = ", ".join([f"wrote {p}" for p in r.get("outside_written", [])]
                      + (["read the grader's files"] if read_leak else []))
    leaks_ja = "、".join([f"{p} に書けた" for p in r.get("outside_written", [])]
                        + (["採点器のファイルが読めた"] if read_leak else []))
    net_ok = not r.get("tcp_reached") and not r.get("udp_reached") and refused("tcp")
    net_leak = ", ".join(n for n, hit in (("TCP", r.get("tcp_reached") or not refused("tcp")),
                                          ("UDP", r.get("udp_reached"))) if hit)
    unix_hits = [(en, ja) for en, ja, k in (("a socket by its path", "パス名のソケット", "unix"),
                                             ("an abstract socket", "抽象ソケット", "unix_abstract"))
                 if r.get(k) == "allowed" or r.get(f"{k}_reached")]
    sig_ok = refused("signal_grader") and refused("signal_runner")
    reachable = [(en, ja) for en, ja, k in (("the grader", "採点器", "signal_grader"),
                                            ("the runner", "実行器", "signal_runner")) if not refused(k)]
    sig_leak = ", ".join(en for en, _ in reachable)
    sig_leak_ja = "・".join(ja for _, ja in reachable)
    procs = r.get("processes")
    return [
        ("files", files_ok,
         "writes outside the run's directory refused ($HOME, /tmp); the grader's and the course's files unreadable"
         if files_ok else f"NOT contained: {leaks or 'the run could not write its own directory'}",
         "実行のディレクトリの外には書けない（$HOME, /tmp）。採点器と課題のファイルは読めない"
         if files_ok else f"封じ込められていない: {leaks_ja or '実行自身のディレクトリに書けない'}"),
        ("network", net_ok, "TCP and UDP to 127.0.0.1 did not get through" if net_ok else
         f"NOT contained: {net_leak} got through",
         "127.0.0.1 への TCP も UDP も届かない" if net_ok else f"封じ込められていない: {net_leak} が届いた"),
        ("sockets", not unix_hits,
         "the host's UNIX sockets (by path under /run, abstract) out of reach" if not unix_hits else
         "NOT contained: the run connected to " + ", ".join(en for en, _ in unix_hits),
         "ホストの UNIX ソケット（/run のパス名・抽象）に接続できない" if not unix_hits else
         "封じ込められていない: " + "・".join(ja for _, ja in unix_hits) + "に接続できた"),
        ("processes", bool(procs) and r.get("outlive"),
         (f"process count capped ({procs})" if procs else "process count NOT capped (root, no pids cgroup)")
         + ("; nothing outlives the run" if r.get("outlive") else "; escapees are killed by the runner only"),
         (f"プロセス数に上限あり（{procs}）" if procs else "プロセス数の上限なし（root で pids cgroup がない）")
         + ("。実行の後に何も残らない" if r.get("outlive") else "。抜け出したプロセスは実行器だけが終了させる")),
        ("signals", sig_ok, "neither the grader nor the runner can be signalled" if sig_ok else
         f"NOT contained: {sig_leak} can be signalled",
         "採点器にも実行器にもシグナルを送れない" if sig_ok else f"封じ込められていない: {sig_leak_ja}にシグナルを送れる"),
    ]


def _pad(text: str, width: int) -> str:
    """``text`` padded to ``width`` terminal columns (a Japanese character takes two)."""
    import unicodedata
    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, width - used)


_CONCERNS_JA = {"files": "ファイル", "network": "ネットワーク", "sockets": "ソケット", "processes": "プロセス", "signals": "シグナル",
                "probe": "検査"}


def doctor(lang: str = "en") -> str:
    """The protections of this machine, one line per layer; then what a probe inside the sandbox
    was refused, one line per concern (files, network, sockets, processes, signals)."""
    prot = redetect()
    ja = lang == "ja"
    lines = ["この環境で有効な保護:" if ja else "Protections on this machine:"]
    for layer in prot.layers:
        mark = "✓" if layer.active else "✗"
        lines.append(f"  {mark} {layer.name:<14} {layer.text(lang)}")
    if prot.layers and prot.layers[0].name != "sandbox":
        lines.append("サンドボックス内で試した結果:" if ja else "Tried inside the sandbox:")
        for concern, ok, en, ja_text in _glance(probe()):
            label = _CONCERNS_JA.get(concern, concern) if ja else concern
            lines.append(f"  {'✓' if ok else '✗'} {_pad(label, 14)} {ja_text if ja else en}")
    lines.append(f"  python {sys.version.split()[0]} ({sys.executable}), uid {os.geteuid()}")
    return "\n".join(lines) + "\n"

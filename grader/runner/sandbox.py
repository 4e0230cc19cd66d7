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

``detect()`` probes once per process; ``grade --doctor`` prints what it found.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..engine.reaper import subreaper_available



@dataclass(frozen=True)
class Layer:
    """One protection and whether this machine has it."""

    name: str
    active: bool
    detail: str


@dataclass(frozen=True)
class Protections:
    """What can be used on this machine."""

    namespace: str | None       # "bwrap", "unshare" or None
    cgroup: Path | None         # the pids cgroup hierarchy we may create groups in
    subreaper: bool
    layers: tuple[Layer, ...] = field(default=())


def _probe(cmd: list[str]) -> tuple[bool, str]:
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=10, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    ok = p.returncode == 0 and b"sandbox-ok" in p.stdout
    return ok, (p.stderr.decode(errors="replace").strip().splitlines() or [""])[-1][:160]


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


@lru_cache(maxsize=1)
def detect() -> Protections:
    """Probe this machine's protections (cached for the process)."""
    if os.environ.get("GRADER_SANDBOX") == "off":  # for debugging the grader itself
        return Protections(None, None, False, (Layer("sandbox", False, "disabled by GRADER_SANDBOX=off"),))
    layers = [Layer("session", True, "new session and process group, killed as a whole"),
              Layer("rlimits", True, "CPU time, memory (data), file size, open files, core dumps")]
    namespace = None
    bwrap = shutil.which("bwrap")
    if bwrap:
        ok, why = _probe(_bwrap_profile(Path("/tmp")) + [sys.executable, "-S", "-c", "print('sandbox-ok')"])
        layers.append(Layer("bwrap", ok, "no network, read-only system, private /tmp, capabilities dropped"
                            if ok else f"bwrap present but refused: {why}"))
        namespace = "bwrap" if ok else None
    else:
        layers.append(Layer("bwrap", False, "not installed (Debian/Ubuntu: apt-get install bubblewrap)"))
    if namespace is None:
        unshare = shutil.which("unshare")
        if unshare:
            ok, why = _probe(_unshare_cmd(unshare) + [sys.executable, "-S", "-c", "print('sandbox-ok')"])
            layers.append(Layer("unshare", ok, "network and PID namespaces: no network, nothing outlives the run"
                                if ok else f"unshare refused: {why}"))
            namespace = "unshare" if ok else None
        else:
            layers.append(Layer("unshare", False, "util-linux unshare not found"))
    cgroup = _pids_cgroup_root()
    layers.append(Layer("pids cgroup", cgroup is not None,
                        f"process count capped in {cgroup} (binds root too)" if cgroup else
                        "no writable pids cgroup: the process count is capped by RLIMIT_NPROC, which does not bind root"))
    subreaper = subreaper_available()
    layers.append(Layer("subreaper", subreaper, "the runner adopts and kills setsid escapees while it lives"
                        + ("" if namespace or cgroup else "; one that kills the runner first can survive")
                        if subreaper else "prctl(PR_SET_CHILD_SUBREAPER) not available"))
    if os.geteuid() == 0 and namespace is None and cgroup is None:
        layers.append(Layer("warning", False, "running as root with neither a namespace nor a cgroup: "
                            "a fork bomb is bounded only by the time limit"))
    return Protections(namespace, cgroup, subreaper, tuple(layers))


def _unshare_cmd(unshare: str) -> list[str]:
    cmd = [unshare, "--fork", "--pid", "--net", "--mount-proc", "--kill-child"]
    if os.geteuid() != 0:
        cmd.insert(1, "--map-root-user")
    return cmd


@dataclass
class Confinement:
    """The wrapping of one child process: the command prefix, and how to clean up after it."""

    prefix: list[str]
    cgroup: Path | None = None
    namespace: str | None = None

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
                time.sleep(0.01)


def _sweep(root: Path) -> None:
    """Remove empty cgroups that earlier runs could not (their last processes were still dying)."""
    now = time.time()
    for old in root.glob("grader-*"):
        try:  # an empty group just made by a concurrent grader is young: leave it alone
            if now - old.stat().st_mtime > 60 and not (old / "cgroup.procs").read_text().split():
                old.rmdir()
        except OSError:
            pass


def confine(work: Path, max_processes: int) -> Confinement:
    """How to start a child confined to ``work`` with at most ``max_processes`` processes."""
    prot = detect()
    prefix: list[str] = []
    if prot.namespace == "bwrap":
        prefix = _bwrap_profile(work)
    elif prot.namespace == "unshare":
        prefix = _unshare_cmd(shutil.which("unshare")) + ["--"]
    cgroup = None
    if prot.cgroup is not None:
        _sweep(prot.cgroup)
        cgroup = prot.cgroup / f"grader-{uuid.uuid4().hex[:12]}"
        try:
            cgroup.mkdir()
            (cgroup / "pids.max").write_text(str(max_processes))
            # The shell joins the cgroup, then becomes the sandbox: nothing forks before it joined.
            prefix = ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', str(cgroup / "cgroup.procs")] + prefix
        except OSError:
            cgroup = None
    return Confinement(prefix, cgroup, prot.namespace)


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


def _readonly_paths() -> list[str]:
    package = Path(__file__).resolve().parents[1]
    paths = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc/ld.so.cache", "/etc/localtime",
             sys.base_prefix, sys.prefix, os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix),
             str(package)]
    return [p for p in paths if p]


def _course_dirs() -> list[Path]:
    """The grader's course files (model answers, checks, data) that a submission must not see."""
    from ..exercises.catalog import course_root
    root = course_root()
    return [p for p in (root / "reference", root / "assignments", root / "data") if p.is_dir()]


def doctor(lang: str = "en") -> str:
    """The protections active on this machine, one line each."""
    prot = detect()
    head = "この環境で有効な保護:" if lang == "ja" else "Protections on this machine:"
    lines = [head]
    for layer in prot.layers:
        mark = "✓" if layer.active else "✗"
        lines.append(f"  {mark} {layer.name:<12} {layer.detail}")
    lines.append(f"  python {sys.version.split()[0]} ({sys.executable}), uid {os.geteuid()}")
    return "\n".join(lines) + "\n"

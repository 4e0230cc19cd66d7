"""Hostile submissions (SPEC "Untrusted code", issue 5): whatever a submission does, the grader ends,
reports the right failed check with a clear reason, and leaves nothing behind.

Each ``<case>__counter_lck.py`` beside this file is a small hostile program, graded as counter_lck
with the installed ``grade`` (``--junit`` and ``--json``). Every program is bounded by itself
(``signal.alarm`` and a size limit), so even a grader that contained nothing would not take the
machine down. Placeholders in the program text (``@@TOKEN@@``, ``@@PORT@@``, ``@@REPO@@``,
``@@HOME@@``, ``@@REPORTS@@``) are filled in per test.

Per case: exit status 1, never 2, no traceback on stderr; the expected check reported as a failure
(not a grader error) whose message names the cause; the wall time (recorded, not asserted); no
process of the run alive 1 s after ``grade`` returned; no scratch directory left (``grade`` runs
with ``TMPDIR`` set to a folder of the test's own, so its ``grader-*`` scratch trees are told apart
from those of any other grader running on the machine) and no ``grader-*`` pids cgroup left.

What holds depends on the protections this machine has (``grade --doctor``). Each assertion is the
strongest one that holds on every layer; those that need a layer are made when one that provides
it is active, and otherwise the test is skipped at its end, saying which layer is missing and what
got through:
- files written outside the scratch directory, the grader's package changed: bwrap, Landlock or
  the per-run mount namespace (``mounts``); /etc/passwd written through a link: the same;
- the grader's files, other students' submissions read: bwrap or Landlock;
- TCP: bwrap, unshare (network namespaces), Landlock ABI 4 or seccomp; UDP: a network namespace or
  seccomp;
- a signal to the grader: Landlock's signal scope (ABI 6) or a PID namespace (bwrap, unshare).
Whatever the layers, every case also checks that nothing outside the scratch directory changed:
a fingerprint of the places the programs aim at (the grader's checkout, ~/.bashrc, /etc/passwd,
anything named with the case's token in /tmp, the home directory and the checkout) is taken
before and after grading (what a program did change is restored, and the test then fails).

``GRADER_HOSTILE_HIDE=bwrap`` (or ``bwrap,unshare``; ``landlock``, ``seccomp``, ``mounts``, left
out through ``GRADER_SANDBOX_SKIP``; and ``cgroup`` as root: an empty /sys/fs/cgroup in a mount
namespace) hides those layers from the grader, to try the fallbacks on a machine that has them. CI runs the suite as the machine is, then with
``GRADER_HOSTILE_HIDE=bwrap``.

``python tests/hostile/test_hostile.py --table`` grades every case once in each mode (as the
machine is, and without bubblewrap) and writes RESULTS.md: the layer that stopped each attempt
(the first to refuse it, from the errno the program saw), the time to the verdict, the exit status.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

try:
    import pytest
except ImportError:  # the --table mode needs no pytest
    pytest = None

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
REFERENCE = REPO / "reference" / "counter_lck.py"
GRADE_TIMEOUT = 120  # seconds, per submission: far above the grader's own 60 s total limit
CGROUP_GLOBS = ("/sys/fs/cgroup/pids/grader-*", "/sys/fs/cgroup/grader-*")

if pytest is not None:
    pytestmark = pytest.mark.timeout(600)


# -- the cases ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    name: str
    check: str                      # the check that must fail
    causes: tuple[str, ...]         # one of these (lower case) must be in its message
    also_passes: tuple[str, ...] = ()  # checks that must still pass (the grader's own verdicts)
    about: str = ""


CASES = {c.name: c for c in (
    Case("infinite_loop", "runs", ("time limit",), about="CPU spin in the main thread"),
    Case("fork_bomb", "runs", ("blockingioerror", "resource temporarily unavailable", "time limit",
                               "killed by signal"), about="forks until refused (at most 2000)"),
    Case("memory_hog", "runs", ("memoryerror", "killed by signal", "time limit"),
         about="4 GiB in 100 MB chunks (on a loaded machine the wall limit may come first)"),
    Case("print_flood", "runs", ("output",), about="500 MB of print()"),
    Case("write_flood", "runs", ("output", "file too large", "sigxfsz"),
         about="500 MB of os.write(1, ...)"),
    Case("ignore_sigterm", "runs", ("time limit",), about="SIGTERM ignored, then a CPU spin"),
    Case("lingering_thread", "runs", ("never ends", "time limit"),
         about="a non-daemon thread that sleeps forever; main returns"),
    Case("setsid_child", "tally", ("集計結果",), also_passes=("runs",),
         about="a setsid() child that sleeps 60 s (real time)"),
    Case("kill_parent", "runs", ("parent", "killed", "abrupt", "time limit"),
         about="os.kill(os.getppid(), SIGKILL), then lingers 20 s (real time)"),
    Case("write_outside", "tally", ("集計結果",), also_passes=("runs",),
         about="creates files in /tmp, the checkout, the package, $HOME"),
    Case("tcp_connect", "tally", ("集計結果",), also_passes=("runs",),
         about="TCP connection to a listener of the test on 127.0.0.1"),
    Case("read_grader_files", "tally", ("集計結果",), also_passes=("runs",),
         about="prints the model answer, the checks, /etc/shadow"),
    Case("fake_results", "tally", ("instead of", "hidden data"), also_passes=("runs",),
         about="prints ✓ lines and the course data's 集計結果, writes fake junit.xml/results.json"),
    Case("early_exit", "runs", ("ended abruptly",), about="correct-looking 集計結果, then os._exit(0)"),
    # issue 11: containment without bubblewrap
    Case("write_home_tmp", "tally", ("集計結果",), also_passes=("runs",),
         about="markers in /tmp and $HOME, a line appended to ~/.bashrc (after reading and writing its own files)"),
    Case("overwrite_package", "tally", ("集計結果",), also_passes=("runs",),
         about="appends to the grader's own package (__init__.py, an engine module, the judge)"),
    Case("find_submissions", "tally", ("集計結果",), also_passes=("runs",),
         about="looks for other students' counter_lck.py ($HOME, the folders above, os.walk('/'), /proc)"),
    Case("kill_grader", "runs", ("time limit", "killed", "parent", "abrupt"),
         about="SIGKILL to the grader's processes found through /proc, and to os.getppid(); lingers 20 s"),
    Case("udp_packet", "tally", ("集計結果",), also_passes=("runs",),
         about="UDP datagrams to a socket of the test on 127.0.0.1; listens on a TCP port"),
    Case("symlink_passwd", "tally", ("集計結果",), also_passes=("runs",),
         about="a symlink and a hard link to /etc/passwd in its directory, opened for writing"),
    # issue 19: the host's UNIX sockets
    Case("unix_connect", "tally", ("集計結果",), also_passes=("runs",),
         about="connects to a UNIX socket of the host by its path (under /run, as Docker's would be)"),
)}
# The other student whose files find_submissions must not find (planted by the test).
OTHER_STUDENT = "s2299999"


# -- the machine's layers -------------------------------------------------------------------------

_LAYER_NAMES = ("session", "rlimits", "bwrap", "unshare", "mounts", "landlock fs", "landlock tcp",
                "landlock scope", "seccomp", "capabilities", "pids cgroup", "subreaper", "sandbox")


def _hidden() -> set[str]:
    return {h.strip() for h in os.environ.get("GRADER_HOSTILE_HIDE", "").split(",") if h.strip()}


def grade_env(tmpdir: Path) -> dict[str, str]:
    """The environment ``grade`` runs with: our own TMPDIR, and the tools GRADER_HOSTILE_HIDE hides."""
    env = dict(os.environ)
    env["TMPDIR"] = str(tmpdir)
    hide = _hidden()
    skip = hide & {"landlock", "seccomp", "mounts"}
    if skip:
        env["GRADER_SANDBOX_SKIP"] = ",".join(sorted(skip))
    if hide & {"bwrap", "unshare"}:
        bindir = tmpdir.parent / "hostile-bin"
        bindir.mkdir(exist_ok=True)
        for tool in ("bwrap", "unshare"):
            found = shutil.which(tool)
            if found and tool not in hide and not (bindir / tool).exists():
                (bindir / tool).symlink_to(found)
        env["PATH"] = str(bindir)
    return env


def _hide_cgroup_prefix() -> list[str]:
    """With ``cgroup`` in GRADER_HOSTILE_HIDE: run ``grade`` in a mount namespace where
    /sys/fs/cgroup is an empty tmpfs (needs root and util-linux ``unshare``)."""
    if "cgroup" not in _hidden():
        return []
    unshare = shutil.which("unshare")
    if os.geteuid() != 0 or not unshare:
        raise RuntimeError("GRADER_HOSTILE_HIDE=cgroup needs root and unshare")
    return [unshare, "--mount", "--propagation", "private", "/bin/sh", "-c",
            f'{shutil.which("mount") or "mount"} -t tmpfs none /sys/fs/cgroup && exec "$@"', "sh"]


def grade_command() -> list[str]:
    grade = Path(sys.executable).with_name("grade")
    if grade.is_file() and os.access(grade, os.X_OK):
        return _hide_cgroup_prefix() + [str(grade)]
    return _hide_cgroup_prefix() + [sys.executable, "-m", "grader"]


def doctor(env: dict[str, str]) -> tuple[str, set[str]]:
    """``grade --doctor``'s text and the names of the active layers."""
    out = subprocess.run(grade_command() + ["--doctor", "--lang", "en"], capture_output=True, text=True,
                         env=env, timeout=60).stdout
    active = set()
    for line in out.splitlines():
        m = re.match(r"\s*([✓✗])\s+(.*)", line)
        if m and m.group(1) == "✓":
            active.update(n for n in _LAYER_NAMES if m.group(2).startswith(n))
    return out, active


# -- processes and leftovers ----------------------------------------------------------------------

def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def processes() -> dict[int, str]:
    """Every live (non-zombie) process: pid -> start time."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _read(f"/proc/{entry}/stat").decode(errors="replace")
            fields = stat.rsplit(")", 1)[-1].split()
            if len(fields) > 19 and fields[0] not in ("Z", "X"):
                found[int(entry)] = fields[19]
    return found


def survivors(before: dict[int, str], markers: list[str]) -> list[str]:
    """Processes started since ``before`` whose command line or environment carries a marker."""
    found = []
    for pid, start in processes().items():
        if before.get(pid) == start or pid == os.getpid():
            continue
        cmdline = _read(f"/proc/{pid}/cmdline").replace(b"\0", b" ").decode(errors="replace")
        environ = _read(f"/proc/{pid}/environ").decode(errors="replace")
        if any(m in cmdline or m in environ for m in markers):
            found.append(f"{pid}: {cmdline.strip()[:200]}")
    return found


def cgroups() -> set[str]:
    import glob
    return {p for g in CGROUP_GLOBS for p in glob.glob(g)}


class CgroupWatch:
    """Notes, while ``grade`` runs, the new ``grader-*`` cgroups that hold a process of ours.

    Cgroups are named at random, and other graders may be running on the machine: a cgroup is ours
    when a process in it carries one of our markers in its environment.
    """

    def __init__(self, markers: list[str]):
        self.markers = markers
        self.before = cgroups()
        self.ours: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self):
        while not self._stop.wait(0.02):
            for path in cgroups() - self.before - self.ours:
                for pid in _read(os.path.join(path, "cgroup.procs")).split():
                    environ = _read(f"/proc/{int(pid)}/environ").decode(errors="replace")
                    if any(m in environ for m in self.markers):
                        self.ours.add(path)
                        break

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)

    def left(self) -> list[str]:
        return [f"{p} (processes: {_read(os.path.join(p, 'cgroup.procs')).decode().split() or 'none'})"
                for p in sorted(self.ours) if os.path.isdir(p)]

    def remove_left(self) -> None:
        for p in self.ours:
            try:
                os.rmdir(p)
            except OSError:
                pass


# -- one case -------------------------------------------------------------------------------------

class Listener:
    """A TCP server on 127.0.0.1 that counts the connections it accepts."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self._start()

    def _start(self):
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.accepted = 0
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self):
        self._stop = True
        self._thread.join(2)
        self.sock.close()


class UnixListener(Listener):
    """A UNIX socket of the host, where a daemon's would be (/run when the test may write there,
    else its own folder), that counts the connections it accepts."""

    def __init__(self, work: Path, token: str):
        folder = Path("/run") if os.access("/run", os.W_OK) else work
        self.path = str(folder / f"grader-hostile-{token[:12]}.sock")
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o777)  # any user may connect, as to a socket left open to all
        self._start()

    def close(self):
        super().close()
        try:
            os.unlink(self.path)
        except OSError:
            pass


class UdpSink:
    """A UDP socket on 127.0.0.1 that counts the datagrams carrying a token."""

    def __init__(self, token: str):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.token = token.encode()

    def close(self) -> int:
        received = 0
        while True:
            try:
                received += self.token in self.sock.recv(512)
            except OSError:
                break
        self.sock.close()
        return received


# -- what must not change -------------------------------------------------------------------------

def _digest(path: Path) -> str:
    import hashlib
    try:
        st = path.stat()
        return f"{hashlib.sha256(path.read_bytes()).hexdigest()[:16]}:{st.st_size}:{st.st_mtime_ns}"
    except OSError:
        return "absent"


def _watched_files() -> list[Path]:
    """The files the hostile programs aim at: the grader's checkout (package, course), the grading
    user's ~/.bashrc, /etc/passwd."""
    files = [Path(os.path.expanduser("~/.bashrc")), Path("/etc/passwd")]
    tops = [REPO / top for top in ("grader", "reference", "assignments", "data")]
    try:  # the grader `grade` runs (installed, in CI), where it is not the checkout's
        import grader
        tops.append(Path(grader.__file__).resolve().parent)
    except ImportError:
        pass
    for top in dict.fromkeys(tops):
        files += sorted(p for p in top.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return list(dict.fromkeys(files))


def fingerprint(token: str) -> dict[str, str]:
    """The state of what a program outside its scratch directory could change: watched files, and
    every name carrying the case's token in /tmp, the home directory and the checkout."""
    state = {str(p): _digest(p) for p in _watched_files()}
    for folder in ("/tmp", os.path.expanduser("~"), str(REPO), str(REPO / "grader")):
        try:
            names = [n for n in os.listdir(folder) if token in n]
        except OSError:
            names = []
        for name in names:
            state[os.path.join(folder, name)] = "created"
    return state


def changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


class Backup:
    """Copies of the watched files, to put back whatever a program managed to change."""

    def __init__(self):
        self.saved = {}
        for p in _watched_files():
            try:
                self.saved[p] = (p.read_bytes(), p.stat())
            except OSError:
                self.saved[p] = None

    def restore(self, paths: list[str], token: str) -> None:
        """Put back what the program changed: the watched files that now carry its token (every
        hostile write does; a change without it is someone else's edit, reported, left alone)."""
        for path in paths:
            p = Path(path)
            if p in self.saved:
                try:
                    now = p.read_bytes()
                except OSError:
                    continue
                kept = self.saved[p]
                if kept is not None and token.encode() in now and token.encode() not in kept[0]:
                    p.write_bytes(kept[0])
                    os.utime(p, ns=(kept[1].st_atime_ns, kept[1].st_mtime_ns))
            elif token in p.name:  # a marker the program created
                if p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    p.unlink(missing_ok=True)


class OtherStudent:
    """Another student's submission where a class would be (beside this one, and in the grading
    user's home), and a grader process whose command line names it (as a concurrent ``grade`` of
    that student would): find_submissions must find none of it."""

    def __init__(self, work: Path, token: str):
        self.secret = f"OTHER-STUDENT-SECRET-{token}"
        text = f"# {self.secret}\nprint('集計結果：', {{}})\n"
        # Not named with the token: the fingerprint would see the test's own folder come and go.
        self.dirs = [work / "others", Path(os.path.expanduser("~")) / f".grader-hostile-other-{uuid.uuid4().hex}"]
        self.files = []
        for folder in self.dirs:
            path = folder / OTHER_STUDENT / "counter_lck.py"
            path.parent.mkdir(parents=True)
            path.write_text(text, encoding="utf-8")
            self.files.append(path)
        self.decoy = subprocess.Popen([sys.executable, "-S", "-c", "import time; time.sleep(60)",
                                       str(self.files[0])])

    def close(self) -> None:
        self.decoy.kill()
        self.decoy.wait()
        for folder in self.dirs:
            shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Outcome:
    case: Case
    status: int
    seconds: float
    stdout: str
    stderr: str
    junit: str
    results: dict
    layers: set[str]
    survivors: list[str]
    scratch_left: list[str]
    cgroups_left: list[str]
    token: str
    extra: dict = field(default_factory=dict)
    changed: list[str] = field(default_factory=list)
    """What changed outside the scratch directory (restored since)."""

    def test(self, check: str) -> dict:
        for t in self.results.get("tests", []):
            if t["name"].split(":", 1)[0] == check:
                return t
        return {}

    def junit_case(self, check: str):
        try:
            root = ET.fromstring(self.junit)
        except ET.ParseError:
            return None
        return next((tc for tc in root.iter("testcase") if tc.get("name") == check), None)

    def message(self, check: str) -> str:
        return self.test(check).get("output", "")

    @property
    def everything(self) -> str:
        """All the grader wrote (terminal report, JUnit, results JSON)."""
        return "\n".join((self.stdout, self.junit, json.dumps(self.results, ensure_ascii=False)))

    @property
    def attempts(self) -> dict[str, str]:
        """What the program printed of each attempt (``HOSTILE <what> <result>``): "done" or the
        errno name that refused it (the first run's, from the program output in the JUnit report)."""
        found: dict[str, str] = {}
        for m in re.finditer(r"HOSTILE (\S+) (?:(/\S*) )?(\S+)", self.junit):
            what = m.group(1) + (f" {m.group(2)}" if m.group(2) else "")
            found.setdefault(what, m.group(3))
        return found


def run_case(case: Case, work: Path) -> Outcome:
    """Grade one hostile program in ``work``; measures what it left behind and what it changed."""
    token = uuid.uuid4().hex
    tmpdir = work / "tmp"
    tmpdir.mkdir(parents=True)
    env = grade_env(tmpdir)
    env["GRADER_HOSTILE_TOKEN"] = token  # marks this test's grade for kill_grader (and nothing else)
    _, layers = doctor(env)
    junit, results = work / "junit.xml", work / "results.json"
    listener = Listener() if case.name == "tcp_connect" else None
    sink = UdpSink(token) if case.name == "udp_packet" else None
    unix = UnixListener(work, token) if case.name == "unix_connect" else None
    other = OtherStudent(work, token) if case.name == "find_submissions" else None
    home = os.path.expanduser("~")
    text = (HERE / f"{case.name}__counter_lck.py").read_text(encoding="utf-8")
    port = listener.port if listener else sink.port if sink else 0
    for key, value in {"TOKEN": token, "REPO": str(REPO), "HOME": home, "PORT": str(port),
                       "SOCKET": unix.path if unix else "",
                       "REPORTS": os.pathsep.join((str(junit), str(results)))}.items():
        text = text.replace(f"@@{key}@@", value)
    sub = work / "submission"
    sub.mkdir()
    path = sub / f"{case.name}__counter_lck.py"
    path.write_text(text, encoding="utf-8")

    markers = [token, str(tmpdir)]
    backup = Backup()
    before_state = fingerprint(token)
    before = processes()
    watch = CgroupWatch(markers)
    t0 = time.monotonic()
    try:
        proc = subprocess.run(grade_command() + [str(path), "--exercise", "counter_lck", "--junit", str(junit),
                                                 "--json", str(results), "--lang", "en"],
                              capture_output=True, text=True, errors="replace", env=env, cwd=work,
                              timeout=GRADE_TIMEOUT)
        status, out, err = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:
        status, out, err = -1, str(exc.stdout or ""), f"grade did not end within {GRADE_TIMEOUT} s"
    seconds = time.monotonic() - t0
    time.sleep(1.0)
    watch.stop()
    extra: dict = {}
    if listener is not None:
        listener.close()
        extra["connections"] = listener.accepted
    if sink is not None:
        extra["datagrams"] = sink.close()
    if unix is not None:
        unix.close()
        extra["unix_connections"] = unix.accepted
        extra["unix_path"] = unix.path
    if other is not None:
        other.close()
        extra["other_student"] = [other.secret, OTHER_STUDENT]
    alive = survivors(before, markers)
    left = watch.left()
    if left:  # a grader still tearing down: look again
        time.sleep(2)
        left = watch.left()
    # Clean up after a grader that did not: kill the survivors (descendants of this test), remove
    # the cgroups they were in.
    for line in alive:
        try:
            os.kill(int(line.split(":", 1)[0]), signal.SIGKILL)
        except OSError:
            pass
    if alive:
        time.sleep(0.2)
    watch.remove_left()
    scratch = sorted(str(p) for p in tmpdir.iterdir())
    for leftover in tmpdir.iterdir():
        shutil.rmtree(leftover, ignore_errors=True)
    diff = changed(before_state, fingerprint(token))
    extra["setsid_pids"] = _setsid_pids(token)
    backup.restore(diff, token)
    extra["outside"] = [d for d in diff if token in d]
    try:
        results_data = json.loads(results.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        results_data = {}
    junit_text = junit.read_text(encoding="utf-8", errors="replace") if junit.exists() else ""
    return Outcome(case, status, seconds, out, err, junit_text, results_data, layers, alive, scratch, left,
                   token, extra, diff)


def _setsid_pids(token: str) -> list[int]:
    """Pids the setsid child noted in /tmp (visible only without a private /tmp); the note is removed."""
    note = Path(f"/tmp/grader_hostile_setsid_{token}")
    if not note.exists():
        return []
    pids = [int(x) for x in note.read_text().split() if x.isdigit()]
    note.unlink()
    return pids


# -- which protection caught it (for the table) ---------------------------------------------------

def protection(o: Outcome) -> str:
    msg = o.message(o.case.check).lower()
    name, layers = o.case.name, o.layers
    ns = "bwrap" if "bwrap" in layers else "unshare" if "unshare" in layers else None
    if name == "kill_parent":
        if "fault of the grader" in msg:
            verdict = "grader error, blamed on the grader (bug)"
        elif "time limit" in msg:
            by = " or ".join(n for n, on in (("Landlock signal scope", "landlock scope" in layers),
                                              ("its parent is PID 1 of a namespace", ns is not None)) if on)
            verdict = f"kill refused ({by or '?'}), then the per-run wall limit"
        else:
            verdict = (msg.splitlines() or ["?"])[0]
        kept = [p for p, on in ((f"{ns} PID namespace", ns is not None),
                                ("pids cgroup kill", "pids cgroup" in layers)) if on]
        return f"{verdict}; no survivor: {' + '.join(kept) or 'nothing'}"
    if name in ATTEMPTED:
        then = "; then the per-run wall limit (it lingers)" if "time limit" in msg else ""
        if name == "kill_grader" and not any(k.startswith("kill") for k in o.attempts):
            then = ("; nothing left to signal: the grader is outside its PID namespace and its parent is that "
                    "namespace's PID 1, which it leaves alone" + then)
        return stopped_by(o) + then
    if name == "fork_bomb":
        if "blockingioerror" in msg:
            return ("pids cgroup (pids.max)" if "pids cgroup" in layers else
                    "RLIMIT_NPROC" if os.geteuid() != 0 else "a PID namespace") + ": fork refused → exception"
        return "per-run wall limit (the process cap did not stop it)"
    if "memoryerror" in msg:
        return "RLIMIT_DATA → MemoryError"
    if "file too large" in msg or "sigxfsz" in msg:
        return "RLIMIT_FSIZE on the run's output file → OSError (EFBIG)"
    if "output" in msg and o.case.check == "runs":
        return "output cap (recorder) → limit event"
    if "time limit" in msg:
        return "per-run wall limit (SIGKILL to the run's process group)"
    if "never ends" in msg:
        return "virtual-time limit (sleep on the virtual clock)"
    if "abrupt" in msg:
        return "verdict from observations (no exit event)"
    if name == "setsid_child":
        parts = [p for p, on in (("PID namespace (" + (ns or "") + ")", ns is not None),
                                 ("pids cgroup kill", "pids cgroup" in layers),
                                 ("subreaper", "subreaper" in layers)) if on]
        return " + ".join(parts) or "nothing"
    if name == "fake_results":
        return "verdict from observations (hidden data; reports written by the grader)"
    return "?"


# The cases whose programs print "HOSTILE <what> <result>" per attempt.
ATTEMPTED = ("write_outside", "tcp_connect", "read_grader_files", "write_home_tmp", "overwrite_package",
             "find_submissions", "kill_grader", "udp_packet", "symlink_passwd", "unix_connect")
_NOT_ATTACKS = ("own-read", "own-write", "symlink", "found", "proc-count")


def layer_of(what: str, result: str, layers: set[str]) -> str:
    """The layer that refused an attempt with errno ``result`` (the first to refuse: several may)."""
    bwrap, landlock = "bwrap" in layers, "landlock fs" in layers
    if what == "proc" and result.isdigit() and ("bwrap" in layers or "unshare" in layers):
        return "PID namespace (its /proc shows the sandbox's processes only)"
    if result == "done" or not result.startswith("E"):  # "done", or a count of what it got
        return "not refused"
    if what.startswith("kill"):
        return {"EPERM": "Landlock signal scope" if "landlock scope" in layers else "kill permission",
                "ESRCH": "PID namespace"}.get(result, result)
    if what == "unix":
        return {"ENOENT": "not mounted (bwrap)" if bwrap else "hidden (mounts: an empty /run)"
                if "mounts" in layers else "absent", "EACCES": "Landlock" if landlock else "file permissions",
                "ECONNREFUSED": "refused"}.get(result, result)
    if what in ("tcp", "tcp-listen", "udp"):
        if result in ("EACCES", "EPERM"):
            if what != "udp" and "landlock tcp" in layers:
                return "Landlock TCP"
            return "seccomp (no such socket)" if "seccomp" in layers else "?"
        return "network namespace" if result in ("ENETUNREACH", "ECONNREFUSED", "EADDRNOTAVAIL") else result
    return {"EACCES": "Landlock" if landlock else "file permissions",
            "EROFS": "read-only mount (" + ("bwrap" if bwrap else "mounts") + ")",
            "ENOENT": "not mounted (bwrap)" if bwrap else "hidden (mounts)" if "mounts" in layers else "absent",
            "EXDEV": "Landlock (a link may not gain rights)" if landlock else "mount boundary",
            "EPERM": "protected_hardlinks" if what == "hardlink" else "EPERM"}.get(result, result)


def stopped_by(o: Outcome) -> str:
    """Each layer that refused something, with the attempts it refused (errno in brackets)."""
    groups: dict[str, list[str]] = {}
    home = os.path.expanduser("~")
    for what, result in o.attempts.items():
        if what.split()[0] in _NOT_ATTACKS or (what.startswith("walk") and result == "done"):
            continue
        target = what.split(" ", 1)[1] if " " in what else ""
        if result == "ENOENT" and target.startswith("/") and not os.path.exists(target):
            shown = target.replace(o.token, "<token>").replace(str(REPO), "<checkout>")
            groups.setdefault("absent on this machine", []).append(f"{what.split()[0]} {shown}")
            continue
        if what.startswith("walk "):  # the folders it tried to list, by kind
            where = what[5:]
            what = "walk " + ("$HOME" if where == home else "/" if where == "/" else "a folder above its own")
        what = what.replace(o.token, "<token>").replace(str(REPO), "<checkout>").replace(home, "$HOME")
        short = what if len(what) <= 48 else "…" + what[-47:]
        item = f"{short} ({result})"
        items = groups.setdefault(layer_of(what.split()[0], result, o.layers), [])
        if item not in items:
            items.append(item)
    parts = [f"{layer}: {', '.join(items)}" for layer, items in groups.items()]
    if o.extra.get("connections"):
        parts.append(f"{o.extra['connections']} TCP connections accepted")
    if o.extra.get("datagrams"):
        parts.append(f"{o.extra['datagrams']} UDP datagrams received")
    if o.extra.get("unix_connections"):
        parts.append(f"{o.extra['unix_connections']} UNIX socket connections accepted")
    if o.changed:
        parts.append(f"CHANGED outside: {', '.join(o.changed)}")
    return "; ".join(parts) or "nothing attempted"


# -- the tests ------------------------------------------------------------------------------------

def check_outcome(o: Outcome) -> str | None:
    """Assert what must hold on every machine; returns why the layer-dependent rest was skipped."""
    case = o.case
    assert o.status != -1, o.stderr
    assert "Traceback" not in o.stderr, o.stderr
    assert o.status == 1, f"exit status {o.status}, expected 1\n{o.stderr}\n{o.stdout[-3000:]}"
    failed = o.test(case.check)
    assert failed, f"no {case.check} in results.json: {o.results}"
    assert failed["status"] == "failed" and failed["score"] == 0, failed
    tc = o.junit_case(case.check)
    assert tc is not None and tc.find("failure") is not None and tc.find("error") is None, (
        f"{case.check} must be a <failure> (the student's), not a grader <error>:\n{o.junit[:3000]}")
    msg = failed["output"].lower()
    assert any(c in msg for c in case.causes), f"the message names none of {case.causes}:\n{failed['output']}"
    for check in case.also_passes:
        assert o.test(check).get("status") == "passed", f"{check} should pass:\n{o.message(check)}"
    assert not o.survivors, f"processes of the submission survived:\n" + "\n".join(o.survivors)
    assert not o.scratch_left, f"scratch directories left behind: {o.scratch_left}"
    assert not o.cgroups_left, f"cgroups left behind: {o.cgroups_left}"
    return _layer_checks(o)


def _layer_checks(o: Outcome) -> str | None:
    name, layers = o.case.name, o.layers
    bwrap = "bwrap" in layers
    netns = bwrap or "unshare" in layers
    files = [n for n in ("bwrap", "landlock fs", "mounts") if n in layers]  # writes outside refused
    reads = [n for n in ("bwrap", "landlock fs") if n in layers]  # the grader's, other students' files hidden
    tcp = [n for n in ("bwrap", "unshare", "landlock tcp", "seccomp") if n in layers]
    udp = [n for n in ("bwrap", "unshare", "seccomp") if n in layers]
    signals = [n for n in ("landlock scope", "bwrap", "unshare") if n in layers]
    attempts = o.attempts
    if name == "setsid_child" and not netns:  # in a PID namespace the noted pids are not ours
        still = [p for p in o.extra["setsid_pids"] if p in processes()]
        assert not still, f"the setsid child noted pids {still}: still alive"
    if name == "write_home_tmp":  # its own files stay usable: a refusal is the sandbox's, not breakage
        assert attempts.get("own-read") == "done" and attempts.get("own-write") == "done", attempts
    if o.changed:
        if files:
            raise AssertionError(f"changed outside the scratch directory (restored): {o.changed}; "
                                 f"active: {files}")
        return (f"no layer against writes is active (bwrap, Landlock, mounts: grade --doctor): the "
                f"submission changed {o.changed} (restored)")
    if name == "symlink_passwd" and files:
        opened = [k for k in ("symlink-append", "symlink-rw", "hardlink-append") if attempts.get(k) == "done"]
        assert not opened, f"/etc/passwd opened for writing through {opened} ({files} active)"
    if name == "tcp_connect":
        if tcp:
            assert o.extra["connections"] == 0, f"{o.extra['connections']} connections reached the test's server"
        elif o.extra["connections"]:
            return ("no layer against TCP is active (bwrap, unshare, Landlock ABI 4, seccomp: grade --doctor): the "
                    f"submission connected {o.extra['connections']} times to 127.0.0.1")
    if name == "udp_packet":
        if "landlock tcp" in layers:
            assert attempts.get("tcp-listen") != "done", "listened on a TCP port under Landlock"
        if udp:
            assert o.extra["datagrams"] == 0, f"{o.extra['datagrams']} datagrams reached the test's socket"
        elif o.extra["datagrams"]:
            return ("neither a network namespace (bwrap, unshare) nor seccomp (grade --doctor): Landlock does "
                    f"not cover UDP; {o.extra['datagrams']} datagrams reached 127.0.0.1")
    if name == "unix_connect":
        hidden = [n for n in ("bwrap", "mounts") if n in layers]
        if hidden:
            assert o.extra["unix_connections"] == 0, (
                f"{o.extra['unix_connections']} connections reached {o.extra['unix_path']} ({hidden} active)")
        elif o.extra["unix_connections"]:
            return ("neither bwrap nor a mount namespace hides the host's sockets (grade --doctor): the "
                    f"submission connected to {o.extra['unix_path']}")
    if name == "read_grader_files":
        secret = REFERENCE.read_text(encoding="utf-8").splitlines()[0]
        leaked = [what for what, text in (("the model answer", secret), ("/etc/shadow", "READ /etc/shadow"),
                                          ("the checks", "READ " + str(REPO / "assignments")))
                  if text in o.everything]
        if reads:
            assert not leaked, f"the grader's output shows what the submission read: {leaked}"
        elif leaked:
            return f"neither bwrap nor Landlock is active (grade --doctor): the submission read {', '.join(leaked)}"
    if name == "find_submissions":
        leaked = [text for text in o.extra["other_student"] if text in o.everything]
        if reads:
            assert not leaked, f"another student's submission shows in the report: {leaked}"
        elif leaked:
            return f"neither bwrap nor Landlock is active (grade --doctor): the report shows {leaked}"
    if name == "kill_grader":
        assert "fault of the grader" not in o.message("runs"), "the submission's kill is blamed on the grader"
        assert attempts.get("kill-grade") != "done", "the grade process was killed"
        if "landlock scope" in layers:
            done = [k for k, v in attempts.items() if k.startswith("kill") and v == "done"]
            assert not done, f"signalled out of the sandbox under Landlock's scope: {done}"
        elif not signals and any(k.startswith("kill") and v == "done" for k, v in attempts.items()):
            return "no layer against signals is active (Landlock ABI 6, a PID namespace): it killed " + ", ".join(
                k for k, v in attempts.items() if k.startswith("kill") and v == "done")
    if name == "fake_results":
        assert "FAKE-JUNIT" not in o.junit and "FAKE-RESULTS" not in json.dumps(o.results), "fake report used"
        assert o.results.get("score", 8) < 8
        root = ET.fromstring(o.junit)
        assert root.get("name") == "concurrency-grader"
    if name == "kill_parent":
        assert "fault of the grader" not in o.message("runs"), "the submission's kill is blamed on the grader"
    return None


if pytest is not None:
    @pytest.mark.parametrize("name", list(CASES))
    def test_hostile(name, tmp_path):
        o = run_case(CASES[name], tmp_path)
        print(f"{name}: exit {o.status} in {o.seconds:.1f} s; layers {sorted(o.layers)}; "
              f"caught by: {protection(o)}")
        skipped = check_outcome(o)
        if skipped:
            pytest.skip(skipped)


# -- the table ------------------------------------------------------------------------------------

MODES = (("as the machine is", ""), ("without bubblewrap", "bwrap"))


def _rows() -> tuple[str, list[str]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="hostile-") as tmp:
        doc, _ = doctor(grade_env(Path(tmp)))
        for name, case in CASES.items():
            work = Path(tmp) / name
            o = run_case(case, work)
            try:
                skipped = check_outcome(o)
                result = "pass" if skipped is None else f"skip: {skipped}"
            except AssertionError as exc:
                result = "FAIL: " + str(exc).splitlines()[0]
            first = (o.message(case.check).splitlines() or ["?"])[0]
            first = first if len(first) <= 90 else first[:89] + "…"
            outside = "unchanged" if not o.changed else "CHANGED: " + ", ".join(o.changed)
            rows.append(f"| {name} | {case.about} | {case.check}: {first} | {protection(o)} | "
                        f"{o.seconds:.1f} s | {o.status} | {outside} | {result} |")
    return doc, rows


def table() -> str:
    """RESULTS.md: every case graded once in each mode of ``MODES``."""
    head = ("# Hostile submissions: what caught them\n\n"
            "Regenerated by `python tests/hostile/test_hostile.py --table`: each case graded once with "
            "`grade FILE --exercise counter_lck`, as the machine is and again with bubblewrap hidden from the "
            "grader (`GRADER_HOSTILE_HIDE=bwrap`). \"Protection\" names, for each attempt the program made, the "
            "first layer that refused it and the errno the program saw (several layers may stand behind it: "
            "`grade --doctor` lists them); \"outside\" compares, before and after, the grader's checkout, "
            "~/.bashrc, /etc/passwd and every name carrying the case's token in /tmp, $HOME and the checkout.\n\n"
            f"Machine: {os.uname().sysname} {os.uname().release}, {os.cpu_count()} CPUs, uid {os.geteuid()}, "
            f"Python {sys.version.split()[0]}\n")
    kept = os.environ.get("GRADER_HOSTILE_HIDE")
    parts = [head]
    try:
        for title, hide in MODES:
            os.environ["GRADER_HOSTILE_HIDE"] = hide
            doc, rows = _rows()
            parts.append(f"\n## {title} (GRADER_HOSTILE_HIDE={hide or '(none)'})\n\n"
                         "```\n$ grade --doctor --lang en\n" + doc + "```\n\n"
                         "| case | what it does | failed check: message | protection that caught it | time to verdict "
                         "| exit | outside | test |\n|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n")
    finally:
        if kept is None:
            os.environ.pop("GRADER_HOSTILE_HIDE", None)
        else:
            os.environ["GRADER_HOSTILE_HIDE"] = kept
    return "".join(parts)


if __name__ == "__main__":
    if sys.argv[1:] != ["--table"]:
        sys.exit("usage: python tests/hostile/test_hostile.py --table")
    text = table()
    (HERE / "RESULTS.md").write_text(text, encoding="utf-8")
    print(text)

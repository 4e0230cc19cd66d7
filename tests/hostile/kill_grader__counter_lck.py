# HOSTILE: kills the grader: looks through /proc for the grader's processes (the `grade` command,
# and the engine process that runs this program), then also tries os.getppid(); SIGKILL to each.
# Then lingers for real (select, not time.sleep) so that a run whose runner died is seen surviving.
# Safety bound: this is a test on a shared machine, so only processes of this test are ever
# signalled: those whose environment carries the TOKEN a test gives its `grade`, and those whose
# working directory is this run's own scratch tree; never pid 1 or -1, nor itself; at most 8.
# Prints "HOSTILE <what> <result>". Lingers 20 s; SIGALRM after 60 s.
import errno
import os
import select
import signal
import sys

signal.alarm(60)
TOKEN = "@@TOKEN@@"
me = os.getpid()
scratch = os.path.dirname(os.path.dirname(os.path.realpath(os.getcwd())))  # ROOT of work/<variant>


def why(exc):
    return errno.errorcode.get(exc.errno, type(exc).__name__)


def ours(pid):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            if TOKEN.encode() in f.read():
                return "grade"
    except OSError:
        pass
    try:
        if os.path.realpath(os.readlink(f"/proc/{pid}/cwd")) == scratch:
            return "runner"
    except OSError:
        pass
    return None


targets = []
try:
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) > 1 and int(entry) != me:
            kind = ours(int(entry))
            if kind:
                targets.append((int(entry), kind))
    print("HOSTILE", "proc", f"{len(targets)} found")
except OSError as exc:
    print("HOSTILE", "proc", why(exc))
parent = os.getppid()
if parent > 1 and parent not in [p for p, _ in targets]:
    targets.append((parent, "ppid"))
for pid, kind in targets[:8]:
    try:
        os.kill(pid, signal.SIGKILL)
        print("HOSTILE", f"kill-{kind}", "done", pid)
    except OSError as exc:
        print("HOSTILE", f"kill-{kind}", why(exc), pid)
sys.stdout.flush()  # what it printed must reach the report: the wall limit ends it with SIGKILL
select.select([], [], [], 20)

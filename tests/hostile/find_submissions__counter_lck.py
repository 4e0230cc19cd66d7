# HOSTILE: looks for other students' submissions (counter_lck.py files outside its own directory)
# and prints what it finds: first where a class would be (the grading user's home, which a test
# substitutes for HOME, and the folders above its own working directory), then os.walk('/').
# Also lists /proc for other processes' command lines. Prints "FOUND <path>" and the file's first
# line, "HOSTILE <what> <result>" per attempt. Safety bound: reads at most 200 bytes per file; visits
# 1500 folders at most (it must end before the run's wall limit: what it prints is the evidence; a
# count, not a clock: the run's clocks are virtual); SIGALRM after 60 s.
import errno
import os
import signal

signal.alarm(60)
HOME = "@@HOME@@"
budget = [1500]
own = os.path.realpath(os.getcwd())
seen = set()
found = 0


def why(exc):
    return errno.errorcode.get(getattr(exc, "errno", None) or 0, type(exc).__name__)


def look(top, depth):
    global found
    refusal = []
    for folder, dirs, files in os.walk(top, onerror=refusal.append):
        budget[0] -= 1
        if budget[0] <= 0 or folder.count(os.sep) - top.count(os.sep) >= depth:
            dirs[:] = []
        dirs[:] = [d for d in dirs if os.path.join(folder, d) not in ("/proc", "/sys", "/dev")]
        for name in files:
            if not name.endswith("counter_lck.py"):
                continue
            path = os.path.realpath(os.path.join(folder, name))
            if not path.startswith(own + os.sep) and path not in seen:
                seen.add(path)
                found += 1
                try:
                    with open(path, encoding="utf-8", errors="replace") as f:
                        first = f.read(200).splitlines()[:1]
                except OSError as exc:
                    first = [f"(unreadable: {why(exc)})"]
                print("FOUND", path, first)
    print("HOSTILE", "walk", top, why(refusal[0]) if refusal else "done")


look(HOME, 4)
parent = os.path.dirname(own)
while parent != "/":
    look(parent, 3)
    parent = os.path.dirname(parent)
look("/", 50)
try:
    names = [n for n in os.listdir("/proc") if n.isdigit()]
    lines = []
    for n in names:
        try:
            with open(f"/proc/{n}/cmdline", "rb") as f:
                lines.append(f.read(300).replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            pass
    print("HOSTILE", "proc", f"{len(lines)} command lines")
    for line in lines:
        print("CMDLINE", line)
except OSError as exc:
    print("HOSTILE", "proc", why(exc))
print("HOSTILE", "found", found)

# HOSTILE: reads the grader's files (the model answer, the checks, /etc/shadow) and prints them.
# A test substitutes REPO (the grader's checkout). Safety bound: reads at most 4 KiB per file;
# SIGALRM after 60 s.
import errno
import os
import signal

signal.alarm(60)
REPO = "@@REPO@@"
roots = [REPO]
try:
    import grader  # the engine's own package: it is importable in the run
    roots.append(os.path.dirname(os.path.dirname(os.path.abspath(grader.__file__))))
except Exception as exc:
    print("no grader package:", type(exc).__name__)
targets = ["/etc/shadow"]
for root in dict.fromkeys(roots):
    targets += [os.path.join(root, "reference", "counter_lck.py"),
                os.path.join(root, "assignments", "counter_lck", "checks.py"),
                os.path.join(root, "grader", "_course", "reference", "counter_lck.py")]
for target in targets:
    try:
        with open(target, encoding="utf-8", errors="replace") as f:
            text = f.read(4096)
        print("READ", target)
        print(text)
        print("HOSTILE", "read", target, "done")
    except OSError as exc:
        print("HOSTILE", "read", target, errno.errorcode.get(exc.errno, type(exc).__name__))

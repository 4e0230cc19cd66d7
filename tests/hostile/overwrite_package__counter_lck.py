# HOSTILE: tampers with the grader: appends a line to files of the grader's own package (its
# __init__.py, an engine module and the module that judges), as found from the imported package
# and from the checkout a test substitutes for REPO. A grader whose files can be changed could be
# made to pass the next submissions. Prints "HOSTILE <what> <result>" ("done" or the errno name).
# Safety bound: appends one comment line per file (the test restores them); SIGALRM after 60 s.
import errno
import os
import signal

signal.alarm(60)
TOKEN = "@@TOKEN@@"
REPO = "@@REPO@@"
roots = [REPO]
try:
    import grader  # the engine's own package is importable in the run
    roots.append(os.path.dirname(os.path.dirname(os.path.abspath(grader.__file__))))
except Exception as exc:
    print("no grader package:", type(exc).__name__)
for root in dict.fromkeys(roots):
    for rel in ("grader/__init__.py", "grader/engine/bootstrap.py", "grader/verdicts/judge.py"):
        target = os.path.join(root, rel)
        try:
            with open(target, "a", encoding="utf-8") as f:
                f.write(f"\n# hostile {TOKEN}\n")
            print("HOSTILE", "package", "done", target)
        except OSError as exc:
            print("HOSTILE", "package", errno.errorcode.get(exc.errno, type(exc).__name__), target)

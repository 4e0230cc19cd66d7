# HOSTILE: tries to create files outside its scratch directory: /tmp, the grader's checkout, the
# grader's package, and the grading user's home. A test substitutes TOKEN, REPO, HOME.
# Safety bound: writes a few bytes only; SIGALRM after 60 s.
import os
import signal

signal.alarm(60)
TOKEN = "@@TOKEN@@"
REPO = "@@REPO@@"
HOME = "@@HOME@@"
name = f"grader_hostile_marker_{TOKEN}"
for folder in ("/tmp", REPO, os.path.join(REPO, "grader"), HOME):
    target = os.path.join(folder, name)
    try:
        with open(target, "w") as f:
            f.write("written by a hostile submission\n")
        print("WROTE", target)
    except OSError as exc:
        print("refused", target, type(exc).__name__)

# HOSTILE: tries to create files outside its scratch directory: /tmp, the grader's checkout, the
# grader's package, and the grading user's home. A test substitutes TOKEN, REPO, HOME.
# Prints "HOSTILE write <target> <result>": "done", or the errno name that refused it.
# Safety bound: writes a few bytes only; SIGALRM after 60 s.
import errno
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
        print("HOSTILE", "write", target, "done")
    except OSError as exc:
        print("HOSTILE", "write", target, errno.errorcode.get(exc.errno, type(exc).__name__))

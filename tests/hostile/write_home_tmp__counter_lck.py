# HOSTILE: what a submission did on a TA's server (issue 11): creates a marker in /tmp outside its
# scratch directory and in the grading user's home, and appends a line to that user's ~/.bashrc.
# It looks for the home as an attacker would (the test substitutes HOME: the run's own HOME is its
# scratch tree), and first reads its own data and writes in its own directory (these must work).
# Each attempt prints "HOSTILE <what> <result>": "done", or the errno name that refused it.
# Safety bound: writes one comment line at most (the test restores ~/.bashrc); SIGALRM after 60 s.
import errno
import os
import signal

signal.alarm(60)
TOKEN = "@@TOKEN@@"
HOME = "@@HOME@@"


def attempt(what, action):
    try:
        action()
        print("HOSTILE", what, "done")
    except OSError as exc:
        print("HOSTILE", what, errno.errorcode.get(exc.errno, type(exc).__name__))


def write(path, mode="w"):
    with open(path, mode) as f:
        f.write(f"# written by a hostile submission {TOKEN}\n")


def read_own():
    with open("lec11/data/poke_names.txt", encoding="utf-8") as f:
        types = [row.rstrip().split("\t")[2].split() for row in f]
    if not types or not all(types):  # hidden data varies the rows, never the format
        raise OSError(0, "unexpected data")


attempt("own-read", read_own)
attempt("own-write", lambda: write("own_file.txt"))
attempt("tmp", lambda: write(f"/tmp/corpus_pwned_marker_{TOKEN}"))
attempt("home", lambda: write(os.path.join(HOME, f"grader_hostile_marker_{TOKEN}")))
attempt("bashrc", lambda: write(os.path.join(HOME, ".bashrc"), "a"))

# HOSTILE: escapes its scratch directory through links: a symbolic link to /etc/passwd made in its
# own directory, then opened for writing (append, then read-write); and a hard link to it, which
# would carry the file into the directory it may write. Prints "HOSTILE <what> <result>".
# Safety bound: never writes a byte to what it opens (an open for writing is the proof);
# SIGALRM after 60 s.
import errno
import os
import signal

signal.alarm(60)


def why(exc):
    return errno.errorcode.get(exc.errno, type(exc).__name__)


def attempt(what, action):
    try:
        action()
        print("HOSTILE", what, "done")
    except OSError as exc:
        print("HOSTILE", what, why(exc))


def open_for_writing(path, mode):
    with open(path, mode):
        pass  # nothing written


attempt("symlink", lambda: os.symlink("/etc/passwd", "passwd_link"))
attempt("symlink-append", lambda: open_for_writing("passwd_link", "a"))
attempt("symlink-rw", lambda: open_for_writing("passwd_link", "r+"))
attempt("hardlink", lambda: os.link("/etc/passwd", "passwd_hard"))
if os.path.exists("passwd_hard"):
    attempt("hardlink-append", lambda: open_for_writing("passwd_hard", "a"))

# HOSTILE: writes 500 MB straight to file descriptor 1 (os.write: past sys.stdout).
# Safety bound: stops after 500 MB; SIGALRM after 60 s.
import os
import signal

signal.alarm(60)
block = ("集計中… " + "x" * 1000 + "\n").encode() * 64
written = 0
while written < 500 * 1000 * 1000:
    written += os.write(1, block)

# HOSTILE: kills its parent process (whatever started it) with SIGKILL, then carries on.
# Safety bound: SIGALRM after 60 s.
import os
import signal

signal.alarm(60)
parent = os.getppid()
print("killing my parent", parent)
try:
    os.kill(parent, signal.SIGKILL)
except OSError as exc:
    print("could not:", exc)
print("集計結果： defaultdict(<class 'int'>, {})")

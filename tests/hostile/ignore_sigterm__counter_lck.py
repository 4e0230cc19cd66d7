# HOSTILE: ignores SIGTERM (and SIGINT, SIGHUP), then spins the CPU.
# Safety bound: SIGALRM after 60 s (not ignored).
import signal

signal.alarm(60)
for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(sig, signal.SIG_IGN)
n = 0
while True:
    n += 1

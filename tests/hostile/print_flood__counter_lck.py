# HOSTILE: prints 500 MB.
# Safety bound: stops after 500 MB; SIGALRM after 60 s.
import signal

signal.alarm(60)
line = "集計中… " + "x" * 1000
written = 0
while written < 500 * 1000 * 1000:
    print(line)
    written += len(line.encode()) + 1

# HOSTILE: spins the CPU in the main thread forever (no sleep, no lock, no output).
# Safety bound (if nothing contained it): SIGALRM after 60 s of real time.
import signal

signal.alarm(60)
n = 0
while True:
    n += 1

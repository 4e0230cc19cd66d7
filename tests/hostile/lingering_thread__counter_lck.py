# HOSTILE: starts a non-daemon thread that never ends (a sleep loop), and the main thread returns.
# Safety bound: the thread gives up after 100000 sleeps; SIGALRM after 60 s.
import signal
import threading
import time

signal.alarm(60)


def forever():
    for _ in range(100000):
        time.sleep(1)


threading.Thread(target=forever).start()
print("main thread done")

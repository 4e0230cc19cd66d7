# HOSTILE: a (bounded) fork bomb: forks until refused, each child blocks in a real (not virtual)
# wait; the parent then waits for every child.
# Safety bound: at most 2000 forks; each child exits after 30 s; SIGALRM after 60 s.
import os
import select
import signal

signal.alarm(60)
children = []
for _ in range(2000):
    pid = os.fork()  # raises BlockingIOError once the process cap is reached
    if pid == 0:
        signal.alarm(40)
        select.select([], [], [], 30)
        os._exit(0)
    children.append(pid)
for pid in children:
    os.waitpid(pid, 0)
print("forked", len(children), "children")

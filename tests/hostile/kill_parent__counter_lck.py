# HOSTILE: kills its parent process with SIGKILL, and then its new parent (the process it was
# reparented to), up to 3 times; then lingers for real (select, not time.sleep: no virtual clock) so
# that an orphaned run would be seen surviving.
# Safety bound: 3 kills at most, never pid 1; lingers 20 s; SIGALRM after 60 s.
import os
import select
import signal

signal.alarm(60)
for _ in range(3):
    parent = os.getppid()
    if parent <= 1:
        break
    print("killing my parent", parent)
    try:
        os.kill(parent, signal.SIGKILL)
    except OSError as exc:
        print("could not:", exc)
        break
    for _ in range(100):  # until the kernel has reparented this process
        if os.getppid() != parent:
            break
        select.select([], [], [], 0.01)
select.select([], [], [], 20)
print("集計結果： defaultdict(<class 'int'>, {})")

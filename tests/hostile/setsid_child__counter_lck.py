# HOSTILE: leaves a daemon behind: a child that calls setsid() (escaping the run's process group),
# notes its pid in /tmp, then sleeps for real (execs a sleeper whose argv carries TOKEN, so a test
# can find it in /proc). The main program returns at once without waiting for it.
# Safety bound: the sleeper exits after 60 s (and SIGALRM at 70 s); the main program's SIGALRM at 60 s.
import os
import signal
import sys

TOKEN = "@@TOKEN@@"  # a test substitutes a unique token
signal.alarm(60)
pid = os.fork()
if pid == 0:
    os.setsid()
    try:
        with open(f"/tmp/grader_hostile_setsid_{TOKEN}", "a") as f:
            f.write(f"{os.getpid()}\n")
    except OSError:
        pass
    try:
        os.execv(sys.executable, [sys.executable, "-S", "-c",
                                  "import select, signal; signal.alarm(70); select.select([], [], [], 60)",
                                  f"grader-hostile-{TOKEN}"])
    finally:
        os._exit(0)
print("left a daemon behind:", pid)

"""The real primitives, saved before anything is patched. A leaf: imports nothing of ours."""
import _thread
import os
import time

allocate_lock = _thread.allocate_lock
start_new_thread = _thread.start_new_thread
get_ident = _thread.get_ident
sleep = time.sleep
monotonic = time.monotonic
clock_gettime = getattr(time, "clock_gettime", None)
wall_time = time.time
getpid = os.getpid
write = os.write

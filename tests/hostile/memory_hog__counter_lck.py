# HOSTILE: allocates 4 GiB in 100 MB chunks and keeps them.
# Safety bound: only the first 8 chunks (800 MB) are really written (bytearray fills with zeros);
# the rest are bytes(n), which the allocator maps without touching: address space, not memory.
# SIGALRM after 60 s.
import signal

signal.alarm(60)
CHUNK = 100 * 1000 * 1000
hoard = []
while len(hoard) * CHUNK < 4 * 1024 ** 3:
    hoard.append(bytearray(CHUNK) if len(hoard) < 8 else bytes(CHUNK))
print("allocated", len(hoard) * CHUNK // 1024 ** 2, "MiB")

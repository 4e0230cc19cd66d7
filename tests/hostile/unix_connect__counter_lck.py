# HOSTILE: connects to a UNIX socket of the host by its path (where a Docker daemon's or a
# database's would be); a test substitutes the path of its own listener.
import errno
import signal
import socket

signal.alarm(60)
PATH = "@@SOCKET@@"
TOKEN = "@@TOKEN@@"
try:
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(3)
        s.connect(PATH)
        s.sendall(f"hostile {TOKEN}\n".encode())
    print("HOSTILE", "unix", "done")
except OSError as exc:
    print("HOSTILE", "unix", errno.errorcode.get(exc.errno, type(exc).__name__) if exc.errno else type(exc).__name__)

# HOSTILE: opens a TCP connection to 127.0.0.1 (a test substitutes the port of its own listener).
# Safety bound: 3 s connect timeout; SIGALRM after 60 s.
import errno
import signal
import socket

signal.alarm(60)
PORT = "@@PORT@@"
TOKEN = "@@TOKEN@@"
try:
    with socket.create_connection(("127.0.0.1", int(PORT)), timeout=3) as s:
        s.sendall(f"hostile {TOKEN}\n".encode())
    print("HOSTILE", "tcp", "done")
except OSError as exc:
    print("HOSTILE", "tcp", errno.errorcode.get(exc.errno, type(exc).__name__) if exc.errno else type(exc).__name__)

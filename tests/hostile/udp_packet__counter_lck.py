# HOSTILE: network without TCP connect: sends UDP datagrams to a socket of the test on 127.0.0.1
# (the test substitutes PORT and counts what arrives) and tries to listen on a TCP port (a backdoor).
# Prints "HOSTILE <what> <result>". Safety bound: 3 datagrams of a few bytes; SIGALRM after 60 s.
import errno
import signal
import socket

signal.alarm(60)
PORT = "@@PORT@@"
TOKEN = "@@TOKEN@@"


def why(exc):
    return errno.errorcode.get(exc.errno, type(exc).__name__)


try:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for _ in range(3):
            s.sendto(f"hostile {TOKEN}".encode(), ("127.0.0.1", int(PORT)))
    print("HOSTILE", "udp", "done")
except OSError as exc:
    print("HOSTILE", "udp", why(exc))
try:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
    print("HOSTILE", "tcp-listen", "done")
except OSError as exc:
    print("HOSTILE", "tcp-listen", why(exc))

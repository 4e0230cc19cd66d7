"""Slow and abusive clients held off at the connection: uvicorn's HTTP protocol with a guard.

uvicorn waits for a request's headers as long as a client cares to send them, so a few hundred
half-sent requests would fill its connection limit and every later request (``/healthz`` too)
would be refused. Here a connection whose request headers are not complete is *unfinished*:

- its headers must be complete within ``HEADER_SECONDS`` of the connection (or of the end of the
  previous response on a kept-alive connection), else it is answered 408 and closed;
- one client may hold ``PER_CLIENT`` unfinished connections, all clients ``IN_ALL``: one more
  closes the *oldest* unfinished one (408), so a new, complete request is always read and the
  stalled ones are what give way.

Every refusal is a status line, ``Retry-After``, and one line of JSON; the log gets one line per
client that was held off, not one per connection. The request's body is bounded in the
application (``app``: one deadline per chunk and per upload, and a cap on uploads read at once).
"""
from __future__ import annotations

import json
import logging
from collections import OrderedDict

from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_SECONDS = 10.0
PER_CLIENT = 16
IN_ALL = 256

log = logging.getLogger("grader.serve")

_MESSAGE = {"ja": "リクエストのヘッダーが時間内に届きませんでした。もう一度送ってください。",
            "en": "the request's headers did not arrive in time: send it again."}


def _answer(status: int, reason: str) -> bytes:
    body = json.dumps({"error": {"code": "request_timeout", **_MESSAGE}, "message": _MESSAGE["en"]},
                      ensure_ascii=False).encode("utf-8") + b"\n"
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json; charset=utf-8\r\n"
            f"Retry-After: 1\r\nConnection: close\r\nContent-Length: {len(body)}\r\n\r\n").encode("ascii") + body


_TIMED_OUT = _answer(408, "Request Timeout")


class _Unfinished:
    """The unfinished connections, oldest first, in all and per client."""

    def __init__(self) -> None:
        self.all: OrderedDict[int, "GuardedH11Protocol"] = OrderedDict()
        self.by_client: dict[str, OrderedDict[int, "GuardedH11Protocol"]] = {}
        self.warned: set[str] = set()

    def add(self, conn: "GuardedH11Protocol") -> None:
        mine = self.by_client.setdefault(conn.guard_client, OrderedDict())
        while len(mine) >= PER_CLIENT:
            self._evict(next(iter(mine.values())), "per client")
        while len(self.all) >= IN_ALL:
            self._evict(next(iter(self.all.values())), "in all")
        self.all[id(conn)] = conn
        mine[id(conn)] = conn

    def remove(self, conn: "GuardedH11Protocol") -> None:
        self.all.pop(id(conn), None)
        mine = self.by_client.get(conn.guard_client)
        if mine is not None:
            mine.pop(id(conn), None)
            if not mine:
                del self.by_client[conn.guard_client]
                self.warned.discard(conn.guard_client)

    def _evict(self, conn: "GuardedH11Protocol", why: str) -> None:
        if conn.guard_client not in self.warned:
            self.warned.add(conn.guard_client)
            log.warning("client %s holds too many unfinished requests (%s): the oldest are closed",
                        conn.guard_client, why)
        conn.guard_timeout()


UNFINISHED = _Unfinished()


class GuardedH11Protocol(H11Protocol):
    """``H11Protocol`` with the guard of this module's doc."""

    guard_client = "-"
    _guard_timer = None

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.guard_client = self.client[0] if self.client else "-"
        self._guard_wait()

    def _guard_wait(self) -> None:
        """From now, the next request's headers are awaited."""
        UNFINISHED.add(self)
        if self._guard_timer is not None:
            self._guard_timer.cancel()
        self._guard_timer = self.loop.call_later(HEADER_SECONDS, self.guard_timeout)

    def _guard_done(self) -> None:
        UNFINISHED.remove(self)
        if self._guard_timer is not None:
            self._guard_timer.cancel()
            self._guard_timer = None

    def guard_timeout(self) -> None:
        """The headers did not come in time (or a newer connection needed the room): 408, closed."""
        self._guard_done()
        if not self.transport.is_closing():
            self.transport.write(_TIMED_OUT)
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.cycle is not None and not self.cycle.response_complete and id(self) in UNFINISHED.all:
            self._guard_done()  # the headers are in: a request is being answered

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._guard_wait()  # kept alive: the next request's headers are awaited in turn

    def connection_lost(self, exc) -> None:
        self._guard_done()
        super().connection_lost(exc)

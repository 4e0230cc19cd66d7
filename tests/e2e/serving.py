"""A real ``grade serve`` for the tests: started on a free loopback port, driven over HTTP.

The server runs as the command a TA types (``python -m grader serve --port 0``) in a process of its
own; it says where it listens on stderr once its workers are up. Nothing here waits on luck: every
wait polls for what it needs, with a generous bound, and stops the server it started.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READY = re.compile(r"ready at (http://[^ ]+/)")
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def env(**extra: str) -> dict[str, str]:
    """The environment a student's shell would have: no server set, no colours, no debug."""
    out = {k: v for k, v in os.environ.items()
           if k not in ("GRADER_SERVER", "GRADER_COURSE_KEY", "GRADER_DEBUG")}
    out["NO_COLOR"] = "1"
    out.update(extra)
    return out


def grade(*args: str, cwd: Path, **extra_env: str) -> subprocess.CompletedProcess:
    """The ``grade`` command, as a student runs it."""
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd, env=env(**extra_env),
                          capture_output=True, text=True, encoding="utf-8", errors="replace", timeout=240)


@dataclass
class Answer:
    status: int
    headers: object  # case-insensitive, as HTTP headers are
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body.decode("utf-8"))

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


class Server:
    """``grade serve`` in its own process; ``stop()`` ends it (SIGTERM, as a service manager does)."""

    def __init__(self, tmp: Path, *args: str, db: Path | None = None):
        self.tmp = tmp
        self.db = db or tmp / "results.sqlite3"
        self.log = tmp / f"serve-{time.monotonic_ns()}.log"
        self._log = open(self.log, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "grader", "serve", "--host", "127.0.0.1", "--port", "0",
             "--db", str(self.db), *args],
            cwd=tmp, env=env(), stdout=self._log, stderr=subprocess.STDOUT)
        self.url = self._wait_ready()

    def _wait_ready(self, bound: float = 180.0) -> str:
        deadline = time.monotonic() + bound
        while time.monotonic() < deadline:
            m = READY.search(self.log.read_text(encoding="utf-8", errors="replace"))
            if m:
                return m[1]
            if self.proc.poll() is not None:
                raise AssertionError(f"grade serve exited {self.proc.returncode}:\n{self.log_text()}")
            time.sleep(0.05)
        self.stop()
        raise AssertionError(f"grade serve did not get ready within {bound} s:\n{self.log_text()}")

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> Answer:
        req = urllib.request.Request(self.url.rstrip("/") + path, data=body, method=method, headers=headers or {})
        try:
            with NO_PROXY.open(req, timeout=240) as resp:
                return Answer(resp.status, resp.headers, resp.read())
        except urllib.error.HTTPError as exc:
            with exc:
                return Answer(exc.code, exc.headers, exc.read())

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def post_file(self, name: str, data: bytes, headers: dict | None = None, **fields: str) -> Answer:
        from grader.serve.client import _multipart
        body, ctype = _multipart({k: str(v) for k, v in fields.items()}, (name, data))
        return self.request("POST", "/api/grade", body, {"Content-Type": ctype, **(headers or {})})

    def post_fields(self, path: str = "/api/grade", headers: dict | None = None, **fields: str) -> Answer:
        from grader.serve.client import _multipart
        body, ctype = _multipart({k: str(v) for k, v in fields.items()})
        return self.request("POST", path, body, {"Content-Type": ctype, **(headers or {})})

    def health(self) -> dict:
        return self.get("/healthz").json()

    def wait_for(self, predicate, what: str, bound: float = 120.0) -> dict:
        """Poll /healthz until ``predicate(health)`` holds."""
        deadline = time.monotonic() + bound
        while time.monotonic() < deadline:
            h = self.health()
            if predicate(h):
                return h
            time.sleep(0.02)
        raise AssertionError(f"the server never reached: {what} (last: {self.health()})")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=150)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


# -- the server's processes, as /proc shows them -------------------------------------------------

def children() -> dict[int, list[int]]:
    """Every process's children, by parent pid."""
    out: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        out.setdefault(int(text[text.rindex(")") + 2:].split()[1]), []).append(int(stat.parent.name))
    return out


def descendants(pid: int) -> set[int]:
    """Every process below ``pid``."""
    below, out, todo = children(), set(), [pid]
    while todo:
        for child in below.get(todo.pop(), ()):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


def alive(pid: int) -> bool:
    """Is ``pid`` running (a zombie is not)?"""
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rindex(")") + 2] != "Z"

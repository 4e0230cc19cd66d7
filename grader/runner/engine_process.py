"""The engine's warm child process (``grader.engine.child``), started early and spoken to in lines.

It is started before the submission is even read: its interpreter start and imports (the larger
part of grading one file) then overlap the parent's own. It waits for its job on stdin, so nothing
of the student's runs before the parent has decided to grade. Cheap to import on purpose: only
the sandbox and the scratch tree, no catalog, no YAML.
"""
from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time

from . import sandbox
from .workspace import Workspace, child_env, read_capped

_EARLY_PROCESS_CAP = 256  # the default limit, until the exercise's own is known


class EngineProcess:
    """The warm child in its own scratch tree, confined; one JSON object per line each way."""

    def __init__(self) -> None:
        self.workspace = Workspace.new()
        self._job: dict | None = None
        self._sent: list[dict] = []   # what was sent after the job, before the child was ready
        self._restarted = False
        self._start()

    def _start(self) -> None:
        root = self.workspace.root
        self.confinement = sandbox.confine(root, _EARLY_PROCESS_CAP, with_policy=False)
        self.err_path = root / "log" / "engine.err"
        self.deadline = float("inf")
        self.timed_out = False
        self.started = time.monotonic()
        self.ready: float | None = None
        """When the child had its imports done and was waiting for its job (``time.monotonic``)."""
        self._buffer = b""
        self._closed = False
        with open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(
                # -S: no site-packages to scan at start (PYTHONPATH finds the engine); the engine
                # puts back the site builtins a program may use (exit, quit).
                self.confinement.command([sys.executable, "-S", "-X", "utf8", "-c",
                                          "from grader.engine.child import main; main()"]),
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                cwd=root, env=child_env(root), start_new_session=True,
            )

    def begin(self, job: dict, limit: float) -> None:
        """Hand the child its job; ``limit`` seconds of wall time from now cover everything."""
        self._job = job
        self._contain(job)
        self.deadline = time.monotonic() + limit
        self.send(job, keep=False)

    def _contain(self, job: dict) -> None:
        job["reap"] = self.confinement.needs_reaper
        # Built now, while the child is starting: it reads the course's folders (and YAML).
        job["contain"] = sandbox.run_policy(self.workspace.root)
        cap = int(job["limits"]["processes"])
        if self.confinement.cgroup is not None and cap != _EARLY_PROCESS_CAP:
            try:
                (self.confinement.cgroup / "pids.max").write_text(str(cap))
            except OSError:
                pass

    def send(self, obj: dict, keep: bool = True) -> bool:
        if keep and self.ready is None:
            self._sent.append(obj)
        try:
            self.proc.stdin.write(json.dumps(obj).encode() + b"\n")
            self.proc.stdin.flush()
            return True
        except (BrokenPipeError, OSError):
            return False

    def _restart(self) -> None:
        self._restarted = True
        self._stop()
        sandbox.redetect()
        self._start()
        if self._job is not None:
            self._contain(self._job)
            self.send(self._job, keep=False)
            for obj in self._sent:
                self.send(obj, keep=False)

    def read(self) -> dict | None:
        """The child's next line; None when it has gone (or the deadline passed)."""
        while True:
            line = self._line()
            if line is None and self.ready is None and not self._restarted:
                # The child died before it was ready: the sandbox this machine had when probed
                # last may be gone (user namespaces turned off, say). Probe again, start again.
                self._restart()
                continue
            if line is None or "ready" not in line:
                return line
            self.ready = time.monotonic()

    def _line(self) -> dict | None:
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buffer:
            left = self.deadline - time.monotonic()
            if left <= 0:
                self.timed_out = True
                return None
            ready, _, _ = select.select([fd], [], [], min(left, 3600))
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                return None
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            return json.loads(line)
        except ValueError:
            return {}

    def close(self, patient: bool = True) -> tuple[str, int]:
        """End the conversation and every process of the run; returns the engine's stderr (tail)
        and its exit status. ``patient``: let the child exit by itself first (its status says
        whether the program killed it); else every run has reported and it is killed at once
        (its interpreter's teardown is of no use to anyone). The scratch tree stays until ``remove``."""
        if not self._closed:
            self._closed = True
            self._stop(wait=max(0.1, min(5.0, self.deadline - time.monotonic())) if patient else 0.0)
        err, _ = read_capped(self.err_path, 1 << 20)
        return err.decode("utf-8", "replace")[-4000:], self.proc.returncode

    def _stop(self, wait: float = 0.0) -> None:
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            if wait:
                _wait_exit(self.proc, wait)
        except subprocess.TimeoutExpired:
            self.timed_out = True
        finally:
            _kill_group(self.proc.pid)  # nothing of the run may outlive it
            self.confinement.kill_all()
            self.proc.wait()

    def discard(self) -> None:
        """Stop the child and remove its scratch tree (also when it was never given a job)."""
        self.close()
        self.workspace.remove()


def _wait_exit(proc: subprocess.Popen, timeout: float) -> None:
    """``proc.wait(timeout)``, woken the moment it exits (a pidfd) rather than by Popen's polling,
    whose sleeps grow to 50 ms: the engine child's exit is on every grading's path."""
    try:
        fd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        proc.wait(timeout=timeout)
        return
    try:
        ready, _, _ = select.select([fd], [], [], timeout)
    finally:
        os.close(fd)
    if not ready:
        raise subprocess.TimeoutExpired(proc.args, timeout)
    proc.wait()


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass

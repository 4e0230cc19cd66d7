"""The service's grading: a bounded queue in front of a pool of worker processes.

Each worker grades with ``grade_submission``, exactly as ``grade FILE`` does (same engine, same
sandbox, same seed, the same number of parallel runs: the CLI's default), so a result is the one
the student would get by typing ``grade`` on the server. Grading is CPU work in the grader too
(instrumenting, judging the runs), so workers are processes, not threads: threads would share one
core. Never in the event loop's thread: the service keeps answering while it grades.

The queue is bounded: ``workers`` gradings run, ``queue`` more wait, and one more is refused at
once (``Busy``, answered 503 with ``Retry-After``) instead of waiting without end. Identical
submissions arriving together are graded once.

Each idle worker keeps an engine child already started (``EngineProcess``): its interpreter
start-up, the larger part of grading a small file, is paid while nobody waits.
"""
from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import os
import signal
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from .. import __version__

RESULT_FORMAT = "1"
"""The shape of a stored result; bump it and every submission is graded again."""


# ---------------------------------------------------------------------------------- the key


@lru_cache(maxsize=None)
def grader_fingerprint() -> str:
    """A digest of everything a verdict can depend on besides the submission: the grader's code,
    the course's exercises and checks and its data (``course_fingerprint``). Editing any of them
    (even without bumping a version) means results kept from before are not reused."""
    from ..exercises.fingerprint import course_fingerprint

    h = hashlib.sha256(f"{__version__}\0{RESULT_FORMAT}\0{sys.version_info[:2]}\0".encode())
    package = Path(__file__).resolve().parents[1]
    for path in sorted(p for p in package.rglob("*") if p.is_file()):
        rel = path.relative_to(package).as_posix()
        if "__pycache__" in path.parts or path.suffix in (".pyc", ".pyo") or rel.startswith(("serve/", "_course/")):
            continue  # the service's own code decides no verdict; the packaged course is hashed below
        h.update(f"grader/{rel}\0".encode())
        h.update(hashlib.sha256(path.read_bytes()).digest())
    h.update(f"course\0{course_fingerprint()}".encode())
    return h.hexdigest()


def result_key(content: bytes, exercise: str, seed: int, name: str, path: str, explicit: bool) -> str:
    """What decides a result, byte for byte: the file's bytes and name (the script runs under its
    name; messages name it), the path shown and whether the exercise was given (the replay
    command shows both), the exercise, the seed, and the grader and course (``grader_fingerprint``).
    The report's language is not part of it: a result holds both languages."""
    h = hashlib.sha256(grader_fingerprint().encode())
    for part in (exercise, str(int(seed)), name, path, "explicit" if explicit else "inferred"):
        h.update(b"\0" + part.encode("utf-8", "surrogatepass"))
    h.update(b"\0" + hashlib.sha256(content).digest())
    return h.hexdigest()


# ----------------------------------------------------------------------- the worker process

SCRATCH_ENV = "GRADER_SERVE_SCRATCH"
"""Where the service's workers make their scratch trees: ``<it>/w<worker pid>/grader-*``."""


def _init_worker() -> None:
    """In each worker: the grader imported and the course read once, Ctrl-C left to the server
    (it shuts the pool down in order), its scratch trees in a folder of its own, a watch on the
    server, the engine's spare child started."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    root = os.environ.get(SCRATCH_ENV)
    if root:
        import tempfile

        mine = Path(root) / f"w{os.getpid()}"
        mine.mkdir(parents=True, exist_ok=True)
        tempfile.tempdir = str(mine)  # every workspace of this worker lies in it (removed with it)
        _watch_server(os.getppid(), mine)
    from .. import grading  # noqa: F401  (imported once, not per submission)
    from ..batch import store  # noqa: F401
    from ..exercises import catalog
    from ..runner import spare
    catalog.exercises()
    spare.install()


def _watch_server(server: int, scratch: Path) -> None:
    """Die with the server: a worker whose server was killed (``kill -9``: no shutdown to wait
    for) stops its engine children, removes its scratch tree (students' files) and exits."""
    import threading

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != server:
                from ..runner import spare
                try:
                    spare.discard()
                finally:
                    remove_tree(scratch)
                    os._exit(0)

    threading.Thread(target=watch, name="grader-watch-server", daemon=True).start()


def remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def remove_dead_scratch(root: Path) -> None:
    """Remove the scratch trees of workers that are no longer alive (killed mid-grading)."""
    try:
        entries = list(root.iterdir())
    except OSError:
        return
    for entry in entries:
        pid = int(entry.name[1:]) if entry.name[:1] == "w" and entry.name[1:].isdigit() else None
        if pid is None or _alive(pid):
            continue
        remove_tree(entry)


def _alive(pid: int) -> bool:
    """Is ``pid`` a running process (a zombie, killed and not yet reaped, is not)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rindex(")") + 2:][:1] != "Z"


def _warm(_: int) -> int:
    """Nothing: submitted once per worker at start so that every worker is up before the first
    student arrives."""
    time.sleep(0.2)  # long enough that the pool starts a new worker for each of these
    return os.getpid()


def grade_job(job: dict) -> dict:
    """Grade one submission in a worker: ``{"result": ..., "seconds": ...}`` (the result as
    ``grader.batch.store.result_to_dict`` writes it), or ``{"error": ...}`` for the grader's own
    fault. Never raises."""
    from ..batch.store import result_to_dict
    from ..exercises import catalog
    from ..grading import grade_submission
    from ..runner import spare

    t0 = time.perf_counter()
    engine = spare.take()
    try:
        exercise = catalog.get(job["exercise"])
        result = grade_submission(job["submission"], exercise, job["seed"],
                                  explicit_exercise=job["explicit"], engine=engine)
        out: dict[str, Any] = {"result": result_to_dict(result), "seconds": time.perf_counter() - t0}
    except Exception as exc:  # the grader's own fault: said in one line, the service goes on
        if engine is not None:
            try:
                engine.discard()
            except Exception:
                pass
        out = {"error": f"{type(exc).__name__}: {exc}", "seconds": time.perf_counter() - t0}
    spare.fill()  # for the next one, while this answer travels back
    return out


# -------------------------------------------------------------------------- the server side


class Busy(Exception):
    """Every worker is busy and the queue is full: try again in ``retry_after`` seconds."""

    def __init__(self, retry_after: int):
        super().__init__(f"busy, retry after {retry_after} s")
        self.retry_after = retry_after


@dataclass
class _Flight:
    future: asyncio.Future
    task: asyncio.Task | None = None


class GradingPool:
    """``workers`` processes grading, ``queue`` submissions waiting; more are refused (``Busy``).

    Used from the event loop: ``grade`` awaits the result without blocking the loop.
    """

    def __init__(self, workers: int, queue: int, scratch: Path | None = None):
        self.scratch = scratch
        """The folder the workers make their scratch trees in (``SCRATCH_ENV``), or None."""
        self.workers = max(1, int(workers))
        self.queue = max(0, int(queue))
        self.running = 0
        self.waiting = 0
        self.graded = 0
        self.refused = 0
        self.ready = False
        self._mean = 1.0  # seconds per grading, a moving average (for Retry-After)
        self._executor: ProcessPoolExecutor | None = None
        self._slots: asyncio.Semaphore | None = None
        self._flights: dict[str, _Flight] = {}

    def _new_executor(self) -> ProcessPoolExecutor:
        # spawn: the server holds threads (the event loop's helpers, SQLite): forking them is unsafe.
        if self.scratch is not None:
            os.environ[SCRATCH_ENV] = str(self.scratch)  # what spawned workers inherit
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init_worker)

    async def start(self) -> None:
        """Start the workers and wait until each is up (grader imported, engine child started)."""
        self._slots = asyncio.Semaphore(self.workers)
        self._executor = self._new_executor()
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(self._executor, _warm, i) for i in range(self.workers)))
        self.ready = True

    def retry_after(self) -> int:
        """Seconds after which a refused submission probably finds room."""
        ahead = self.running + self.waiting
        return max(1, min(120, int(self._mean * (ahead / self.workers) + 0.999)))

    def stats(self) -> dict:
        return {"workers": self.workers, "queue": self.queue, "running": self.running, "waiting": self.waiting,
                "capacity": self.workers + self.queue, "graded": self.graded, "refused": self.refused,
                "ready": self.ready}

    async def grade(self, key: str, job: dict, finish: Callable[[dict], Any]) -> Any:
        """Grade ``job`` (at most once at a time per ``key``) and return ``finish(outcome)``, which
        runs in a thread (it stores the result). Raises ``Busy`` when there is no room.

        The grading goes on if the caller goes away: its result is still stored."""
        flight = self._flights.get(key)
        if flight is None:
            if self.running + self.waiting >= self.workers + self.queue:
                self.refused += 1
                raise Busy(self.retry_after())
            loop = asyncio.get_running_loop()
            flight = _Flight(loop.create_future())
            self._flights[key] = flight
            self.waiting += 1
            flight.task = asyncio.create_task(self._fly(key, job, finish, flight))
        return await asyncio.shield(flight.future)

    async def _fly(self, key: str, job: dict, finish: Callable[[dict], Any], flight: _Flight) -> None:
        loop = asyncio.get_running_loop()
        acquired = False
        try:
            async with self._slots:
                acquired = True
                self.waiting -= 1
                self.running += 1
                try:
                    outcome = await self._run(job)
                finally:
                    self.running -= 1
            self.graded += 1
            seconds = float(outcome.get("seconds") or 0.0)
            self._mean = 0.8 * self._mean + 0.2 * max(0.05, seconds)
            value = await loop.run_in_executor(None, finish, outcome)
            if not flight.future.done():
                flight.future.set_result(value)
        except BaseException as exc:
            if not acquired:
                self.waiting -= 1
            if not flight.future.done():
                flight.future.set_exception(exc if isinstance(exc, Exception) else RuntimeError("shut down"))
            if not isinstance(exc, Exception):
                raise
        finally:
            self._flights.pop(key, None)

    async def _run(self, job: dict) -> dict:
        loop = asyncio.get_running_loop()
        for attempt in (1, 2):
            executor = self._executor
            if executor is None:
                return {"error": "the grading service is shutting down", "code": "shutting_down", "seconds": 0.0}
            try:
                return await loop.run_in_executor(executor, grade_job, job)
            except BrokenProcessPool:
                # A worker died (the machine ran out of memory, someone killed it): the pool is
                # broken for every grading it held. A new pool; each of them is tried once more
                # on a fresh worker, and the dead worker's scratch tree (students' files) goes.
                if executor is self._executor:
                    self._executor = self._new_executor()
                    old, scratch = executor, self.scratch

                    def retire() -> None:
                        old.shutdown(wait=True, cancel_futures=True)  # its processes reaped
                        if scratch is not None:
                            remove_dead_scratch(scratch)

                    loop.run_in_executor(None, retire)
                if attempt == 2:
                    return {"error": "a grading worker stopped unexpectedly, twice", "code": "worker_died",
                            "seconds": 0.0}
            except RuntimeError as exc:  # (after BrokenProcessPool, one of them) the pool shut down meanwhile
                return {"error": str(exc) or "the grading service is shutting down", "code": "shutting_down",
                        "seconds": 0.0}
        raise AssertionError("unreachable")

    async def close(self) -> None:
        """Stop taking work, let the gradings under way finish (each is bounded by its time limit),
        stop the workers and their engine children; submissions still waiting are answered as
        not graded."""
        self.ready = False
        executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.get_running_loop().run_in_executor(
                None, lambda: executor.shutdown(wait=True, cancel_futures=True))
        if self.scratch is not None:
            remove_tree(self.scratch)

"""Where a batch's submissions are graded: this machine's cores, or an existing Dask cluster.

An executor has one job: run ``fn(payload)`` for every payload and yield ``(payload, result)``
as each finishes. The local executor uses worker processes: each grading runs the submission in
child processes of its own, but judging the runs is Python work in the grader, which threads
would serialise on one core.
"""
from __future__ import annotations

import multiprocessing
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Callable, Iterable, Iterator

from ..model import GraderInputError, Msg


def _init_worker() -> None:
    """In each local worker: the grader imported and the course read once.

    (No spare engine started ahead, as ``grade serve``'s workers keep: with every core busy it
    only moves the same work around; measured, a class graded no faster with it.)"""
    from .. import grading  # noqa: F401
    from ..exercises import catalog

    catalog.exercises()


class LocalExecutor:
    """``jobs`` submissions at a time on this machine."""

    def __init__(self, jobs: int):
        self.jobs = max(1, jobs)

    def run(self, fn: Callable[[dict], dict], payloads: Iterable[dict]) -> Iterator[tuple[dict, dict]]:
        payloads = list(payloads)
        # spawn: the grader may hold threads (a progress bar); forking them is unsafe.
        pool = ProcessPoolExecutor(max_workers=self.jobs, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init_worker)
        pending = {}
        todo = iter(payloads)
        try:
            for payload in todo:
                pending[pool.submit(fn, payload)] = payload
                if len(pending) >= self.jobs * 2:
                    break
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    payload = pending.pop(future)
                    yield payload, future.result()
                    nxt = next(todo, None)
                    if nxt is not None:
                        pending[pool.submit(fn, nxt)] = nxt
        finally:
            for future in pending:
                future.cancel()
            pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    """Submissions as tasks on a Dask distributed cluster (``--scheduler tcp://host:8786``).

    The workers need this package installed and the submissions' files at the same paths (a
    shared file system, or a cluster on this machine).
    """

    def __init__(self, address: str):
        try:
            from distributed import Client
        except ImportError:
            raise GraderInputError(Msg(
                "--executor dask には dask[distributed] が必要です（pip install 'concurrency-grader[dask]'）",
                "--executor dask needs dask[distributed] (pip install 'concurrency-grader[dask]')")) from None
        try:
            self.client = Client(address, timeout=10)
        except (OSError, TimeoutError) as exc:
            raise GraderInputError(Msg(f"Dask スケジューラ {address} に接続できません: {exc}",
                                       f"cannot reach the Dask scheduler {address}: {exc}")) from None

    def run(self, fn: Callable[[dict], dict], payloads: Iterable[dict]) -> Iterator[tuple[dict, dict]]:
        from distributed import as_completed
        futures = {}
        for payload in payloads:
            futures[self.client.submit(fn, payload, pure=False, key=f"grade-{payload['id']}")] = payload
        try:
            for future in as_completed(list(futures)):
                yield futures[future], future.result()
        finally:
            for future in futures:
                future.cancel()
            self.client.close()


def make_executor(kind: str, jobs: int, scheduler: str | None):
    """The executor named on the command line."""
    if kind == "local":
        return LocalExecutor(jobs)
    if kind == "dask":
        if not scheduler:
            raise GraderInputError(Msg("--executor dask には --scheduler ADDRESS が必要です",
                                       "--executor dask needs --scheduler ADDRESS"))
        return DaskExecutor(scheduler)
    raise GraderInputError(Msg(f"不明な実行方式: {kind}", f"unknown executor: {kind}"))

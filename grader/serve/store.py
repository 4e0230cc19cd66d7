"""The service's results, in one embedded SQLite file: a restart loses nothing, an identical
resubmission is answered from it, and it never grows past its bounds.

One row per graded (content, exercise, seed, file name, grader): the submission's SHA-256, the
exercise and seed, the verdict of each check, when it was graded and how long it took, and the
whole result (compressed JSON: what the reports are rendered from, in either language). The
source code itself is not stored. Past ``max_results`` rows or ``max_bytes`` of results, the rows
least recently asked for go first.

Standard library only; safe to call from several threads (one connection, one lock: SQLite
serialises writers anyway, and every call here is short).
"""
from __future__ import annotations

import json
import logging
import re
import shutil
import secrets
import sqlite3
import threading
import time
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..model import GraderInputError, Msg

log = logging.getLogger("grader.serve")

SCHEMA_VERSION = 1
ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
"""What a result id looks like (``secrets.token_urlsafe``): anything else is not looked up."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    id         TEXT PRIMARY KEY,     -- the public id: /report/{id}
    key        TEXT NOT NULL UNIQUE, -- what decides the result (see grader.serve.workers.result_key)
    sha256     TEXT NOT NULL,        -- of the submitted file's bytes
    exercise   TEXT NOT NULL,
    seed       INTEGER NOT NULL,
    filename   TEXT NOT NULL,
    score      REAL NOT NULL,
    max_score  REAL NOT NULL,
    passed     INTEGER NOT NULL,
    verdicts   TEXT NOT NULL,        -- JSON: {check id: "passed" | "failed" | "error"}
    graded_at  TEXT NOT NULL,        -- UTC, ISO 8601
    seconds    REAL NOT NULL,        -- grading time
    last_seen  REAL NOT NULL,        -- last time it was asked for (eviction order)
    hits       INTEGER NOT NULL DEFAULT 0,
    size       INTEGER NOT NULL,     -- bytes of `result`
    result     BLOB NOT NULL         -- zlib-compressed JSON of the GradeResult
);
CREATE INDEX IF NOT EXISTS results_last_seen ON results(last_seen);
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT);  -- the health probe's row
"""

_PROBE_EVERY = 2.0
"""Seconds between two write probes of the database (``ResultStore.health``)."""
_FREE_AT_LEAST = 16 << 20
"""Bytes that must stay free on the database's disk for it to count as writable."""


class StoreUnavailable(Exception):
    """The database cannot keep results now (deleted, read-only, disk full): ``reason`` says which."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Stored:
    """One stored result."""

    id: str
    key: str
    sha256: str
    exercise: str
    seed: int
    filename: str
    graded_at: str
    seconds: float
    result: dict
    """The GradeResult as ``grader.batch.store.result_to_dict`` writes it."""


def _why(exc: sqlite3.Error) -> str:
    text = str(exc).lower()
    if "full" in text:
        return "full"
    if "readonly" in text or "read-only" in text or "permission" in text:
        return "read_only"
    return "io"


def _verdicts(result: dict) -> dict[str, str]:
    return {c["id"]: ("error" if c.get("error") else "passed" if c["passed"] else "failed")
            for c in result.get("checks", ())}


class ResultStore:
    """Results by key (the cache) and by id (the report pages), bounded in rows and bytes."""

    def __init__(self, path: str | Path, max_results: int = 20000, max_bytes: int = 512 << 20):
        self.path = Path(path)
        self.max_results = max(1, int(max_results))
        self.max_bytes = max(1, int(max_bytes))
        self._lock = threading.Lock()
        try:
            if self.path.parent and not self.path.parent.exists():
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
            # Set before the first table exists: lets evictions give space back to the file.
            self._db.execute("PRAGMA auto_vacuum=INCREMENTAL")
            # A rollback journal, not WAL: WAL maps its index (the -shm file) into memory, and a
            # mapped file that cannot grow (a full disk, an immutable file) kills the server with
            # SIGBUS. Writes here are one small row per grading; FULL: a committed result survives
            # a crash of the server and a power cut alike.
            self._db.execute("PRAGMA journal_mode=DELETE")
            self._db.execute("PRAGMA synchronous=FULL")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                raise GraderInputError(Msg(
                    f"{self.path} は新しい版の採点サーバーのデータベースです（この版では開けません）",
                    f"{self.path} belongs to a newer version of the grading service: this one cannot open it"))
            self._db.executescript(_SCHEMA)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            self._rows, self._bytes = self._db.execute(
                "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM results").fetchone()
            self._ino = self.path.stat().st_ino
            self.problem: str | None = None
            """Why results cannot be kept now (``lost``, ``read_only``, ``full``, ``io``), or None."""
            self._probed = 0.0
        except sqlite3.DatabaseError as exc:
            raise GraderInputError(Msg(f"結果のデータベース {self.path} を開けません（{exc}）",
                                       f"cannot open the results database {self.path} ({exc})")) from None
        except OSError as exc:
            raise GraderInputError(Msg(f"結果のデータベース {self.path} を作れません（{exc.strerror or exc}）",
                                       f"cannot create the results database {self.path} ({exc.strerror or exc})")) from None

    # ------------------------------------------------------------------------------ health

    def health(self) -> str | None:
        """Why results cannot be kept now, or None: the file deleted or replaced under the server,
        the disk (nearly) full, a write refused (read-only, immutable, I/O error). Probed at most
        every ``_PROBE_EVERY`` seconds with a one-row write; a change is logged in one line."""
        now = time.monotonic()
        if now - self._probed < _PROBE_EVERY:
            return self.problem
        self._probed = now
        problem = None
        try:
            if self.path.stat().st_ino != self._ino:
                problem = "lost"
        except OSError:
            problem = "lost"
        if problem is None:
            try:
                if shutil.disk_usage(self.path.parent).free < _FREE_AT_LEAST:
                    problem = "full"
            except OSError:
                pass
        if problem is None:
            with self._lock:
                try:
                    self._db.execute("INSERT OR REPLACE INTO meta (k, v) VALUES ('probe', ?)", (str(time.time()),))
                except sqlite3.Error as exc:
                    problem = _why(exc)
        self._note(problem)
        return problem

    def _note(self, problem: str | None) -> None:
        if problem != self.problem:
            if problem is None:
                log.warning("results database %s: writable again", self.path)
            else:
                log.warning("results database %s: cannot keep results (%s)", self.path, problem)
        self.problem = problem

    # ------------------------------------------------------------------------------ reading

    def by_key(self, key: str) -> Stored | None:
        """The result graded for ``key``, if kept (and marked as just asked for)."""
        return self._one("key", key)

    def by_id(self, result_id: str) -> Stored | None:
        """The result of id ``result_id``, if kept (an id of another shape is never looked up)."""
        if not ID_PATTERN.match(result_id or ""):
            return None
        return self._one("id", result_id)

    def _one(self, column: str, value: str) -> Stored | None:
        with self._lock:
            try:
                row = self._db.execute(
                    f"SELECT id, key, sha256, exercise, seed, filename, graded_at, seconds, result "
                    f"FROM results WHERE {column} = ?", (value,)).fetchone()
            except sqlite3.Error as exc:  # unreadable now (an immutable file with a journal to undo...)
                self._note(_why(exc))
                raise StoreUnavailable(self.problem or "io") from None
            if row is None:
                return None
            try:
                self._db.execute("UPDATE results SET last_seen = ?, hits = hits + 1 WHERE id = ?",
                                 (time.time(), row[0]))
            except sqlite3.Error as exc:  # a full or read-only disk: the result is still there to show
                self._note(_why(exc))
        try:
            result = json.loads(zlib.decompress(row[8]).decode("utf-8"))
        except (zlib.error, ValueError):
            return None
        return Stored(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], result)

    def stats(self) -> dict:
        """Rows and bytes kept, and the bounds."""
        with self._lock:
            return {"results": self._rows, "bytes": self._bytes,
                    "max_results": self.max_results, "max_bytes": self.max_bytes}

    # ------------------------------------------------------------------------------ writing

    def put(self, key: str, sha256: str, exercise: str, seed: int, filename: str, result: dict,
            seconds: float) -> Stored:
        """Keep ``result`` under ``key`` with a new id; if ``key`` is kept already (two identical
        submissions graded at once), the kept one stands and is returned."""
        blob = zlib.compress(json.dumps(result, ensure_ascii=False).encode("utf-8"), 6)
        verdicts = _verdicts(result)
        score = sum(float(c.get("points", 0)) for c in result.get("checks", ()))
        max_score = sum(float(c.get("max_points", 0)) for c in result.get("checks", ()))
        passed = all(v == "passed" for v in verdicts.values())
        graded_at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        result_id = secrets.token_urlsafe(18)
        problem = self.health()
        if problem is not None:
            raise StoreUnavailable(problem)
        with self._lock:
            try:
                self._db.execute(
                    "INSERT INTO results (id, key, sha256, exercise, seed, filename, score, max_score, passed, "
                    "verdicts, graded_at, seconds, last_seen, size, result) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (result_id, key, sha256, exercise, int(seed), filename, score, max_score, int(passed),
                     json.dumps(verdicts), graded_at, float(seconds), time.time(), len(blob), blob))
            except sqlite3.IntegrityError:
                pass  # the same key graded twice at once: keep the first
            except sqlite3.Error as exc:
                self._note(_why(exc))
                raise StoreUnavailable(self.problem or "io") from None
            else:
                self._rows += 1
                self._bytes += len(blob)
                self._evict()
        kept = self.by_key(key)
        if kept is None:  # evicted at once: only when one result alone is over max_bytes
            return Stored(result_id, key, sha256, exercise, int(seed), filename, graded_at, float(seconds), result)
        return kept

    def _evict(self) -> None:
        """Drop the least recently asked-for rows until both bounds hold (lock held)."""
        if self._rows <= self.max_results and self._bytes <= self.max_bytes:
            return
        dropped = 0
        cursor = self._db.execute("SELECT id, size FROM results ORDER BY last_seen ASC")
        victims = []
        rows, size = self._rows, self._bytes
        for result_id, n in cursor:
            if rows <= self.max_results and size <= self.max_bytes:
                break
            victims.append((result_id,))
            rows -= 1
            size -= n
            dropped += n
        cursor.close()
        self._db.executemany("DELETE FROM results WHERE id = ?", victims)
        self._rows, self._bytes = rows, size
        if dropped:
            self._db.execute("PRAGMA incremental_vacuum")

    def close(self) -> None:
        """Close the database (results already committed stay)."""
        with self._lock:
            self._db.close()

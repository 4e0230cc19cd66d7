"""``grade serve``: the grading service as an ASGI application (Starlette, served by uvicorn).

Endpoints:

- ``GET /``: the upload page (``?lang=en`` for English; the course's language by default);
- ``POST /api/grade``: multipart ``file`` (``.py``/``.ipynb``), optional ``exercise``, ``seed``,
  ``lang``, ``path`` (the path as typed, shown in the report), ``color``; the course key as the
  ``X-Course-Key`` header or a ``course_key`` field when the service has one. Answers the results
  JSON of ``grade --json`` plus ``id``, ``report_url``, ``exit_status`` (what ``grade`` would
  exit with), ``terminal`` (``grade``'s report as text), ``lang`` and ``cached``;
- ``GET /report/{id}``: that result's HTML page (``results.json`` and ``junit.xml`` beside it);
- ``GET /api/infer?name=``: the exercise a file name tells, as the command line infers it;
- ``GET /api/exercises``, ``GET /healthz``.

Bad input is answered 4xx with the command line's own one-line reason in both languages (and in
``message``, in the one asked for); a full queue 503 and too many uploads 429, both with
``Retry-After``. Every submission is graded by ``grade_submission`` in a worker process, exactly as
``grade FILE``; results are kept in SQLite (``store``).
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import importlib
import logging
import math
import os
from pathlib import Path
import re
import socket
import sys
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from .. import __version__
from ..model import GraderInputError, Lang, Msg
from .page import PAGE_JS, render_message_page, render_upload_page
from .store import ResultStore, Stored, StoreUnavailable
from .workers import Busy, GradingPool, result_key

log = logging.getLogger("grader.serve")

BODY_LIMIT = 16 * 1024 * 1024 + 256 * 1024
"""The largest request read: the largest file ``grade`` takes (a notebook, 16 MiB) and the form
around it. A ``.py`` file over 1 MiB still arrives whole, to be refused with ``grade``'s message."""
PATH_LIMIT = 400
CHUNK_SECONDS = 15.0
"""An upload whose next piece does not come within this is dropped (408): a stalled client."""
UPLOAD_SECONDS = 120.0
"""An upload not received whole within this is dropped (408)."""
"""Characters of the shown path kept (it is only displayed)."""
SEED_RANGE = (-(2 ** 63), 2 ** 63 - 1)


@dataclass
class ServeConfig:
    """How ``grade serve`` runs (its command-line options)."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    queue: int | None = None
    """Submissions that may wait for a worker (default: 32 per worker: a class's burst before a
    deadline waits its turn in order, rather than retrying against newcomers)."""
    course_key: str | None = None
    db: str = "grade-serve.sqlite3"
    rate: int = 30
    """Uploads per minute per client (0: no limit); bursts of up to ``burst``."""
    burst: int = 10
    max_results: int = 20000
    max_db_bytes: int = 512 << 20
    forwarded_allow_ips: str | None = None
    """Proxies whose ``X-Forwarded-For`` names the client (``--forwarded-allow-ips``); by default
    none: the client is the peer of the connection, whatever a header says."""
    uploads_at_once: int | None = None
    """Uploads read at once (default: four per worker, at least 8): what bounds their memory."""
    lti_config: str | None = None
    """pylti1p3's JSON tool configuration (``--lti-config``): LTI 1.3 launches and score passback
    (``grader/serve/lti``); none: no ``/lti/`` routes at all."""

    @property
    def upload_slots(self) -> int:
        return self.uploads_at_once if self.uploads_at_once else max(8, 4 * self.workers)
    url: str = ""
    """Where it listens, once bound (said in the log line that it is ready)."""

    @property
    def queue_size(self) -> int:
        return 32 * self.workers if self.queue is None else max(0, self.queue)


# ------------------------------------------------------------------------------- messages

_M: dict[str, Msg] = {
    "busy": Msg("採点サーバーが混んでいます（採点待ちがいっぱいです）。{n} 秒ほどしてからもう一度送ってください。",
                "the grading server is busy (its queue is full): send again in about {n} s."),
    "rate": Msg("このコンピューターからの送信が多すぎます（1分あたり {rate} 回まで）。{n} 秒ほど待ってからもう一度送ってください。",
                "too many submissions from this computer (at most {rate} a minute): send again in about {n} s."),
    "no_key": Msg("この採点サーバーには授業のキーが必要です（TA に聞いて --course-key KEY で渡してください）。",
                  "this grading server needs the course key (ask your TA and pass it with --course-key KEY)."),
    "bad_key": Msg("授業のキーが違います（TA に確かめてください）。", "wrong course key (check it with your TA)."),
    "no_file": Msg("ファイルがありません（.py か .ipynb のファイルを multipart の file 欄で送ってください）。",
                   "no file: send the .py or .ipynb file as the multipart field `file`."),
    "not_form": Msg("フォームを multipart/form-data で送ってください。", "send the form as multipart/form-data."),
    "bad_form": Msg("フォームを読めません（{why}）。", "cannot read the form ({why})."),
    "too_big": Msg("アップロードが大きすぎます（{mib} MiB 超）。", "the upload is too large (over {mib} MiB)."),
    "bad_seed": Msg("使い方の誤り: seed は整数で指定してください", "usage error: seed must be an integer"),
    "bad_lang": Msg("使い方の誤り: lang は ja か en です", "usage error: lang must be ja or en"),
    "internal": Msg("採点器の内部エラー: {why}", "grader internal error: {why}"),
    "not_found": Msg("この採点結果はありません（保存期間が過ぎて消えたか、アドレスが違います）。",
                     "no such result (it was removed after a while, or the address is wrong)."),
    "no_page": Msg("このページはありません。", "there is no such page."),
    "not_found_title": Msg("見つかりません", "Not found"),
    "cannot_title": Msg("採点できません", "Cannot grade"),
    "shutting_down": Msg("採点サーバーが止まるところです。しばらくしてからもう一度送ってください。",
                         "the grading server is shutting down: send again in a while."),
    "worker_died": Msg("採点中の処理が2回続けて止まりました（サーバーのメモリ不足など）。しばらくしてからもう一度送ってください。",
                       "the grading stopped twice in a row on the server (out of memory?): send again in a while."),
    "bad_name": Msg("ファイル名が使えません（{why}）。", "unusable file name ({why})."),
    "oops": Msg("採点サーバーの内部エラーです（{why}）。", "the grading server failed ({why})."),
    "slow_upload": Msg("アップロードが途中で止まりました。もう一度送ってください。",
                       "the upload stalled: send it again."),
    "uploads_busy": Msg("採点サーバーは今ほかのアップロードを受け取っています。{n} 秒ほどしてからもう一度送ってください。",
                        "the grading server is receiving other uploads: send again in about {n} s."),
    "storage": Msg("採点サーバーが結果を保存できない状態です（{why}）。TA に知らせて、しばらくしてからもう一度送ってください。",
                   "the grading server cannot keep results now ({why}): tell your TA, and send again in a while."),
}


class Refusal(Exception):
    """A request answered with an HTTP error: its status, a code, the one-line reason (both
    languages), extra headers (``Retry-After``) and, for the log only, a ``detail`` (what a
    library said of a refused LTI launch)."""

    def __init__(self, status: int, code: str, msg: Msg, headers: dict[str, str] | None = None, detail: str = ""):
        super().__init__(msg.en)
        self.status, self.code, self.msg, self.headers, self.detail = status, code, msg, headers or {}, detail
        self.lang: Lang = "ja"


# ---------------------------------------------------------------------------- rate limits


class RateLimiter:
    """A token bucket per client: ``burst`` uploads at once, then ``per_minute`` a minute."""

    def __init__(self, per_minute: int, burst: int, clock=time.monotonic):
        self.per_minute = max(0, int(per_minute))
        self.burst = max(1, min(int(burst), self.per_minute or 1))
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, client: str) -> int:
        """0 when ``client`` may upload now (one token taken), else the seconds until it may."""
        if not self.per_minute:
            return 0
        now = self.clock()
        rate = self.per_minute / 60.0
        tokens, then = self._buckets.get(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - then) * rate)
        if tokens >= 1.0:
            self._buckets[client] = (tokens - 1.0, now)
            if len(self._buckets) > 10000:  # forget the clients whose buckets are full again
                self._buckets = {c: (t, w) for c, (t, w) in self._buckets.items()
                                 if t + (now - w) * rate < self.burst}
            return 0
        self._buckets[client] = (tokens, now)
        return max(1, math.ceil((1.0 - tokens) / rate))


# ---------------------------------------------------------------------- reading an upload


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _last_component(name: str) -> str:
    """The file's own name, whatever the sender's separator (a browser may send a Windows path)."""
    return re.split(r"[\\/]", name.strip())[-1].strip()


def _file_name(name: str) -> str:
    """``_last_component`` of an upload's file name; ``Refusal`` for a name no file can have
    (``.``, ``..``, over 255 bytes); empty when none was given."""
    last = _last_component(name)
    why = None
    if last in (".", ".."):
        why = Msg(f"「{last}」はファイルの名前ではありません", f"'{last}' names no file")
    elif len(last.encode("utf-8", "surrogatepass")) > 255:
        why = Msg("255 バイトを超えています", "over 255 bytes")
    if why is not None:
        raise Refusal(400, "bad_name", Msg(_M["bad_name"].ja.format(why=why.ja), _M["bad_name"].en.format(why=why.en)))
    return last


@dataclass(frozen=True)
class Prepared:
    """An upload read exactly as ``grade`` reads a file: ready for a worker."""

    submission: Any
    exercise: str
    explicit: bool
    sha256: str
    key: str
    name: str
    seed: int


def prepare(data: bytes, name: str, shown: str, exercise: str | None, seed: int) -> Prepared:
    """Check and decode an upload in ``grade``'s own order (an ``--exercise`` that does not exist,
    then the file, then the exercise its name tells); raises ``Refusal`` with ``grade``'s reason."""
    from ..exercises import catalog
    from ..sources.infer import GRADABLE_SUFFIXES, cannot_infer_message, infer_exercise
    from ..sources.submission import size_limit, submission_from_bytes

    if exercise:
        try:
            catalog.get(exercise)
        except GraderInputError as exc:
            raise Refusal(422, "unknown_exercise", exc.msg) from None
    try:
        submission = submission_from_bytes(data, shown, name)
    except GraderInputError as exc:
        too_big = len(data) > size_limit(name)
        raise Refusal(413 if too_big else 400, "too_large" if too_big else "unreadable", exc.msg) from None
    found = exercise
    if not exercise:
        found = infer_exercise(name, catalog.exercises())
        if found is None:
            suffix = name.casefold().endswith(GRADABLE_SUFFIXES)
            raise Refusal(422 if suffix else 415, "cannot_infer" if suffix else "not_python",
                          cannot_infer_message(name, sorted(catalog.exercises())))
    key = result_key(data, found, seed, name, shown, bool(exercise))
    return Prepared(submission, found, bool(exercise), hashlib.sha256(data).hexdigest(), key, name, seed)


# ------------------------------------------------------------------------------ rendering


def _result(stored: Stored):
    from ..batch.store import result_from_dict
    return result_from_dict(stored.result)


def answer_json(stored: Stored, lang: Lang, color: bool, cached: bool) -> dict:
    """What ``POST /api/grade`` answers: ``grade --json``'s object, and what the thin client needs
    to print ``grade``'s own report and exit as it would."""
    from ..reports.gradescope import render_gradescope
    from ..reports.terminal import render_terminal

    result = _result(stored)
    body = render_gradescope(result, lang)
    body.update({
        "id": stored.id,
        "report_url": f"/report/{stored.id}?lang={lang}",
        "exit_status": 0 if result.passed else 1,
        "terminal": render_terminal(result, lang, color),
        "lang": lang,
        "cached": cached,
    })
    return body


# ------------------------------------------------------------------------------------ app


def create_app(config: ServeConfig) -> Starlette:
    """The service's ASGI application; its lifespan starts the workers and opens the store."""
    from ..exercises import catalog
    from ..reports.terminal import pick_lang

    # What answering needs, imported now rather than by the first student's request.
    for module in ("batch.store", "reports.gradescope", "reports.html", "reports.junit", "reports.terminal",
                   "sources.infer", "sources.submission"):
        importlib.import_module(f"grader.{module}")

    from .workers import grader_fingerprint
    grader_fingerprint()  # hashed once, now: the grader's and the course's files decide every key

    course_lang: Lang = pick_lang(None)
    exercises = catalog.exercises()
    from ..exercises.fingerprint import SHORT, course_fingerprint, exercise_fingerprint
    # As at start: results are keyed by these files as they were then (grader_fingerprint).
    course_print = course_fingerprint()[:SHORT]
    fingerprints = {ex.id: exercise_fingerprint(ex)[:SHORT] for ex in exercises.values()}
    pool = GradingPool(config.workers, config.queue_size, scratch=_scratch_root())
    limiter = RateLimiter(config.rate, config.burst)
    state: dict[str, Any] = {"store": None}

    @asynccontextmanager
    async def lifespan(app):
        state["store"] = ResultStore(config.db, config.max_results, config.max_db_bytes)
        await pool.start()
        stats = state["store"].stats()
        ready = (f"grade serve: ready at {config.url or '(no socket)'} ({pool.workers} workers, queue "
                 f"{pool.queue}, {stats['results']} results kept in {config.db}"
                 f"{', course key required' if config.course_key else ''})")
        log.info(ready)
        try:
            yield
        finally:
            await pool.close()
            state["store"].close()

    def lang_of(value: str | None) -> Lang:
        return value if value in ("ja", "en") else course_lang  # type: ignore[return-value]

    def refused(request: Request, r: Refusal, lang: Lang) -> JSONResponse:
        log.info("refused status=%d reason=%s client=%s", r.status, r.code, _client(request))
        body = {"error": {"code": r.code, "ja": r.msg.ja, "en": r.msg.en}, "message": r.msg(lang),
                "lang": lang, "exit_status": 2}
        return JSONResponse(body, status_code=r.status, headers=r.headers)

    async def receive_upload(request: Request, exercise: str | None = None,
                             authorized: bool = False) -> tuple[Stored, Lang, bool, bool]:
        """An upload taken in, checked, graded (or found graded): (stored, lang, color, cached).
        A ``Refusal`` carries the language the upload asked for (``lang``). An LTI launch's upload
        is ``authorized`` (no course key) and graded for its own ``exercise``."""
        box: dict[str, Any] = {"lang": lang_of(request.query_params.get("lang")), "exercise": exercise,
                               "authorized": authorized}
        try:
            return await _receive(request, box)
        except Refusal as r:
            r.lang = box["lang"]
            raise

    uploads = asyncio.Semaphore(config.upload_slots)

    async def _read_body(request: Request, too_big: Refusal) -> bytes:
        """The body, within ``BODY_LIMIT``, each piece within ``CHUNK_SECONDS`` and the whole within
        ``UPLOAD_SECONDS``; at most ``upload_slots`` read at once (their memory is bounded so)."""
        if uploads.locked():
            raise Refusal(503, "uploads_busy", _M["uploads_busy"].format(n=2), {"Retry-After": "2"})
        async with uploads:
            body = bytearray()
            stream = request.stream().__aiter__()
            deadline = asyncio.get_running_loop().time() + UPLOAD_SECONDS
            while True:
                left = deadline - asyncio.get_running_loop().time()
                try:
                    chunk = await asyncio.wait_for(stream.__anext__(), min(CHUNK_SECONDS, max(0.0, left)))
                except StopAsyncIteration:
                    return bytes(body)
                except asyncio.TimeoutError:
                    raise Refusal(408, "slow_upload", _M["slow_upload"], {"Retry-After": "1"}) from None
                body += chunk
                if len(body) > BODY_LIMIT:
                    raise too_big

    async def _receive(request: Request, box: dict) -> tuple[Stored, Lang, bool, bool]:
        lang = box["lang"]
        wait = limiter.take(_client(request))
        if wait:
            raise Refusal(429, "rate_limited", _M["rate"].format(rate=config.rate, n=wait), {"Retry-After": str(wait)})
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise Refusal(400, "not_multipart", _M["not_form"])
        declared = request.headers.get("content-length")
        too_big = Refusal(413, "too_large", _M["too_big"].format(mib=BODY_LIMIT >> 20))
        if declared is not None and declared.isdigit() and int(declared) > BODY_LIMIT:
            raise too_big
        body = await _read_body(request, too_big)
        replay = [body]

        async def receive():
            return {"type": "http.request", "body": replay.pop() if replay else b"", "more_body": False}

        try:
            form = await Request(request.scope, receive).form(max_files=2, max_fields=20)
        except (MultiPartException, ValueError, KeyError) as exc:
            raise Refusal(400, "bad_form", _M["bad_form"].format(why=str(exc)[:200])) from None
        try:
            if form.get("lang"):
                lang_value = str(form.get("lang"))
                if lang_value not in ("ja", "en"):
                    raise Refusal(400, "usage", _M["bad_lang"])
                lang = box["lang"] = lang_value  # type: ignore[assignment]
            if config.course_key is not None and not box["authorized"]:
                given = request.headers.get("x-course-key") or str(form.get("course_key") or "")
                if not given:
                    raise Refusal(401, "course_key_missing", _M["no_key"])
                if not hmac.compare_digest(given.encode(), config.course_key.encode()):
                    raise Refusal(401, "course_key_wrong", _M["bad_key"])
            try:
                seed = int(str(form.get("seed") or "1").strip())
            except ValueError:
                raise Refusal(400, "usage", _M["bad_seed"]) from None
            if not SEED_RANGE[0] <= seed <= SEED_RANGE[1]:
                raise Refusal(400, "usage", _M["bad_seed"])
            exercise = box["exercise"] or str(form.get("exercise") or "").strip() or None
            upload = form.get("file")
            if exercise and (upload is None or isinstance(upload, str)):
                try:  # grade's order: an exercise that does not exist is said before the file
                    catalog.get(exercise)
                except GraderInputError as exc:
                    raise Refusal(422, "unknown_exercise", exc.msg) from None
            if upload is None or isinstance(upload, str) or not getattr(upload, "filename", None):
                raise Refusal(400, "no_file", _M["no_file"])
            name = _file_name(upload.filename)
            if not name:
                raise Refusal(400, "no_file", _M["no_file"])
            shown = _CONTROL.sub("", str(form.get("path") or "").strip())[:PATH_LIMIT] or name
            if _last_component(shown) != name:
                shown = name  # the path shown must be the file's: it names what was graded
            data = await upload.read()
            color = str(form.get("color") or "") in ("1", "true", "yes")
        finally:
            await form.close()
        prepared = await run_in_threadpool(prepare, data, name, shown, exercise, seed)
        store: ResultStore = state["store"]
        try:
            hit = await run_in_threadpool(store.by_key, prepared.key)
        except StoreUnavailable as exc:
            raise _storage_refusal(exc.reason) from None
        if hit is not None:
            _log_graded(request, hit, True, 0.0)
            return hit, lang, color, True
        problem = await run_in_threadpool(store.health)
        if problem is not None:  # a grading whose result could not be kept: refused before it starts
            raise _storage_refusal(problem)
        job = {"submission": prepared.submission, "exercise": prepared.exercise, "seed": prepared.seed,
               "explicit": prepared.explicit}
        queued = time.perf_counter()

        def finish(outcome: dict) -> Stored | Refusal:
            if outcome.get("code") == "shutting_down":
                return Refusal(503, "shutting_down", _M["shutting_down"], {"Retry-After": "10"})
            if outcome.get("code") == "worker_died":
                return Refusal(503, "worker_died", _M["worker_died"], {"Retry-After": "30"})
            if "error" in outcome:
                return Refusal(500, "internal", _M["internal"].format(why=outcome["error"]))
            result = outcome["result"]
            key = prepared.key
            if any(c.get("error") for c in result.get("checks", ())):
                # The grader's own fault (no engine, no memory): kept to be shown, never reused.
                key = f"{key}:{os.urandom(8).hex()}"
            return store.put(key, prepared.sha256, prepared.exercise, prepared.seed, prepared.name, result,
                             outcome.get("seconds", 0.0))

        if not pool.ready:
            raise Refusal(503, "shutting_down", _M["shutting_down"], {"Retry-After": "10"})
        try:
            outcome = await pool.grade(prepared.key, job, finish)
        except Busy as busy:
            raise Refusal(503, "busy", _M["busy"].format(n=busy.retry_after), {"Retry-After": str(busy.retry_after)}) from None
        except StoreUnavailable as exc:
            raise _storage_refusal(exc.reason) from None
        except Exception as exc:  # storing failed (a full disk...): said in one line, the service goes on
            log.warning("error storing a result: %s: %s", type(exc).__name__, exc)
            raise Refusal(500, "internal", _M["internal"].format(why=f"{type(exc).__name__}: {exc}")) from None
        if isinstance(outcome, Refusal):
            raise outcome
        _log_graded(request, outcome, False, time.perf_counter() - queued)
        return outcome, lang, color, False

    async def api_grade(request: Request) -> Response:
        lang = lang_of(request.query_params.get("lang"))
        try:
            stored, lang, color, cached = await receive_upload(request)
        except Refusal as r:
            return refused(request, r, r.lang)
        body = await run_in_threadpool(answer_json, stored, lang, color, cached)
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    async def form_upload(request: Request) -> Response:
        """The page's form without its script: the report's page, or a page saying why not."""
        lang = lang_of(request.query_params.get("lang"))
        try:
            stored, lang, _, _ = await receive_upload(request)
        except Refusal as r:
            log.info("refused status=%d reason=%s client=%s", r.status, r.code, _client(request))
            return HTMLResponse(render_message_page(r.lang, _M["cannot_title"], r.msg(r.lang), r.status),
                                status_code=r.status, headers={**r.headers, **_PAGE_HEADERS})
        return RedirectResponse(f"/report/{stored.id}?lang={lang}", status_code=303)

    async def index(request: Request) -> Response:
        lang = lang_of(request.query_params.get("lang"))
        from ..exercises.catalog import course
        listed = [(ex.id, ex.title) for ex in exercises.values()]
        base = str(request.base_url).rstrip("/")
        page = render_upload_page(lang, listed, course().title, config.course_key is not None, base)
        return HTMLResponse(page, headers=_PAGE_HEADERS)

    async def page_js(request: Request) -> Response:
        return Response(PAGE_JS, media_type="text/javascript; charset=utf-8",
                        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})

    async def stored_or_404(request: Request, page_headers: dict = _PAGE_HEADERS, back: str | None = "/"
                            ) -> Stored | Response:
        lang = lang_of(request.query_params.get("lang"))
        store: ResultStore = state["store"]
        stored = await run_in_threadpool(store.by_id, request.path_params["id"])
        if stored is None:
            return HTMLResponse(render_message_page(lang, _M["not_found_title"], _M["not_found"](lang), 404, back=back),
                                status_code=404, headers=page_headers)
        return stored

    async def show_report(request: Request, report_headers: dict = _REPORT_HEADERS,
                          page_headers: dict = _PAGE_HEADERS, back: str | None = "/") -> Response:
        """The report of result ``{id}`` under ``report_headers``, or the page saying there is no
        such result under ``page_headers`` (its way back to ``back``): the LTI report shows it so,
        with the headers that let the LMS frame it."""
        from ..reports.html import render_html
        stored = await stored_or_404(request, page_headers, back)
        if isinstance(stored, Response):
            return stored
        lang = lang_of(request.query_params.get("lang"))
        page = await run_in_threadpool(lambda: render_html(_result(stored), lang))
        return HTMLResponse(page, headers=report_headers)

    async def report(request: Request) -> Response:
        return await show_report(request)

    async def report_json(request: Request) -> Response:
        from ..reports.gradescope import dumps, render_gradescope
        stored = await stored_or_404(request)
        if isinstance(stored, Response):
            return stored
        lang = lang_of(request.query_params.get("lang"))
        text = await run_in_threadpool(lambda: dumps(render_gradescope(_result(stored), lang)))
        return Response(text, media_type="application/json; charset=utf-8")

    async def report_junit(request: Request) -> Response:
        from ..reports.junit import render_junit
        stored = await stored_or_404(request)
        if isinstance(stored, Response):
            return stored
        lang = lang_of(request.query_params.get("lang"))
        flavor = request.query_params.get("flavor", "jenkins")
        flavor = flavor if flavor in ("jenkins", "codegrade") else "jenkins"
        data = await run_in_threadpool(lambda: render_junit([_result(stored)], lang, flavor))
        return Response(data, media_type="application/xml")

    async def infer(request: Request) -> Response:
        from ..sources.infer import cannot_infer_message, infer_exercise
        lang = lang_of(request.query_params.get("lang"))
        name = _last_component(request.query_params.get("name", ""))[:PATH_LIMIT]
        found = infer_exercise(name, exercises) if name else None
        if found is None:
            return JSONResponse({"exercise": None, "message": cannot_infer_message(name or "?", sorted(exercises))(lang)})
        return JSONResponse({"exercise": found, "title": exercises[found].title(lang), "message": ""})

    async def list_exercises(request: Request) -> Response:
        return JSONResponse({"exercises": [
            {"id": ex.id, "file": ex.file, "title": {"ja": ex.title.ja, "en": ex.title.en},
             "max_score": ex.max_score, "checks": [c.id for c in ex.checks], "version": ex.version,
             "fingerprint": fingerprints[ex.id]} for ex in exercises.values()],
            "course_fingerprint": course_print})

    async def health(request: Request) -> Response:
        store: ResultStore | None = state["store"]
        problem = await run_in_threadpool(store.health) if store is not None else None
        status = "starting" if not pool.ready else "degraded" if problem else "ok"
        body = {"status": status, "version": __version__, "course_fingerprint": course_print, "pool": pool.stats(),
                "store": {**store.stats(), "problem": problem} if store is not None else None,
                "course_key": config.course_key is not None, "rate_per_minute": config.rate}
        return JSONResponse(body, status_code=200 if status == "ok" else 503, headers={"Cache-Control": "no-store"})

    async def not_found(request: Request, exc: Exception) -> Response:
        lang = lang_of(request.query_params.get("lang"))
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": {"code": "not_found", "ja": _M["no_page"].ja, "en": _M["no_page"].en},
                                 "message": _M["no_page"](lang)}, status_code=404)
        return HTMLResponse(render_message_page(lang, _M["not_found_title"], _M["no_page"](lang), 404),
                            status_code=404, headers=_PAGE_HEADERS)

    async def refusal_handler(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refusal)
        return refused(request, exc, lang_of(request.query_params.get("lang")))

    routes = [
        Route("/", index, methods=["GET"]),
        Route("/page.js", page_js, methods=["GET"]),
        Route("/upload", form_upload, methods=["POST"]),
        Route("/api/grade", api_grade, methods=["POST"]),
        Route("/api/infer", infer, methods=["GET"]),
        Route("/api/exercises", list_exercises, methods=["GET"]),
        Route("/report/{id}", report, methods=["GET"]),
        Route("/report/{id}/results.json", report_json, methods=["GET"]),
        Route("/report/{id}/junit.xml", report_junit, methods=["GET"]),
        Route("/healthz", health, methods=["GET"]),
    ]
    if config.lti_config:
        try:
            from .lti.routes import LtiHost, lti_routes
        except ImportError as exc:
            raise GraderInputError(Msg(
                f"--lti-config には追加のパッケージが必要です（{exc.name}）: pip install 'concurrency-grader[serve]'",
                f"--lti-config needs its extra packages ({exc.name} is missing): pip install 'concurrency-grader[serve]'"
            )) from None
        routes += lti_routes(config.lti_config, LtiHost(
            receive_upload=receive_upload, answer_json=answer_json, report=show_report, lang_of=lang_of,
            exercises=exercises, page_headers=_PAGE_HEADERS, report_headers=_REPORT_HEADERS, refused=refused))
    async def failed(request: Request, exc: Exception) -> Response:
        # Never a bare 500 with a traceback: one log line, and JSON or the message page.
        log.warning("error answering %s %s: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
        why = type(exc).__name__
        return refused(request, Refusal(500, "internal", _M["oops"].format(why=why)), lang_of(request.query_params.get("lang")))

    async def storage_failed(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StoreUnavailable)
        return refused(request, _storage_refusal(exc.reason), lang_of(request.query_params.get("lang")))

    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={404: not_found, Refusal: refusal_handler, StoreUnavailable: storage_failed,
                                        Exception: failed})
    app.state.pool = pool
    app.state.config = config
    return app


# The report is a page of its own with inline styles and pictures, and no script at all.
_REPORT_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
}
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; "
                               "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
}


def _storage_refusal(reason: str) -> Refusal:
    return Refusal(503, "storage", _M["storage"].format(why=reason), {"Retry-After": "60"})


def _scratch_root() -> Path:
    """This server's folder for its workers' scratch trees; those of servers that died
    (``kill -9``: nothing cleaned up) are removed first."""
    import shutil
    import tempfile

    from .workers import _alive

    base = Path(tempfile.gettempdir())
    for old in base.glob("grader-serve-*"):
        pid = old.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    root = base / f"grader-serve-{os.getpid()}"
    root.mkdir(mode=0o700, exist_ok=True)
    return root


def _client(request: Request) -> str:
    return request.client.host if request.client else "-"


def _log_graded(request: Request, stored: Stored, cached: bool, seconds: float) -> None:
    """One line per submission: what was graded and how it went, never the source."""
    verdicts = stored.result.get("checks", ())
    score = sum(float(c.get("points", 0)) for c in verdicts)
    top = sum(float(c.get("max_points", 0)) for c in verdicts)
    failed = [c["id"] for c in verdicts if not c.get("passed")]
    log.info("graded id=%s sha256=%s exercise=%s seed=%d score=%g/%g failed=%s cached=%s seconds=%.2f client=%s",
             stored.id, stored.sha256[:16], stored.exercise, stored.seed, score, top, ",".join(failed) or "-",
             "yes" if cached else "no", seconds, _client(request))


# ---------------------------------------------------------------------------------- serve


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise GraderInputError(Msg(f"{host}:{port} で待ち受けできません（{exc.strerror or exc}）",
                                   f"cannot listen on {host}:{port} ({exc.strerror or exc})")) from None
    sock.listen(512)
    sock.set_inheritable(True)
    return sock


def serve(config: ServeConfig) -> int:
    """Run the service until Ctrl-C or SIGTERM (then finish the gradings under way and stop)."""
    import uvicorn

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%dT%H:%M:%S%z"))
    log.handlers[:] = [handler]
    log.setLevel(logging.INFO)
    log.propagate = False
    sock = _bind(config.host, config.port)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    config.url = f"http://{shown}:{port}/"
    # Open the store now: a database that cannot be opened is said in one line before anything starts.
    ResultStore(config.db, config.max_results, config.max_db_bytes).close()
    app = create_app(config)
    from .guard import IN_ALL, GuardedH11Protocol

    server = uvicorn.Server(uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="on", http=GuardedH11Protocol,
        # Unfinished requests are bounded by the guard (per client and in all); this caps what is
        # left: requests being answered, each bounded by the queue, the uploads and their deadlines.
        limit_concurrency=IN_ALL + max(64, 8 * (config.workers + config.queue_size)),
        timeout_keep_alive=5, timeout_graceful_shutdown=90,
        # X-Forwarded-For names the client only when the TA says which proxy may say it.
        proxy_headers=bool(config.forwarded_allow_ips), forwarded_allow_ips=config.forwarded_allow_ips or "",
    ))
    server.run(sockets=[sock])
    return 0 if server.started else 2

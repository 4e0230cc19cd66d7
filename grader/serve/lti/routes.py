"""The LTI routes of ``grade serve`` (mounted only with ``--lti-config``).

- ``GET|POST /lti/login``: the platform's third-party initiated login; answered with a redirect to
  its authorization endpoint (state in a cookie, nonce kept once);
- ``POST /lti/launch``: the platform's id_token, validated (state cookie, nonce taken, registration,
  signature against the platform's JWKS, deployment id, message); answered with a redirect to the
  student's page ``/lti/page/{token}``;
- ``GET /lti/jwks``: the tool's public keys (the platform checks the tool's token requests with them);
- ``POST /lti/grade/{token}`` (the page's script; ``POST /api/grade``'s answer plus ``lti``) and
  ``POST /lti/upload/{token}`` (the page without script): grade for the launch's exercise, then
  post the score to the LMS;
- ``GET /lti/report/{token}/{id}``: the report, which the platform's pages may frame.

The exercise is the launch's custom parameter ``exercise`` (``exercise=counter_lck`` in the
link's custom parameters), else the one exercise id the link's title names; a link that names
none is refused with a message saying so.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ...model import Msg
from ..app import Refusal
from ..page import render_message_page, render_upload_page
from .adapters import LtiLaunch, LtiLogin, LtiRequest, PlatformSession
from .config import load_tool_config, origin
from .launches import Launch, LaunchStore, OneTimeStore
from .passback import Sent, post_score

log = logging.getLogger("grader.serve")

FORM_LIMIT = 256 * 1024
"""The largest login or launch request read (an id_token is a few KiB)."""
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"

_M: dict[str, Msg] = {
    "title": Msg("LMS からの起動", "Launch from the LMS"),
    "bad_login": Msg("LMS からのログイン要求を受け付けられません（{why}）。TA に知らせてください。",
                     "the LMS's login request was refused ({why}): tell your TA."),
    "bad_launch": Msg("LMS からの起動を受け付けられません（{why}）。LMS のリンクを開き直してください。"
                      "直らなければ TA に知らせてください。",
                      "the launch from the LMS was refused ({why}): open the link in the LMS again, and "
                      "tell your TA if it keeps happening."),
    "platform_down": Msg("LMS の鍵を取得できませんでした（{why}）。しばらくしてから LMS のリンクを開き直してください。",
                         "the LMS's keys could not be fetched ({why}): open the link in the LMS again in a while."),
    "not_resource": Msg("このツールは課題のリンクからの起動（LtiResourceLinkRequest）だけを受け付けます。",
                        "this tool takes only launches from an exercise's link (LtiResourceLinkRequest)."),
    "no_exercise": Msg("このリンクはどの課題かを指定していません（LMS でリンクのカスタムパラメーターに "
                       "exercise=課題ID を書く必要があります。使える課題: {ids}）。TA に知らせてください。",
                       "this link does not say which exercise it is (its custom parameters in the LMS need "
                       "exercise=ID; exercises: {ids}): tell your TA."),
    "expired": Msg("この起動は期限が切れたか、採点サーバーが再起動しました。LMS のリンクを開き直してください。",
                   "this launch has expired, or the grading server restarted: open the link in the LMS again."),
    "sent": Msg("成績 {score} / {max} 点を LMS に送りました。", "Your score {score} / {max} was sent to the LMS."),
    "post_failed": Msg("成績を LMS に送れませんでした。採点結果（ID {id}）はこのサーバーに残っていて、TA が確認できます。",
                       "the score could not be sent to the LMS; your TA has it (result {id})."),
    "no_lineitem": Msg("このリンクは LMS に成績を送りません（採点だけです）。",
                       "this link sends no score to the LMS (grading only)."),
    "grader_error": Msg("採点器の内部エラーがあったので、成績を LMS に送りませんでした。もう一度送るか、TA に知らせてください。",
                        "the grader failed on a check, so no score was sent to the LMS: send again, or tell your TA."),
    "who": Msg("{name} さんとして LMS のリンク「{title}」から開いています。{where}",
               "Opened from the LMS link \"{title}\" as {name}. {where}"),
    "who_anon": Msg("LMS のリンク「{title}」から開いています。{where}", "Opened from the LMS link \"{title}\". {where}"),
    "goes": Msg("採点するたびに、その点数が LMS の成績に送られます（最後の採点が LMS の成績になります）。",
                "Each grading sends its score to the LMS's grade book (the latest grading is the one it keeps)."),
    "result": Msg("採点結果", "Result"),
    "report": Msg("レポートを開く", "Open the report"),
}


@dataclass
class LtiHost:
    """What the routes use of the service (``app.create_app``'s own pieces)."""

    receive_upload: Callable
    answer_json: Callable
    report: Callable
    """``report(request, report_headers, page_headers, back)``: the app's report page (or its page
    saying there is no such result)."""
    lang_of: Callable
    exercises: dict
    page_headers: dict
    report_headers: dict
    refused: Callable


def pick_exercise(custom: Any, title: str, exercises: dict) -> str | None:
    """The launch's exercise: its custom ``exercise`` parameter, else the one id its title names."""
    if isinstance(custom, dict) and str(custom.get("exercise") or "").strip():
        wanted = str(custom["exercise"]).strip()
        return wanted if wanted in exercises else None
    named = {w for w in re.findall(r"[A-Za-z0-9_]+", title or "") if w in exercises}
    return named.pop() if len(named) == 1 else None


def _claim(body: dict, name: str) -> dict:
    found = body.get(CLAIM + name)
    return found if isinstance(found, dict) else {}


def _launch_lang(body: dict, lang_of: Callable) -> str:
    locale = str(_claim(body, "launch_presentation").get("locale") or "")
    return lang_of("ja" if locale.lower().startswith("ja") else "en" if locale else None)


def lti_routes(config_path: str, host: LtiHost) -> list[Route]:
    tool_config = load_tool_config(config_path)
    configured: list[str] = tool_config.origins
    nonces = OneTimeStore(limit=20000, lifetime=600.0)
    keys_cache = OneTimeStore(limit=100, lifetime=300.0)
    launches = LaunchStore(limit=20000, lifetime=4 * 3600.0)
    session = PlatformSession()
    page_headers = {**host.page_headers, "Cache-Control": "no-store"}

    def framed(headers: dict, launch: Launch | None) -> dict:
        """``headers`` letting the LMS frame the page (Moodle, Canvas show a tool in an iframe)."""
        allowed = launch.frame_from if launch is not None else " ".join(["'self'", *configured])
        csp = re.sub(r"frame-ancestors [^;]*", f"frame-ancestors {allowed}", headers["Content-Security-Policy"])
        return {**headers, "Content-Security-Policy": csp}
    log.info("lti: %d platform registration(s) from %s", tool_config.registrations, config_path)

    def message(request: Request, lang, r: Refusal) -> Response:
        log.info("lti refused status=%d reason=%s detail=%s client=%s", r.status, r.code, r.detail[:300],
                 request.client.host if request.client else "-")
        # No way back: the service's own upload page asks for the course key and may not be
        # framed; the student opens the link in the LMS again.
        return HTMLResponse(render_message_page(lang, _M["title"], r.msg(lang), r.status, back=None),
                            status_code=r.status, headers=framed(page_headers, None))

    async def small_form(request: Request) -> dict[str, str]:
        params = dict(request.query_params)
        if request.method == "POST":
            body = bytearray()
            async for chunk in request.stream():
                body += chunk
                if len(body) > FORM_LIMIT:
                    raise Refusal(413, "too_large", _M["bad_launch"].format(why="request too large"))
            params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        return params

    def lti_request(request: Request, params: dict) -> LtiRequest:
        return LtiRequest(params, request.cookies, request.url.scheme == "https")

    async def login(request: Request) -> Response:
        lang = host.lang_of(request.query_params.get("lang"))
        try:
            params = await small_form(request)
            launch_url = str(request.base_url) + "lti/launch"
            oidc = LtiLogin(lti_request(request, params), tool_config, nonces)

            def redirect():
                try:
                    return oidc.redirect(launch_url)
                except Exception as exc:  # pylti1p3's OIDCException, or its bare Exception
                    raise Refusal(400, "bad_login", _M["bad_login"].format(why=str(exc)[:200]), detail=str(exc)) from None

            return await run_in_threadpool(redirect)
        except Refusal as r:
            return message(request, lang, r)

    def validate(request: Request, params: dict) -> Launch:
        import requests
        from pylti1p3.exception import LtiException

        launch = LtiLaunch(lti_request(request, params), tool_config, nonces, keys_cache, session)
        try:
            launch.validate()
        except LtiException as exc:
            why = str(exc)
            if "Error during fetch URL" in why:
                raise Refusal(502, "platform_keys", _M["platform_down"].format(why="JWKS"), detail=why) from None
            raise Refusal(400, "bad_launch", _M["bad_launch"].format(why=why[:200]), detail=why) from None
        except requests.RequestException as exc:
            raise Refusal(502, "platform_keys", _M["platform_down"].format(why=type(exc).__name__), detail=str(exc)) from None
        except Exception as exc:  # a token malformed in a way pylti1p3 does not name: still the launch's fault
            why = f"{type(exc).__name__}: {exc}"
            raise Refusal(400, "bad_launch", _M["bad_launch"].format(why=why[:200]), detail=why) from None
        body: dict = launch.get_launch_data()  # type: ignore[assignment]
        if body.get(CLAIM + "message_type") != "LtiResourceLinkRequest":
            raise Refusal(400, "not_resource", _M["not_resource"],
                          detail=str(body.get(CLAIM + "message_type")))
        link = _claim(body, "resource_link")
        title = str(link.get("title") or "")
        exercise = pick_exercise(body.get(CLAIM + "custom"), title, host.exercises)
        if exercise is None:
            raise Refusal(400, "no_exercise", _M["no_exercise"].format(ids=", ".join(sorted(host.exercises))),
                          detail=f"custom={body.get(CLAIM + 'custom')!r} title={title!r}")
        ags = body.get(AGS) if isinstance(body.get(AGS), dict) else {}
        frame = ["'self'", *configured]
        for url in (_claim(body, "launch_presentation").get("return_url"), _claim(body, "tool_platform").get("url")):
            found = origin(url)
            if found and found not in frame:
                frame.append(found)
        name = str(body.get("name") or body.get("given_name") or "")  # the LMS may keep names private
        return Launch(issuer=str(body["iss"]), client_id=launch.get_client_id(), user=str(body.get("sub") or ""),
                      name=name, resource_link=str(link.get("id") or ""), title=title, exercise=exercise,
                      lineitem=ags.get("lineitem") or None,
                      scopes=[str(x) for x in ags.get("scope") or () if isinstance(ags.get("scope"), list)],
                      lang=_launch_lang(body, host.lang_of), frame_from=" ".join(frame))

    async def launch(request: Request) -> Response:
        lang = host.lang_of(request.query_params.get("lang"))
        try:
            params = await small_form(request)
            found = await run_in_threadpool(validate, request, params)
        except Refusal as r:
            return message(request, lang, r)
        if not found.user:
            return message(request, lang, Refusal(400, "no_user", _M["bad_launch"].format(why="no sub")))
        token = launches.add(found)
        log.info("lti launch exercise=%s lineitem=%s user=%s client=%s", found.exercise,
                 "yes" if found.lineitem else "no", found.user[:64], request.client.host if request.client else "-")
        return RedirectResponse(f"/lti/page/{token}", status_code=303)

    async def jwks(request: Request) -> Response:
        return JSONResponse(tool_config.get_jwks(), headers={"Cache-Control": "max-age=300"})

    def launched(request: Request) -> Launch:
        found = launches.get(request.path_params["token"])
        if found is None:
            raise Refusal(401, "launch_expired", _M["expired"])
        return found

    async def page(request: Request) -> Response:
        try:
            found = launched(request)
        except Refusal as r:
            return message(request, host.lang_of(request.query_params.get("lang")), r)
        lang = host.lang_of(request.query_params.get("lang") or found.lang)
        from ...exercises.catalog import course
        ex = host.exercises[found.exercise]
        where = _M["goes"](lang) if found.lineitem else _M["no_lineitem"](lang)
        notice = _M["who" if found.name else "who_anon"].format(name=found.name, title=found.title or found.exercise,
                      where=where)(lang)
        base = f"/lti/page/{found.token}"
        html = render_upload_page(lang, [], course().title, False, str(request.base_url).rstrip("/"), here=base,
                                  action=f"/lti/upload/{found.token}", api=f"/lti/grade/{found.token}",
                                  fixed=(found.exercise, ex.title), notice=notice)
        return HTMLResponse(html, headers=framed(page_headers, found))

    async def grade_and_send(request: Request, found: Launch):
        stored, lang, color, cached = await host.receive_upload(request, exercise=found.exercise, authorized=True)
        sent: Sent = await run_in_threadpool(post_score, tool_config, found, stored.result, session)
        # What a TA needs to enter a score the LMS did not take: the result, the user, the link.
        log.info("lti score id=%s exercise=%s score=%g/%g sent=%s reason=%s user=%s link=%s%s", stored.id,
                 found.exercise, sent.score, sent.maximum, "yes" if sent.sent else "no", sent.reason or "-",
                 found.user[:64], found.resource_link[:64], f" detail={sent.detail}" if sent.detail else "")
        if sent.sent:
            text = _M["sent"].format(score=f"{sent.score:g}", max=f"{sent.maximum:g}")
        else:
            text = _M[sent.reason].format(id=stored.id) if sent.reason == "post_failed" else _M[sent.reason]
        return stored, lang, color, cached, sent, text

    async def grade(request: Request) -> Response:
        lang = host.lang_of(request.query_params.get("lang"))
        try:
            found = launched(request)
        except Refusal as r:
            return host.refused(request, r, lang)
        try:
            stored, lang, color, cached, sent, text = await grade_and_send(request, found)
        except Refusal as r:
            return host.refused(request, r, r.lang)
        body = await run_in_threadpool(host.answer_json, stored, lang, color, cached)
        body["report_url"] = f"/lti/report/{found.token}/{stored.id}?lang={lang}"
        body["lti"] = {"sent": sent.sent, "reason": sent.reason, "error": sent.reason in ("post_failed", "grader_error"),
                       "score": sent.score, "max": sent.maximum, "message": text(lang)}
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    async def upload(request: Request) -> Response:
        """The page's form without its script: a page with the score, what the LMS got, the report."""
        from ...reports.text import html_text as esc
        lang = host.lang_of(request.query_params.get("lang"))
        try:
            found = launched(request)
        except Refusal as r:
            return message(request, lang, r)
        try:
            stored, lang, _, _, sent, text = await grade_and_send(request, found)
        except Refusal as r:
            return HTMLResponse(render_message_page(r.lang, _M["title"], r.msg(r.lang), r.status,
                                                    back=f"/lti/page/{found.token}"),
                                status_code=r.status, headers={**r.headers, **framed(page_headers, found)})
        link = (f'<p><a id="report" href="/lti/report/{found.token}/{stored.id}?lang={lang}">'
                f'{esc(_M["report"](lang))}</a></p>')
        # Graded either way (200); the message says whether the LMS got the score.
        page = render_message_page(lang, _M["result"], text(lang), 200, back=f"/lti/page/{found.token}",
                                   ok=sent.sent, extra=link)
        return HTMLResponse(page, status_code=200, headers=framed(page_headers, found))

    async def report(request: Request) -> Response:
        try:
            found = launched(request)
        except Refusal as r:
            return message(request, host.lang_of(request.query_params.get("lang")), r)
        return await host.report(request, framed(host.report_headers, found), framed(page_headers, found),
                                 back=f"/lti/page/{found.token}")

    return [
        Route("/lti/login", login, methods=["GET", "POST"]),
        Route("/lti/launch", launch, methods=["POST"]),
        Route("/lti/jwks", jwks, methods=["GET"]),
        Route("/lti/page/{token}", page, methods=["GET"]),
        Route("/lti/grade/{token}", grade, methods=["POST"]),
        Route("/lti/upload/{token}", upload, methods=["POST"]),
        Route("/lti/report/{token}/{id}", report, methods=["GET"]),
    ]


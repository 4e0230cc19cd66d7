"""LTI 1.3 in ``grade serve`` (issue 23), end to end over HTTP on loopback.

The real server (``python -m grader serve --lti-config FILE``) and a small platform in the tests
(``lti_platform``: real RS256 keys, JWKS, OIDC authorization, token endpoint, line items): a
student launched from the LMS grades, and the platform receives the score and a per-check comment;
a forged, replayed or misdeployed launch is refused; an LMS that cannot take the score is said to
the student, and the service keeps serving.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
pytest.importorskip("multipart")
pytest.importorskip("pylti1p3")

from lti_platform import Browser, Platform, new_key  # noqa: E402
from serving import ROOT, Server, env  # noqa: E402

REFERENCE = ROOT / "reference"
SUBMISSIONS = ROOT / "tests" / "submissions"


@pytest.fixture(scope="module")
def platform():
    p = Platform().start()
    yield p
    p.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory, platform):
    tmp = tmp_path_factory.mktemp("lti")
    made = subprocess.run([sys.executable, "-m", "grader", "serve", "--lti-make-keys", str(tmp / "keys")],
                          env=env(), capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    config = tmp / "lti.json"
    config.write_text(json.dumps(platform.tool_config("keys/private.key", "keys/public.key")), encoding="utf-8")
    with Server(tmp, "--workers", "1", "--rate", "0", "--lti-config", str(config)) as s:
        platform.tool_jwks_url = s.url + "lti/jwks"
        yield s


def launch(server, platform, tamper=None, browser=None, **prepared):
    """A student opens the link in the LMS: (browser, status, final URL, page, token or None)."""
    browser = browser or Browser()
    status, url, page = browser.launch(platform.login_url(server.url, platform.prepare(**prepared)), tamper)
    m = re.search(r"/lti/page/([\w-]+)$", url)
    return browser, status, url, page, (m[1] if m else None)


def upload(server, token: str, path, name: str | None = None, api: str = "grade"):
    from grader.serve.client import _multipart
    body, ctype = _multipart({"lang": "en"}, (name or path.name, path.read_bytes()))
    return server.request("POST", f"/lti/{api}/{token}", body, {"Content-Type": ctype})


def log_mark(server) -> int:
    """Where the server's log ends now: ``logged_since`` reads only what came after."""
    return server.log.stat().st_size


def logged_since(server, mark: int) -> str:
    return server.log.read_bytes()[mark:].decode("utf-8", "replace")


def test_jwks_has_the_tools_public_key_only(server):
    keys = server.get("/lti/jwks").json()["keys"]
    assert len(keys) == 1 and keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256" and keys[0]["kid"]
    assert "d" not in keys[0] and "p" not in keys[0]


def test_a_right_answer_sends_the_full_score(server, platform):
    _, status, url, page, token = launch(server, platform, sub="student-1", custom={"exercise": "counter_lck"},
                                         lineitem=7)
    assert status == 200 and token, page
    assert len(token) >= 40  # 256 random bits
    assert "counter_lck" in page and f'data-api="/lti/grade/{token}"' in page
    assert "Student student-1" in page and 'name="course_key"' not in page

    answer = upload(server, token, REFERENCE / "counter_lck.py")
    assert answer.status == 200, answer.text
    body = answer.json()
    top = sum(t["max_score"] for t in body["tests"])
    assert body["lti"]["sent"] is True and body["lti"]["score"] == top == body["score"]
    assert f"{top:g} / {top:g}" in body["lti"]["message"]
    assert body["report_url"].startswith(f"/lti/report/{token}/")

    [score] = platform.scores_for(7)
    assert score["scoreGiven"] == score["scoreMaximum"] == top
    assert score["userId"] == "student-1"
    assert score["activityProgress"] == "Completed" and score["gradingProgress"] == "FullyGraded"
    assert score["timestamp"]
    lines = score["comment"].splitlines()
    assert [line.split()[1] for line in lines] == [t["name"].split(":")[0] for t in body["tests"]]
    assert [line.split()[2] for line in lines] == [f"{t['score']:g}/{t['max_score']:g}" for t in body["tests"]]
    assert all(line.startswith("✓ ") for line in lines)
    # The tool proved itself with its own key, which the platform read from /lti/jwks.
    assert platform.token_requests and platform.token_requests[-1]["iss"] == platform.client_id

    report = server.get(body["report_url"])
    assert report.status == 200 and "frame-ancestors 'self' " + platform.url in report.headers["Content-Security-Policy"]


def test_a_failing_answer_sends_a_lower_score(server, platform):
    *_, token = launch(server, platform, sub="student-2", custom={"exercise": "counter_lck"}, lineitem=8)
    answer = upload(server, token, SUBMISSIONS / "counter_lck" / "counter_no_lock.py")
    assert answer.status == 200, answer.text
    body = answer.json()
    assert body["lti"]["sent"] is True
    [score] = platform.scores_for(8)
    assert score["scoreGiven"] < score["scoreMaximum"] and score["scoreGiven"] == body["score"]
    assert score["userId"] == "student-2"
    assert any(line.startswith("✗ ") for line in score["comment"].splitlines())
    assert len(platform.token_requests) == 1  # the access token is kept: one request for both gradings


def test_the_form_without_script_says_the_score_went(server, platform):
    *_, token = launch(server, platform, sub="student-3", custom={"exercise": "counter_lck"}, lineitem=10)
    answer = upload(server, token, REFERENCE / "counter_lck.py", api="upload")
    assert answer.status == 200
    assert "was sent to the LMS" in answer.text and f"/lti/report/{token}/" in answer.text
    assert f'href="/lti/page/{token}?lang=' in answer.text and 'href="/?lang=' not in answer.text
    assert 'class="ok"' in answer.text
    assert len(platform.scores_for(10)) == 1
    missing = server.get(f"/lti/report/{token}/no-such-result")
    assert missing.status == 404
    assert "no such result" in missing.text or "この採点結果はありません" in missing.text
    assert "launch has expired" not in missing.text and "期限が切れた" not in missing.text
    assert "frame-ancestors 'self' " + platform.url in missing.headers["Content-Security-Policy"]


def test_the_exercise_from_the_links_title(server, platform):
    *_, page, token = launch(server, platform, sub="student-4", title="counter_smp (lecture 11)", lineitem=None)
    assert token, page
    assert 'name="exercise" value="counter_smp"' in page
    assert "sends no score" in page


def test_the_lms_may_frame_the_page_and_no_one_else(server, platform):
    school = "https://school.instructure.example"
    browser, status, _, page, token = launch(
        server, platform, sub="student-12", custom={"exercise": "counter_lck"},
        **{"https://purl.imsglobal.org/spec/lti/claim/launch_presentation": {"return_url": school + "/courses/1"}})
    assert status == 200 and token, page
    csp = browser.headers["Content-Security-Policy"]
    assert f"frame-ancestors 'self' {platform.url} {school}" in csp
    assert "frame-ancestors 'none'" in server.get("/").headers["Content-Security-Policy"]


def test_a_link_naming_no_exercise_is_refused_with_why(server, platform):
    _, status, _, page, token = launch(server, platform, sub="student-5", title="Homework")
    assert status == 400 and token is None
    assert "exercise=" in page and "counter_lck" in page


def test_a_forged_token_is_refused(server, platform):
    before, mark = len(platform.scores), log_mark(server)
    _, status, _, page, token = launch(server, platform, sub="mallory", custom={"exercise": "counter_lck"},
                                       key=new_key())
    assert status == 400 and token is None
    assert "launch from the LMS was refused" in page or "起動を受け付けられません" in page
    logged = logged_since(server, mark)
    assert "decode id_token" in logged or "Signature" in logged
    # The refusal page names no launch; grading with whatever it gave posts nothing to the LMS.
    assert "/lti/page/" not in page and "/lti/grade/" not in page
    assert 'href="/?lang=' not in page  # no way back to the course-key page the LMS cannot frame
    answer = upload(server, token or "mallory", REFERENCE / "counter_lck.py")
    assert answer.status == 401 and answer.json()["error"]["code"] == "launch_expired"
    assert len(platform.scores) == before


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c", "eyJhbGciOiJub25lIn0.e30."])
def test_a_malformed_token_is_refused_with_a_page(server, platform, token):
    def tamper(fields):
        fields["id_token"] = token
    _, status, _, page, found = launch(server, platform, sub="student-11", custom={"exercise": "counter_lck"},
                                       tamper=tamper)
    assert status == 400 and found is None and "<!DOCTYPE html>" in page


def test_an_unknown_platform_cannot_log_in(server, platform):
    status, _, page = Browser().open(server.url + "lti/login?iss=https://evil.example&login_hint=x")
    assert status == 400 and "<!DOCTYPE html>" in page


def test_a_replayed_launch_is_refused(server, platform):
    browser, status, *_ = launch(server, platform, sub="student-6", custom={"exercise": "counter_lck"})
    assert status == 200
    action, fields = browser.last_form
    mark = log_mark(server)
    status, _, page = browser.open(action, fields)  # the same id_token, state cookie still there
    assert status == 400 and "Invalid Nonce" in logged_since(server, mark)


def test_a_launch_without_the_state_cookie_is_refused(server, platform):
    # The platform's form, posted from another browser: the state cookie is not there.
    _, _, page = Browser().open(platform.login_url(server.url, platform.prepare(
        sub="student-7", custom={"exercise": "counter_lck"})))
    action = re.search(r'action="([^"]+)"', page)[1]
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', page))
    mark = log_mark(server)
    status, _, page = Browser().open(action, fields)
    assert status == 400 and "State not found" in logged_since(server, mark)


def test_a_wrong_deployment_is_refused(server, platform):
    mark = log_mark(server)
    _, status, _, page, token = launch(server, platform, sub="student-8", custom={"exercise": "counter_lck"},
                                       deployment_id="not-registered")
    assert status == 400 and token is None
    assert "not-registered" in logged_since(server, mark)


def test_an_lms_that_cannot_take_the_score_is_said_and_the_service_goes_on(server, platform):
    *_, token = launch(server, platform, sub="student-9", custom={"exercise": "counter_lck"}, lineitem=9)
    mark = log_mark(server)
    platform.token_down = True
    platform.revoke_tokens()  # the token the tool keeps is refused, and no new one is given
    try:
        answer = upload(server, token, REFERENCE / "counter_lck.py")
        assert answer.status == 200, answer.text
        body = answer.json()
        assert body["lti"]["sent"] is False and body["lti"]["error"] is True
        assert "the score could not be sent to the LMS; your TA has it" in body["lti"]["message"]
        assert body["id"] in body["lti"]["message"]
        page = upload(server, token, REFERENCE / "counter_lck.py", api="upload")
        assert "could not be sent to the LMS" in page.text
        assert platform.scores_for(9) == []
        assert server.health()["status"] == "ok"
        assert re.search(r"lti score id=\S+ .*sent=no reason=post_failed", logged_since(server, mark))
    finally:
        platform.token_down = False
    again = upload(server, token, REFERENCE / "counter_lck.py")  # the next grading sends its score
    assert again.json()["lti"]["sent"] is True and len(platform.scores_for(9)) == 1


def test_an_unknown_launch_is_refused(server):
    from grader.serve.client import _multipart
    body, ctype = _multipart({}, ("counter_lck.py", (REFERENCE / "counter_lck.py").read_bytes()))
    answer = server.request("POST", "/lti/grade/not-a-launch", body, {"Content-Type": ctype})
    assert answer.status == 401 and answer.json()["error"]["code"] == "launch_expired"
    assert server.get("/lti/page/not-a-launch").status == 401


def test_an_unusable_lti_config_is_said_in_one_line(tmp_path):
    (tmp_path / "lti.json").write_text('{"https://lms.example": {"client_id": "x"}}', encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "grader", "serve", "--port", "0", "--db", str(tmp_path / "r.db"),
                          "--lti-config", str(tmp_path / "lti.json")], cwd=tmp_path, env=env(),
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "lacks" in run.stderr or "ありません" in run.stderr
    assert "Traceback" not in run.stderr


def test_behind_an_https_proxy_the_state_cookie_may_cross_sites(tmp_path, server, platform):
    """The platform posts the launch from its own site: over https the state cookie is
    ``SameSite=None; Secure`` (else the browser would not send it), and the launch URL is https."""
    import http.client
    from urllib.parse import parse_qs, urlsplit

    with Server(tmp_path, "--workers", "1", "--lti-config", str(server.tmp / "lti.json"),
                "--forwarded-allow-ips", "127.0.0.1") as behind:
        where = urlsplit(behind.url)
        hint = platform.prepare(sub="student-10", custom={"exercise": "counter_lck"})
        login = urlsplit(platform.login_url(behind.url, hint))
        conn = http.client.HTTPConnection(where.hostname, where.port, timeout=60)
        conn.request("GET", f"{login.path}?{login.query}",
                     headers={"X-Forwarded-Proto": "https", "Host": "grader.example.ac.jp"})
        answer = conn.getresponse()
        answer.read()
        conn.close()
    assert answer.status == 302
    cookie = answer.getheader("Set-Cookie")
    assert cookie.startswith("lti1p3-state-") and "Secure" in cookie and "SameSite=none" in cookie.replace("None", "none")
    assert "HttpOnly" in cookie
    sent = parse_qs(urlsplit(answer.getheader("Location")).query)
    assert sent["redirect_uri"] == ["https://grader.example.ac.jp/lti/launch"]
    assert sent["state"][0] in cookie and sent["nonce"][0]

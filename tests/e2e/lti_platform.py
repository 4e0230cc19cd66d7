"""A small LTI 1.3 platform for the tests: what Moodle or Canvas does for a tool, on loopback.

Real RS256 keys made at start-up; ``/jwks`` (its public key); ``/auth`` (the OIDC authorization
endpoint: it answers the tool's login redirect with the auto-posting form of a signed id_token);
``/token`` (checks the tool's client assertion against the tool's own ``/lti/jwks`` and issues an
access token); ``/lineitems/{n}/lineitem/scores`` (records the scores posted with a token it issued).

A test prepares a launch (``prepare``: who, which link, which claims, signed with which key) and
drives the browser's part itself (``Browser``): no browser needed. Standard library http.server in
a thread, plus PyJWT and cryptography (both come with pylti1p3).
"""
from __future__ import annotations

import base64
import html
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def jwk(key: rsa.RSAPrivateKey, kid: str) -> dict:
    def b64(n: int) -> str:
        return base64.urlsafe_b64encode(n.to_bytes((n.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()
    numbers = key.public_key().public_numbers()
    return {"kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid, "n": b64(numbers.n), "e": b64(numbers.e)}


@dataclass
class Prepared:
    """One launch the platform will make: the claims of its id_token and the key it signs with."""

    sub: str
    claims: dict
    key: rsa.RSAPrivateKey | None = None
    kid: str | None = None


@dataclass
class Platform:
    client_id: str = "grader-tool"
    deployment_id: str = "deploy-1"
    kid: str = "platform-key-1"
    key: rsa.RSAPrivateKey = field(default_factory=new_key)
    tool_jwks_url: str = ""
    token_down: bool = False
    scores: list = field(default_factory=list)
    token_requests: list = field(default_factory=list)
    refused: list = field(default_factory=list)
    _launches: dict = field(default_factory=dict)
    _tokens: set = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> "Platform":
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet: pytest shows what fails
                pass

            def do_GET(self):
                platform._get(self)

            def do_POST(self):
                platform._post(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- what a course's LMS administrator registers ---------------------------------------------

    @property
    def issuer(self) -> str:
        return self.url

    def tool_config(self, private_key_file: str, public_key_file: str, deployment_ids=None) -> dict:
        """The tool's JSON configuration (pylti1p3's format) for this platform."""
        return {self.issuer: {
            "client_id": self.client_id, "auth_login_url": self.url + "/auth",
            "auth_token_url": self.url + "/token", "key_set_url": self.url + "/jwks",
            "private_key_file": private_key_file, "public_key_file": public_key_file,
            "deployment_ids": deployment_ids or [self.deployment_id]}}

    def prepare(self, sub: str = "student-1", title: str = "Lecture 11: counters",
                custom: dict | None = None, lineitem: int | None = 7, deployment_id: str | None = None,
                key: rsa.RSAPrivateKey | None = None, **extra) -> str:
        """A launch for the next login: returns its ``lti_message_hint``."""
        hint = "link-" + secrets.token_hex(6)
        claims = {
            CLAIM + "message_type": "LtiResourceLinkRequest", CLAIM + "version": "1.3.0",
            CLAIM + "deployment_id": deployment_id or self.deployment_id,
            CLAIM + "resource_link": {"id": "rl-" + hint, "title": title},
            CLAIM + "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
            CLAIM + "launch_presentation": {"locale": "en"},
            "name": f"Student {sub}",
        }
        if custom is not None:
            claims[CLAIM + "custom"] = custom
        if lineitem is not None:
            claims[AGS] = {"scope": [SCORE, LINEITEM], "lineitem": f"{self.url}/lineitems/{lineitem}/lineitem",
                           "lineitems": f"{self.url}/lineitems"}
        claims.update(extra)
        self._launches[hint] = Prepared(sub, claims, key)
        return hint

    def login_url(self, tool_url: str, hint: str) -> str:
        """Where the LMS sends the browser first: the tool's login initiation."""
        sub = self._launches[hint].sub
        return tool_url.rstrip("/") + "/lti/login?" + urlencode({
            "iss": self.issuer, "login_hint": sub, "target_link_uri": tool_url.rstrip("/") + "/lti/launch",
            "lti_message_hint": hint, "client_id": self.client_id, "lti_deployment_id": self.deployment_id})

    def revoke_tokens(self) -> None:
        """Every access token issued so far is refused from now on (as after a platform restart)."""
        with self._lock:
            self._tokens.clear()

    def scores_for(self, lineitem: int) -> list[dict]:
        with self._lock:
            return [body for path, _, body in self.scores if path == f"/lineitems/{lineitem}/lineitem/scores"]

    # -- the endpoints ----------------------------------------------------------------------------

    def _send(self, h, status: int, body: bytes | str, ctype: str = "application/json") -> None:
        data = body.encode() if isinstance(body, str) else body
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def _refuse(self, h, status: int, why: str) -> None:
        with self._lock:
            self.refused.append(why)
        self._send(h, status, json.dumps({"error": why}))

    def _get(self, h) -> None:
        url = urlsplit(h.path)
        if url.path == "/jwks":
            return self._send(h, 200, json.dumps({"keys": [jwk(self.key, self.kid)]}))
        if url.path == "/auth":
            return self._auth(h, {k: v[0] for k, v in parse_qs(url.query).items()})
        self._send(h, 404, "{}")

    def _auth(self, h, q: dict) -> None:
        expected = {"scope": "openid", "response_type": "id_token", "response_mode": "form_post",
                    "prompt": "none", "client_id": self.client_id}
        for k, v in expected.items():
            if q.get(k) != v:
                return self._refuse(h, 400, f"auth: {k}={q.get(k)!r}")
        prepared = self._launches.get(q.get("lti_message_hint", ""))
        if prepared is None or q.get("login_hint") != prepared.sub or not q.get("nonce") or not q.get("state"):
            return self._refuse(h, 400, "auth: unknown launch, login hint, or no nonce/state")
        now = int(time.time())
        body = {"iss": self.issuer, "aud": self.client_id, "sub": prepared.sub, "iat": now, "exp": now + 300,
                "nonce": q["nonce"], CLAIM + "target_link_uri": q["redirect_uri"], **prepared.claims}
        token = jwt.encode(body, pem(prepared.key or self.key), algorithm="RS256", headers={"kid": self.kid})
        form = (f'<form id="f" method="post" action="{html.escape(q["redirect_uri"])}">'
                f'<input type="hidden" name="id_token" value="{html.escape(token)}">'
                f'<input type="hidden" name="state" value="{html.escape(q["state"])}"></form>'
                '<script>document.getElementById("f").submit()</script>')
        self._send(h, 200, form, "text/html; charset=utf-8")

    def _post(self, h) -> None:
        url = urlsplit(h.path)
        data = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        if url.path == "/token":
            return self._token(h, {k: v[0] for k, v in parse_qs(data.decode()).items()})
        if re.fullmatch(r"/lineitems/\d+/lineitem/scores", url.path):
            return self._score(h, url.path, data)
        self._send(h, 404, "{}")

    def _token(self, h, form: dict) -> None:
        if self.token_down:
            return self._send(h, 503, json.dumps({"error": "temporarily_unavailable"}))
        if form.get("grant_type") != "client_credentials" or form.get("client_assertion_type") != ASSERTION_TYPE:
            return self._refuse(h, 400, "token: grant")
        assertion = form.get("client_assertion", "")
        try:  # the tool's key, from the tool's own JWKS, as a platform does
            with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(self.tool_jwks_url, timeout=30) as r:
                keys = json.loads(r.read())["keys"]
            kid = jwt.get_unverified_header(assertion).get("kid")
            key = next(k for k in keys if k.get("kid") == kid)
            claims = jwt.decode(assertion, jwt.PyJWK(key).key, algorithms=["RS256"],
                                audience=self.url + "/token", options={"require": ["exp", "iat", "jti"]})
        except Exception as exc:
            return self._refuse(h, 401, f"token: assertion {type(exc).__name__}: {exc}")
        if claims.get("iss") != self.client_id or claims.get("sub") != self.client_id:
            return self._refuse(h, 401, "token: iss/sub")
        if SCORE not in form.get("scope", "").split():
            return self._refuse(h, 400, "token: scope")
        access = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens.add(access)
            self.token_requests.append(claims)
        self._send(h, 200, json.dumps({"access_token": access, "token_type": "Bearer", "expires_in": 3600,
                                       "scope": form["scope"]}))

    def _score(self, h, path: str, data: bytes) -> None:
        auth = h.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self._tokens:
            return self._refuse(h, 401, "score: token")
        if h.headers.get("Content-Type") != SCORE_TYPE:
            return self._refuse(h, 415, f"score: content type {h.headers.get('Content-Type')!r}")
        body = json.loads(data)
        with self._lock:
            self.scores.append((path, h.headers.get("Content-Type"), body))
        self._send(h, 200, "{}")


class Browser:
    """A student's browser, as far as LTI needs one: cookies, redirects, the auto-posting form."""

    def __init__(self):
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                                  urllib.request.HTTPCookieProcessor(self.jar))

    def open(self, url: str, form: dict | None = None):
        data = urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(urllib.request.Request(url, data=data), timeout=120) as r:
                self.headers = r.headers
                return r.status, r.geturl(), r.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            with exc:
                self.headers = exc.headers
                return exc.code, exc.geturl(), exc.read().decode("utf-8")

    def launch(self, login_url: str, tamper=None):
        """Login → the platform's auto-posting form → the tool's launch: (status, final URL, page).
        ``tamper(fields)`` may change the posted form first (a forged token, a replay...)."""
        status, _, page = self.open(login_url)
        assert status == 200, page
        action = html.unescape(re.search(r'action="([^"]+)"', page)[1])
        fields = {m[1]: html.unescape(m[2]) for m in re.finditer(r'name="(\w+)" value="([^"]*)"', page)}
        if tamper is not None:
            tamper(fields)
        self.last_form = (action, dict(fields))
        return self.open(action, fields)

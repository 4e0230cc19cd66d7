"""pylti1p3 seen through Starlette: its abstract request, cookie service, session service and
redirect, and the login and launch classes built from them (pylti1p3 ships Django and Flask ones).

pylti1p3 is synchronous and fetches the platform's keys over HTTP, so these objects are made from
what the async handler has already read (parameters, cookies, whether the request came over
https) and used in the thread pool; the cookies it sets are copied onto the Starlette response.
"""
from __future__ import annotations

from typing import Any, Mapping

import requests
from pylti1p3.cookie import CookieService
from pylti1p3.message_launch import MessageLaunch
from pylti1p3.oidc_login import OIDCLogin
from pylti1p3.redirect import Redirect
from pylti1p3.request import Request
from pylti1p3.session import SessionService
from starlette.responses import RedirectResponse, Response

HTTP_SECONDS = 10.0
"""Every call to the platform (its keys, its token endpoint, its scores) gives up after this."""


class PlatformSession(requests.Session):
    """requests with a bound on every call: pylti1p3 passes none, and a hung LMS must not hold a
    thread of the service for ever."""

    def __init__(self) -> None:
        super().__init__()
        self.headers["User-Agent"] = "concurrency-grader (pylti1p3)"

    def request(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("timeout", HTTP_SECONDS)
        return super().request(*args, **kwargs)


class LtiRequest(Request):
    """A request's parameters (query or form), cookies and scheme, read beforehand."""

    def __init__(self, params: Mapping[str, str], cookies: Mapping[str, str], secure: bool):
        super().__init__()
        self._params, self._cookies, self._secure = dict(params), dict(cookies), secure

    def get_param(self, key: str) -> str:
        return self._params.get(key)  # type: ignore[return-value]

    def get_cookie(self, key: str) -> str | None:
        return self._cookies.get(key)

    def is_secure(self) -> bool:
        return self._secure


class LtiCookies(CookieService):
    """Cookies read from the request; those pylti1p3 sets are written onto the response.
    Over https they are ``SameSite=None; Secure``: the platform posts the launch from its own
    site, and the state cookie must come with that post."""

    def __init__(self, request: LtiRequest):
        self._request = request
        self._to_set: dict[str, tuple[str, int | None]] = {}

    def _key(self, name: str) -> str:
        return f"{self._cookie_prefix}-{name}"

    def get_cookie(self, name: str) -> str | None:
        return self._request.get_cookie(self._key(name))

    def set_cookie(self, name: str, value, exp: int | None = 3600) -> None:
        self._to_set[self._key(name)] = (str(value), exp)

    def update_response(self, response: Response) -> Response:
        secure = self._request.is_secure()
        for key, (value, exp) in self._to_set.items():
            response.set_cookie(key, value, max_age=exp, path="/", httponly=True, secure=secure,
                                samesite="none" if secure else "lax")
        return response


class LtiSession(SessionService):
    """pylti1p3's session service over the one shared ``OneTimeStore``. The launch data is not
    kept here (``LaunchStore`` keeps what grading needs), and a state is proved by its cookie
    only: no second post of an id_token is let through."""

    def __init__(self, store) -> None:  # no super().__init__: it would make a per-request storage
        self.data_storage = store

    def save_launch_data(self, key, jwt_body) -> None:
        pass

    def set_state_valid(self, state, id_token_hash) -> None:
        pass

    def check_state_is_valid(self, state, id_token_hash) -> bool:
        return False


class LtiRedirect(Redirect):
    def __init__(self, location: str, cookies: LtiCookies):
        super().__init__()
        self._location, self._cookies = location, cookies

    def do_redirect(self) -> Response:
        return self._cookies.update_response(RedirectResponse(self._location, status_code=302))

    def do_js_redirect(self) -> Response:
        return self.do_redirect()  # no script needed: a plain redirect

    def set_redirect_url(self, location: str) -> None:
        self._location = location

    def get_redirect_url(self) -> str:
        return self._location


class LtiLogin(OIDCLogin):
    """The OIDC third-party initiated login: checks the issuer (and client id), sets the state
    cookie, keeps the nonce and redirects to the platform's authorization endpoint."""

    def __init__(self, request: LtiRequest, tool_config, store):
        super().__init__(request, tool_config, session_service=LtiSession(store), cookie_service=LtiCookies(request))

    def get_redirect(self, url: str) -> LtiRedirect:
        return LtiRedirect(url, self._cookie_service)


class LtiLaunch(MessageLaunch):
    """The launch: state cookie, JWT format, nonce (taken once), registration, signature against
    the platform's JWKS, deployment id, message claims."""

    KEYS_CACHED_SECONDS = 300
    """The platform's key set is fetched once per this (a key rotation is seen within it)."""

    def __init__(self, request: LtiRequest, tool_config, store, keys_cache, session: requests.Session):
        super().__init__(request, tool_config, session_service=LtiSession(store), cookie_service=LtiCookies(request),
                         requests_session=session)
        self.set_public_key_caching(keys_cache, self.KEYS_CACHED_SECONDS)
        # pylti1p3 checks the audience itself (the registration's client id); a launch must also
        # say when it was made and when it expires.
        self.set_jwt_verify_options({"verify_aud": False, "require": ["exp", "iat"]})

    def _get_request_param(self, key: str) -> str:
        return self._request.get_param(key)

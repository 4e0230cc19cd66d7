"""A launched student's score, sent to the LMS through Assignment and Grade Services (AGS).

pylti1p3 does the protocol: a client-credentials grant at the platform's token endpoint with a
JWT signed by the tool's private key (its public half at ``/lti/jwks``), then the score posted to
the line item's ``/scores`` as ``application/vnd.ims.lis.v1.score+json``. The score is the
grading's total, the comment one line per check (``✓ tally 5/5``).

The access token is kept until it expires (``PlatformConnector``). One attempt per grading, bounded in time (``adapters.HTTP_SECONDS`` per call): a failure is logged
in one line and told to the student, and the result stays in the service for the TA. No retry in
the background: the student's next grading sends its own score (the LMS keeps the latest), and a
score the LMS never received is never said to be sent.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.exception import LtiServiceException
from pylti1p3.grade import Grade
from pylti1p3.service_connector import ServiceConnector

from .launches import Launch

log = logging.getLogger("grader.serve")
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"


class PlatformConnector(ServiceConnector):
    """pylti1p3's connector with its access tokens kept until they expire (one token request per
    platform and hour, not per grading); a token the platform no longer takes (401) is dropped and
    a new one asked for, once."""

    _tokens: dict[tuple[str, str], tuple[str, float]] = {}
    _lock = threading.Lock()

    def _key(self, scope_key: str) -> tuple[str, str]:
        return (str(self._registration.get_client_id()), scope_key)

    def _get_cached_access_token(self, scope_key: str) -> str | None:
        with self._lock:
            token, until = self._tokens.get(self._key(scope_key), ("", 0.0))
        return token if token and until > time.monotonic() else None

    def _cache_access_token(self, scope_key: str, access_token: str, expires_in: float) -> None:
        lifetime = float(expires_in or 0) - 60.0  # a margin: never sent just as it expires
        if lifetime > 0:
            with self._lock:
                self._tokens[self._key(scope_key)] = (access_token, time.monotonic() + lifetime)

    def make_service_request(self, scopes, url, *args, **kwargs):
        try:
            return super().make_service_request(scopes, url, *args, **kwargs)
        except LtiServiceException as exc:
            key = self._key(self._scope_key(sorted(scopes)))
            with self._lock:
                dropped = exc.response.status_code == 401 and self._tokens.pop(key, None) is not None
            if not dropped:
                raise
            return super().make_service_request(scopes, url, *args, **kwargs)


@dataclass(frozen=True)
class Sent:
    """What became of a score: sent, or why not (``reason``: a short code; ``detail``: for the log)."""

    sent: bool
    score: float
    maximum: float
    reason: str = ""
    detail: str = ""


def score_of(result: dict) -> tuple[float, float, str]:
    """The total, the maximum and the per-check comment of a stored result."""
    checks = result.get("checks", ())
    given = sum(float(c.get("points", 0)) for c in checks)
    top = sum(float(c.get("max_points", 0)) for c in checks)
    lines = [f"{'✓' if c.get('passed') else '✗'} {c['id']} {float(c.get('points', 0)):g}/{float(c.get('max_points', 0)):g}"
             for c in checks]
    return given, top, "\n".join(lines)


def _why(exc: Exception) -> str:
    if isinstance(exc, LtiServiceException):
        return f"the platform answered {exc.response.status_code}"
    return f"{type(exc).__name__}: {str(exc)[:200]}"


def post_score(tool_config, launch: Launch, result: dict, session) -> Sent:
    """Post ``result``'s score for ``launch``'s user; never raises."""
    given, top, comment = score_of(result)
    if not launch.lineitem or SCORE_SCOPE not in launch.scopes:
        return Sent(False, given, top, "no_lineitem")
    if any(c.get("error") for c in result.get("checks", ())):
        # The grader failed on a check (not the student): such a score would be wrong.
        return Sent(False, given, top, "grader_error")
    try:
        if tool_config.check_iss_has_one_client(launch.issuer):
            reg = tool_config.find_registration(launch.issuer)
        else:
            reg = tool_config.find_registration_by_params(launch.issuer, launch.client_id)
        ags = AssignmentsGradesService(PlatformConnector(reg, session),
                                       {"scope": launch.scopes, "lineitem": launch.lineitem})
        grade = (Grade().set_score_given(given).set_score_maximum(top)
                 .set_timestamp(datetime.now(timezone.utc).isoformat(timespec="milliseconds"))
                 .set_activity_progress("Completed").set_grading_progress("FullyGraded")
                 .set_user_id(launch.user).set_comment(comment))
        ags.put_grade(grade)
    except Exception as exc:  # the LMS down, refusing, answering nonsense: said, never raised
        return Sent(False, given, top, "post_failed", _why(exc))
    return Sent(True, given, top)

"""The LTI pieces of ``grade serve`` that need no server: the bounded stores, the exercise a launch
names, the score and its comment, the configuration's checks (tests/e2e/test_lti.py: the flow)."""
from __future__ import annotations

import json

import pytest

pytest.importorskip("pylti1p3")

from grader.model import GraderInputError  # noqa: E402
from grader.serve.lti.config import load_tool_config, make_keys  # noqa: E402
from grader.serve.lti.launches import Launch, LaunchStore, OneTimeStore  # noqa: E402
from grader.serve.lti.passback import post_score, score_of  # noqa: E402
from grader.serve.lti.routes import pick_exercise  # noqa: E402


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_nonce_is_taken_once():
    store = OneTimeStore()
    store.set_value("lti1p3-nonce-abc", True, exp=600)
    assert store.check_value("lti1p3-nonce-abc") is True
    assert store.check_value("lti1p3-nonce-abc") is False


def test_nonces_are_bounded_and_expire():
    store = OneTimeStore(limit=3, lifetime=600.0)
    clock = Clock()
    store._data.clock = clock
    for i in range(5):
        store.set_value(f"n{i}", True)
    assert len(store) == 3
    assert not store.check_value("n0") and store.check_value("n4")
    clock.now += 601
    assert not store.check_value("n3") and len(store) == 0


def test_launches_are_unguessable_and_expire():
    launches = LaunchStore(limit=10, lifetime=3600.0)
    clock = Clock()
    launches._data.clock = clock
    launch = Launch("iss", "client", "sub", "name", "rl", "title", "counter_lck", None)
    token = launches.add(launch)
    other = launches.add(Launch("iss", "client", "sub2", "name", "rl", "title", "counter_lck", None))
    assert len(token) >= 43 and token != other
    assert launches.get(token) is launch and launches.get(token[:-1]) is None and launches.get("") is None
    clock.now += 3601
    assert launches.get(token) is None


def test_the_exercise_a_launch_names():
    exercises = {"counter_lck": 1, "counter_smp": 2}
    assert pick_exercise({"exercise": "counter_smp"}, "counter_lck", exercises) == "counter_smp"
    assert pick_exercise({"exercise": "nope"}, "counter_lck", exercises) is None
    assert pick_exercise(None, "Lecture 11: counter_lck", exercises) == "counter_lck"
    assert pick_exercise({}, "counter_lck or counter_smp", exercises) is None
    assert pick_exercise(None, "Homework", exercises) is None


RESULT = {"checks": [{"id": "tally", "points": 5, "max_points": 5, "passed": True},
                     {"id": "lock", "points": 0, "max_points": 3, "passed": False}]}


def test_the_score_and_its_comment():
    assert score_of(RESULT) == (5.0, 8.0, "✓ tally 5/5\n✗ lock 0/3")


def test_no_score_is_sent_without_a_line_item_or_after_a_grader_error():
    launch = Launch("iss", "client", "sub", "name", "rl", "title", "counter_lck", None)
    assert post_score(None, launch, RESULT, None).reason == "no_lineitem"
    launch.lineitem, launch.scopes = "http://lms/li", ["https://purl.imsglobal.org/spec/lti-ags/scope/score"]
    broken = {"checks": [{**RESULT["checks"][0], "error": True}]}
    assert post_score(None, launch, broken, None).reason == "grader_error"


def test_the_configuration_is_checked_at_start(tmp_path):
    make_keys(str(tmp_path))
    with pytest.raises(GraderInputError):
        make_keys(str(tmp_path))  # never overwritten
    assert oct((tmp_path / "private.key").stat().st_mode & 0o777) == "0o600"
    good = {"https://lms.example": {"client_id": "c", "auth_login_url": "https://lms.example/auth",
                                    "auth_token_url": "https://lms.example/token",
                                    "key_set_url": "https://lms.example/jwks", "private_key_file": "private.key",
                                    "public_key_file": "public.key", "deployment_ids": ["1"]}}
    path = tmp_path / "lti.json"
    path.write_text(json.dumps(good), encoding="utf-8")
    assert load_tool_config(str(path)).get_jwks()["keys"][0]["kty"] == "RSA"
    for broken, said in [({**good["https://lms.example"], "deployment_ids": []}, "deployment_ids"),
                         ({**good["https://lms.example"], "private_key_file": "public.key"}, "private_key_file"),
                         ({**good["https://lms.example"], "public_key_file": "nope.key"}, "nope.key")]:
        path.write_text(json.dumps({"https://lms.example": broken}), encoding="utf-8")
        with pytest.raises(GraderInputError) as exc:
            load_tool_config(str(path))
        assert said in exc.value.msg.en
    path.write_text("{", encoding="utf-8")
    with pytest.raises(GraderInputError):
        load_tool_config(str(path))

"""The service's parts that need no server (issue 14): the results store and its bounds, the rate
limit, what decides a result, and the thin client's URL and form encoding."""
from __future__ import annotations

import sqlite3

import pytest

from grader.model import GraderInputError
from grader.serve.client import _multipart, server_url
from grader.serve.store import ResultStore
from grader.serve.workers import result_key


def _result(passed: bool, marker: str = "") -> dict:
    return {"exercise": "counter_lck", "checks": [
        {"id": "runs", "passed": True, "points": 1, "max_points": 1},
        {"id": "tally", "passed": passed, "points": 3 if passed else 0, "max_points": 3}], "output": marker}


def test_store_keeps_results_across_reopening(tmp_path):
    db = tmp_path / "r.sqlite3"
    s = ResultStore(db)
    kept = s.put("k1", "ab" * 32, "counter_lck", 1, "counter_lck.py", _result(False), 0.3)
    assert s.by_key("k1").id == kept.id and s.by_id(kept.id).result == _result(False)
    s.close()
    again = ResultStore(db)
    assert again.by_id(kept.id).result == _result(False) and again.stats()["results"] == 1
    row = sqlite3.connect(db).execute("SELECT sha256, exercise, seed, verdicts, passed FROM results").fetchone()
    assert row == ("ab" * 32, "counter_lck", 1, '{"runs": "passed", "tally": "failed"}', 0)


def test_store_same_key_twice_keeps_the_first(tmp_path):
    s = ResultStore(tmp_path / "r.sqlite3")
    a = s.put("k", "0" * 64, "counter_lck", 1, "a.py", _result(True, "first"), 0.1)
    b = s.put("k", "0" * 64, "counter_lck", 1, "a.py", _result(True, "second"), 0.1)
    assert a.id == b.id and b.result["output"] == "first" and s.stats()["results"] == 1


def test_store_is_bounded_least_recently_asked_first(tmp_path):
    s = ResultStore(tmp_path / "r.sqlite3", max_results=3)
    ids = [s.put(f"k{i}", "0" * 64, "counter_lck", i, "a.py", _result(True), 0.1).id for i in range(3)]
    s.by_id(ids[0])  # asked for again: now the most recent
    s.put("k3", "0" * 64, "counter_lck", 3, "a.py", _result(True), 0.1)
    assert s.stats()["results"] == 3
    assert s.by_id(ids[1]) is None and s.by_id(ids[0]) is not None and s.by_id(ids[2]) is not None
    small = ResultStore(tmp_path / "b.sqlite3", max_bytes=1)
    small.put("a", "0" * 64, "counter_lck", 1, "a.py", _result(True, "x" * 1000), 0.1)
    assert small.stats()["results"] == 0


def test_store_refuses_ids_of_another_shape(tmp_path):
    s = ResultStore(tmp_path / "r.sqlite3")
    assert s.by_id("") is None and s.by_id("../etc/passwd") is None and s.by_id("x' OR 1=1 --") is None


def test_store_that_cannot_be_opened_is_one_line(tmp_path):
    bad = tmp_path / "not.sqlite3"
    bad.write_bytes(b"this is not a database, " * 100)
    with pytest.raises(GraderInputError) as exc:
        ResultStore(bad)
    assert "not.sqlite3" in exc.value.msg.en and "\n" not in exc.value.msg.en


def test_result_key_changes_with_everything_a_result_shows():
    base = dict(content=b"x = 1\n", exercise="counter_lck", seed=1, name="counter_lck.py",
                path="counter_lck.py", explicit=False)
    k = result_key(**base)
    assert k == result_key(**base)
    for change in ({"content": b"x = 2\n"}, {"exercise": "counter_smp"}, {"seed": 2},
                   {"name": "s1_counter_lck.py"}, {"path": "lec11/counter_lck.py"}, {"explicit": True}):
        assert result_key(**{**base, **change}) != k, change


def test_rate_limit_bursts_then_refills():
    from grader.serve.app import RateLimiter  # needs the [serve] extra (Starlette)

    now = [0.0]
    r = RateLimiter(per_minute=6, burst=2, clock=lambda: now[0])
    assert r.take("a") == 0 and r.take("a") == 0
    wait = r.take("a")
    assert wait == 10  # 6 a minute: one every 10 s
    assert r.take("b") == 0  # another client has its own bucket
    now[0] += 10
    assert r.take("a") == 0 and r.take("a") > 0
    assert RateLimiter(per_minute=0, burst=5).take("a") == 0  # 0: no limit


def test_server_url_forms():
    assert server_url("host:8000") == "http://host:8000"
    assert server_url("http://host:8000/") == "http://host:8000"
    assert server_url(" https://grader.example.ac.jp/ ") == "https://grader.example.ac.jp"
    for bad in ("ftp://host", "http://", "://"):
        with pytest.raises(GraderInputError):
            server_url(bad)


def test_multipart_body_is_what_a_form_parser_reads():
    pytest.importorskip("multipart")
    import asyncio

    from starlette.requests import Request

    body, ctype = _multipart({"seed": "3", "exercise": "counter_lck"}, ('課題 "1"_counter_lck.py', b"x = 1\r\n"))
    scope = {"type": "http", "method": "POST", "path": "/", "headers": [(b"content-type", ctype.encode())],
             "query_string": b""}

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def read():
        form = await Request(scope, receive).form()
        upload = form["file"]
        return form["seed"], form["exercise"], upload.filename, await upload.read()

    seed, exercise, filename, data = asyncio.run(read())
    assert (seed, exercise, data) == ("3", "counter_lck", b"x = 1\r\n")
    assert filename in ('課題 "1"_counter_lck.py', "課題 %221%22_counter_lck.py")

"""Faults injected into a real ``grade serve``: a worker or the server killed with ``kill -9``, file
names no file can have. Every wait polls for what it needs within a generous bound; nothing here
depends on timing luck.
"""
from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from serving import ROOT, Server, alive, children, descendants  # noqa: E402  (tests/e2e, put on the path by pytest)

pytestmark = [pytest.mark.timeout(600),
              pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")]

CORRECT = (ROOT / "reference" / "counter_lck.py").read_bytes()
# Graded in a few seconds (each run stopped at its time limit): long enough to kill a worker mid-way.
SLOW = b"while True:\n    pass\n"


def _workers(server: int) -> list[int]:
    """The server's grading workers (spawned interpreters running multiprocessing's spawn_main)."""
    out = []
    for pid in children().get(server, ()):
        try:
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                out.append(pid)
        except OSError:
            pass
    return out


def _until(predicate, what: str, bound: float = 60.0) -> None:
    deadline = time.monotonic() + bound
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {bound} s: {what}")
        time.sleep(0.05)


def _student_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*.py")] if root.exists() else []


@pytest.fixture
def scratch(tmp_path, monkeypatch) -> Path:
    """A temporary folder of the test's own for the server and everything it starts."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    return tmp


def test_a_worker_killed_mid_grading_costs_no_other_grading_and_leaves_no_source(tmp_path, scratch):
    with Server(tmp_path, "--workers", "2", "--rate", "0") as s:
        answers: dict[str, int] = {}

        def send(name: str, data: bytes) -> None:
            answers[name] = s.post_file(name, data, exercise="counter_lck").status

        threads = [threading.Thread(target=send, args=(f"slow{i}.py", SLOW)) for i in range(2)]
        for t in threads:
            t.start()
        s.wait_for(lambda h: h["pool"]["running"] == 2, "two gradings under way")
        victim = _workers(s.proc.pid)[0]
        os.kill(victim, signal.SIGKILL)
        for t in threads:
            t.join(timeout=300)
        # both were tried once more on a fresh worker: graded (their report says they hang)
        assert answers == {"slow0.py": 200, "slow1.py": 200}, (answers, s.log_text()[-2000:])
        root = scratch / f"grader-serve-{s.proc.pid}"
        _until(lambda: not (root / f"w{victim}").exists(), "the dead worker's scratch tree removed")
        assert s.post_file("counter_lck.py", CORRECT).status == 200  # the service goes on
        assert s.health()["status"] == "ok"


def test_a_server_killed_leaves_no_process_and_no_student_file(tmp_path, scratch):
    s = Server(tmp_path, "--workers", "2", "--rate", "0")
    try:
        assert s.post_file("counter_lck.py", CORRECT).status == 200
        def send() -> None:
            try:
                s.post_file("slow.py", SLOW, exercise="counter_lck")
            except OSError:
                pass  # the server is killed under it: no answer is the point

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        s.wait_for(lambda h: h["pool"]["running"] == 1, "a grading under way")
        root = scratch / f"grader-serve-{s.proc.pid}"
        _until(lambda: _student_files(root), "the student's file in the worker's scratch tree")
        procs = descendants(s.proc.pid)
        assert len(procs) > 2, "workers and their engine children run"
        s.proc.send_signal(signal.SIGKILL)
        s.proc.wait()
        _until(lambda: not [p for p in procs if alive(p)], "every process of the server gone")
        _until(lambda: not _student_files(root), "no student file left on disk")
    finally:
        s.stop()
    with Server(tmp_path, "--rate", "0") as again:  # the next server removes what the dead one left
        assert not root.exists()
        assert again.health()["status"] == "ok"


@pytest.mark.parametrize("name", ["..", ".", "a/..", "x" * 250 + ".py" + "y" * 10])
def test_a_name_no_file_can_have_is_one_json_line_not_a_500(tmp_path, scratch, name):
    with Server(tmp_path, "--rate", "0") as s:
        answer = s.post_file(name, CORRECT, exercise="counter_lck")
        assert answer.status == 400, answer.text
        body = answer.json()
        assert body["error"]["code"] == "bad_name" and "\n" not in body["message"], body
        assert str(tmp_path) not in answer.text


def _storage_refused(answer) -> bool:
    return (answer.status == 503 and answer.headers.get("Retry-After")
            and answer.json()["error"]["code"] == "storage")


def test_a_database_deleted_or_made_read_only_is_noticed(tmp_path, scratch):
    data = tmp_path / "db"
    data.mkdir()
    with Server(tmp_path, "--rate", "0", db=data / "results.sqlite3") as s:
        first = s.post_file("counter_lck.py", CORRECT)
        assert first.status == 200 and s.health()["status"] == "ok"
        (data / "results.sqlite3").unlink()  # deleted under the running server
        s.wait_for(lambda h: h["status"] == "degraded" and h["store"]["problem"] == "lost", "degraded: lost",
                   bound=30)
        assert _storage_refused(s.post_file("other.py", CORRECT, exercise="counter_lck"))
        assert "results database" in s.log_text() and "(lost)" in s.log_text()
    with Server(tmp_path, "--rate", "0", db=data / "results.sqlite3") as s:
        assert s.post_file("counter_lck.py", CORRECT).status == 200
        if os.geteuid() != 0:  # root writes through a read-only mode
            os.chmod(data / "results.sqlite3", 0o444)
            os.chmod(data, 0o555)
            try:
                s.wait_for(lambda h: h["status"] == "degraded", "degraded: read-only", bound=30)
                assert _storage_refused(s.post_file("more.py", CORRECT, exercise="counter_lck"))
            finally:
                os.chmod(data, 0o755)
                os.chmod(data / "results.sqlite3", 0o644)


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small filesystem needs root")
def test_a_full_disk_is_noticed_and_reports_still_show(tmp_path, scratch):
    import subprocess

    small = tmp_path / "small"
    small.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(small)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        with Server(tmp_path, "--rate", "0", db=small / "results.sqlite3") as s:
            first = s.post_file("counter_lck.py", CORRECT)
            assert first.status == 200
            report = first.json()["report_url"] if "report_url" in first.json() else None
            with open(small / "filler", "wb") as f:  # the disk fills up
                try:
                    while True:
                        f.write(b"\0" * (1 << 20))
                except OSError:
                    pass
            s.wait_for(lambda h: h["status"] == "degraded" and h["store"]["problem"] == "full", "degraded: full",
                       bound=30)
            assert _storage_refused(s.post_file("other.py", CORRECT, exercise="counter_lck"))
            again = s.post_file("counter_lck.py", CORRECT)  # a resubmission is answered from what is kept
            assert again.status == 200, again.text
            if report:
                assert s.get(report.replace(s.url.rstrip("/"), "")).status == 200
            assert s.proc.poll() is None  # no SIGBUS, no exit
    finally:
        subprocess.run(["umount", "-l", str(small)], capture_output=True)


def _connect(url: str):
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return socket.create_connection((parts.hostname, parts.port), timeout=60)


def _read_all(sock) -> bytes:
    chunks = []
    while True:
        try:
            data = sock.recv(65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks)


def test_half_sent_requests_from_one_client_do_not_keep_others_out(tmp_path, scratch):
    from grader.serve.guard import HEADER_SECONDS, PER_CLIENT

    with Server(tmp_path, "--rate", "0") as s:
        stalled = []
        for _ in range(6 * PER_CLIENT):  # more than one client may hold: the oldest give way
            sock = _connect(s.url)
            sock.sendall(b"POST /api/grade HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data\r\n")
            stalled.append(sock)
        h = s.get("/healthz")
        assert h.status == 200 and h.json()["status"] == "ok"
        assert s.post_file("counter_lck.py", CORRECT).status == 200
        first = _read_all(stalled[0])  # the oldest was closed to make room, with a 408 and Retry-After
        assert first.startswith(b"HTTP/1.1 408") and b"Retry-After: 1" in first, first[:200]
        body = first.split(b"\r\n\r\n", 1)[1]
        assert body.count(b"\n") == 1 and json.loads(body)["error"]["code"] == "request_timeout"  # one JSON line
        last = stalled[-1]  # a recent one waits for its headers, then is closed the same way
        started = time.monotonic()
        answer = _read_all(last)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert time.monotonic() - started < HEADER_SECONDS + 30
        for sock in stalled:
            sock.close()


def test_stalled_uploads_are_bounded_and_refused_with_retry_after(tmp_path, scratch):
    with Server(tmp_path, "--rate", "0", "--uploads-at-once", "2") as s:
        head = (b"POST /api/grade HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                b"Content-Length: 16000000\r\n\r\n--b\r\n")
        stalled = []
        for _ in range(2):  # two uploads that send a little, then nothing
            sock = _connect(s.url)
            sock.sendall(head)
            stalled.append(sock)
        s.wait_for(lambda h: True, "up")  # (the two are being read now)
        deadline = time.monotonic() + 30
        while True:  # a third upload is refused while the two hold the room
            third = s.post_file("counter_lck.py", CORRECT)
            if third.status == 503 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert third.status == 503 and third.headers.get("Retry-After"), third.text
        assert third.json()["error"]["code"] == "uploads_busy"
        answer = _read_all(stalled[0])  # the stalled upload is dropped at its deadline
        assert answer.startswith(b"HTTP/1.1 408") and b"slow_upload" in answer, answer[:300]
        for sock in stalled:
            sock.close()
        _until(lambda: s.post_file("counter_lck.py", CORRECT).status == 200, "uploads taken again")


def test_a_forwarded_for_header_is_not_trusted_unless_the_ta_says_so(tmp_path, scratch):
    with Server(tmp_path, "--rate", "1") as s:
        first = s.post_file("counter_lck.py", CORRECT, headers={"X-Forwarded-For": "203.0.113.7"})
        assert first.status == 200
        second = s.post_file("counter_lck.py", CORRECT, headers={"X-Forwarded-For": "203.0.113.8"})
        assert second.status == 429 and second.headers.get("Retry-After"), second.text  # the same client
        assert "203.0.113" not in s.log_text()
    with Server(tmp_path, "--rate", "1", "--forwarded-allow-ips", "127.0.0.1") as s:
        assert s.post_file("counter_lck.py", CORRECT, headers={"X-Forwarded-For": "203.0.113.7"}).status == 200
        assert s.post_file("counter_lck.py", CORRECT, headers={"X-Forwarded-For": "203.0.113.8"}).status == 200


@pytest.mark.skipif(os.geteuid() != 0, reason="making a file immutable needs root")
def test_a_database_made_immutable_is_noticed_and_the_server_lives(tmp_path, scratch):
    import subprocess

    db = tmp_path / "results.sqlite3"
    with Server(tmp_path, "--rate", "0", db=db) as s:
        assert s.post_file("counter_lck.py", CORRECT).status == 200
        if subprocess.run(["chattr", "+i", str(db)], capture_output=True).returncode != 0:
            pytest.skip("no immutable files on this filesystem")
        try:
            s.wait_for(lambda h: h["status"] == "degraded", "degraded: immutable", bound=30)
            assert _storage_refused(s.post_file("other.py", CORRECT, exercise="counter_lck"))
            kept = s.post_file("counter_lck.py", CORRECT)  # answered from what is kept, or refused so
            assert kept.status == 200 or _storage_refused(kept), kept.text
        finally:
            subprocess.run(["chattr", "-i", str(db)], capture_output=True)
        s.wait_for(lambda h: h["status"] == "ok", "writable again", bound=30)
        assert s.proc.poll() is None and "cannot keep results" in s.log_text()

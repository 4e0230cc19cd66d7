"""``grade serve`` and ``grade FILE --server URL`` (issue 14), end to end over real HTTP.

The server is the real one (``python -m grader serve``) on a free loopback port; the client is the
real command. What a student sees through the service must be what ``grade FILE`` shows on the
server: the same report, the same results JSON, the same one-line reasons, the same exit status.
"""
from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
pytest.importorskip("multipart")

from serving import ROOT, Server, alive, descendants, grade  # noqa: E402

from grader.reports.gradescope import dumps  # noqa: E402

REFERENCE = ROOT / "reference"
SUBMISSIONS = ROOT / "tests" / "submissions"
EXTRA = ("id", "report_url", "exit_status", "terminal", "lang", "cached")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serve")
    with Server(tmp, "--workers", "2", "--rate", "0") as s:
        yield s


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """A student's folder: the model answer, the lecture's racy program and a few shapes."""
    d = tmp_path_factory.mktemp("student")
    shutil.copy(REFERENCE / "counter_lck.py", d / "counter_lck.py")
    shutil.copy(REFERENCE / "counter_mt.py", d / "counter_mt.py")
    shutil.copy(SUBMISSIONS / "counter_lck" / "cp932_try_finally.py", d / "s2212345_counter_lck.py")
    shutil.copy(SUBMISSIONS / "counter_lck" / "check_then_act.py", d / "check_then_act.py")
    shutil.copy(REFERENCE / "counter_lck.py", d / "課題 counter_lck (1).py")
    (d / "lec11").mkdir()
    shutil.copy(REFERENCE / "counter_smp.py", d / "lec11" / "counter_smp.py")
    return d


def results_json(answer: dict) -> dict:
    """The answer without the service's own fields: what ``grade --json`` writes."""
    return {k: v for k, v in answer.items() if k not in EXTRA}


# ------------------------------------------------------------------- graded as grade does


@pytest.mark.parametrize("args", [
    ("counter_lck.py",),
    ("counter_mt.py", "--exercise", "counter_lck"),
    ("counter_mt.py", "--exercise", "counter_lck", "--lang", "en", "--seed", "7"),
    ("s2212345_counter_lck.py", "--lang", "en"),
    ("check_then_act.py", "-e", "counter_lck"),
    ("lec11/counter_smp.py",),
    ("課題 counter_lck (1).py",),
], ids=["right", "racy", "racy-en-seed", "cp932", "check-then-act", "subfolder", "japanese-name"])
def test_thin_client_prints_what_grade_prints(server, work, args):
    local = grade(*args, cwd=work)
    remote = grade(*args, "--server", server.url, cwd=work)
    assert local.returncode in (0, 1), local.stderr
    assert (remote.stdout, remote.stderr, remote.returncode) == (local.stdout, local.stderr, local.returncode)


def test_server_from_the_environment(server, work):
    local = grade("counter_mt.py", "-e", "counter_lck", cwd=work)
    remote = grade("counter_mt.py", "-e", "counter_lck", cwd=work, GRADER_SERVER=server.url.rstrip("/"))
    assert (remote.stdout, remote.returncode) == (local.stdout, 1)


def test_api_answers_grade_json_and_the_report(server, work, tmp_path):
    local = grade("counter_mt.py", "--exercise", "counter_lck", "--json", str(tmp_path / "local.json"), cwd=work)
    assert local.returncode == 1
    a = server.post_file("counter_mt.py", (work / "counter_mt.py").read_bytes(), exercise="counter_lck")
    assert a.status == 200, a.text
    body = a.json()
    assert dumps(results_json(body)) == (tmp_path / "local.json").read_text(encoding="utf-8")
    assert body["exit_status"] == 1 and body["lang"] == "ja"
    failed = {t["name"].split(":")[0] for t in body["tests"] if t["status"] == "failed"}
    assert failed == {"tally", "lock"}
    assert body["terminal"] == local.stdout
    page = server.get(body["report_url"])
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    assert 'data-check="tally"' in page.text and "<svg" in page.text and 'lang="ja"' in page.text
    english = server.get(f"/report/{body['id']}?lang=en")
    assert english.status == 200 and 'lang="en"' in english.text and "Why checks failed" in english.text
    again = server.post_file("counter_mt.py", (work / "counter_mt.py").read_bytes(), exercise="counter_lck")
    assert again.json()["cached"] is True and again.json()["id"] == body["id"]
    assert results_json(again.json()) == results_json(body)


def test_right_answer_passes(server, work):
    a = server.post_file("counter_lck.py", (work / "counter_lck.py").read_bytes(), lang="en")
    assert a.status == 200, a.text
    body = a.json()
    assert body["exit_status"] == 0 and body["lang"] == "en"
    assert all(t["status"] == "passed" for t in body["tests"])
    assert body["score"] == sum(t["max_score"] for t in body["tests"])


def test_client_writes_the_same_json_and_html(server, work, tmp_path):
    args = ("counter_mt.py", "-e", "counter_lck", "--lang", "en")
    local = grade(*args, "--json", str(tmp_path / "l.json"), "--html", str(tmp_path / "l.html"), cwd=work)
    remote = grade(*args, "--json", str(tmp_path / "r.json"), "--html", str(tmp_path / "r.html"),
                   "--server", server.url, cwd=work)
    assert remote.returncode == local.returncode == 1
    assert (tmp_path / "r.json").read_bytes() == (tmp_path / "l.json").read_bytes()
    assert (tmp_path / "r.html").read_bytes() == (tmp_path / "l.html").read_bytes()


def test_client_writes_junit_like_grades(server, work, tmp_path):
    import xml.etree.ElementTree as ET

    def cases(path: Path) -> list[tuple]:
        root = ET.parse(path).getroot()
        return [(c.get("classname"), c.get("name"), [(f.tag, f.get("message")) for f in c])
                for c in root.iter("testcase")]

    local = grade("counter_mt.py", "-e", "counter_lck", "--junit", str(tmp_path / "l.xml"), cwd=work)
    remote = grade("counter_mt.py", "-e", "counter_lck", "--junit", str(tmp_path / "r.xml"),
                   "--server", server.url, cwd=work)
    assert remote.returncode == local.returncode == 1
    assert cases(tmp_path / "r.xml") == cases(tmp_path / "l.xml")  # times and timestamps aside


def test_unknown_report_is_404(server):
    assert server.get("/report/" + "A" * 24).status == 404
    assert server.get("/report/not-an-id").status == 404
    assert server.get("/report/" + "A" * 24 + "/results.json").status == 404
    assert server.get("/no/such/page").status == 404
    assert server.get("/api/nothing").json()["error"]["code"] == "not_found"


def test_health_and_one_log_line_per_submission_without_source(server, work):
    marker = "UNIQUE_MARKER_7f3a9"
    source = (work / "counter_lck.py").read_text(encoding="utf-8") + f"\n# {marker}\n"
    a = server.post_file("counter_lck.py", source.encode("utf-8"))
    assert a.status == 200
    h = server.health()
    assert h["status"] == "ok" and h["pool"]["workers"] == 2 and h["store"]["results"] >= 1
    log = server.log_text()
    assert f"graded id={a.json()['id']}" in log
    assert marker not in log
    assert "def counter" not in log


def test_upload_page_and_exercises(server):
    page = server.get("/")
    assert page.status == 200 and 'lang="ja"' in page.text and 'type="file"' in page.text
    assert f"--server {server.url.rstrip('/')}" in page.text
    assert 'lang="en"' in server.get("/?lang=en").text
    assert server.get("/page.js").status == 200
    ids = [e["id"] for e in server.get("/api/exercises").json()["exercises"]]
    assert {"counter_lck", "counter_pp", "counter_smp", "fizz_buzz_mt"} <= set(ids)
    hit = server.get("/api/infer?name=s2212345_counter_lck%20(1).py&lang=en").json()
    assert hit["exercise"] == "counter_lck"
    miss = server.get("/api/infer?name=hello.py&lang=en").json()
    assert miss["exercise"] is None and "--exercise" in miss["message"]


def test_form_without_script_redirects_to_the_report(server, work):
    from grader.serve.client import _multipart
    body, ctype = _multipart({"lang": "en"}, ("counter_lck.py", (work / "counter_lck.py").read_bytes()))
    a = server.request("POST", "/upload", body, {"Content-Type": ctype})
    # urllib follows the 303 to the report page itself
    assert a.status == 200 and "All checks passed." in a.text
    body, ctype = _multipart({"lang": "en"}, ("hello.py", b"print(1)\n"))
    bad = server.request("POST", "/upload", body, {"Content-Type": ctype})
    assert bad.status == 422 and "cannot tell which exercise hello.py is for" in bad.text


# ------------------------------------------------------------------------ bad uploads


def _bad_cases(tmp: Path) -> dict[str, tuple[str, bytes, dict, int, tuple[str, ...]]]:
    """name -> (file name, bytes, form fields, status, grade's extra arguments)."""
    return {
        "too_large": ("big_counter_lck.py", b"#" * (1024 * 1024 + 10), {}, 413, ()),
        "binary": ("counter_lck.py", b"\x00\x01\x02\x03ELF" * 20, {}, 400, ()),
        "empty": ("counter_lck.py", b"", {}, 400, ()),
        "blank": ("counter_lck.py", b"  \n\n\t\n", {}, 400, ()),
        "undecodable": ("counter_lck.py", b"x = '\x80\x80'\n" * 3, {}, 400, ()),
        "bad_notebook": ("counter_lck.ipynb", b'{"cells": [ {"cell_type": "code"', {}, 400, ()),
        "unknown_exercise": ("counter_lck.py", b"print(1)\n", {"exercise": "counter_lk"}, 422,
                             ("--exercise", "counter_lk")),
        "name_tells_nothing": ("hello.py", b"print(1)\n", {}, 422, ()),
        "not_python": ("counter_lck.txt", b"print(1)\n", {}, 415, ()),
    }


@pytest.mark.parametrize("case", list(_bad_cases(Path("."))))
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_bad_upload_is_refused_with_grades_own_line(server, tmp_path, case, lang):
    name, data, fields, status, extra = _bad_cases(tmp_path)[case]
    (tmp_path / name).write_bytes(data)
    local = grade(name, *extra, "--lang", lang, cwd=tmp_path)
    assert local.returncode == 2 and local.stdout == ""
    line = local.stderr
    assert line.count("\n") == 1 and line.startswith("grade: ")
    a = server.post_file(name, data, lang=lang, **fields)
    assert a.status == status, a.text
    body = a.json()
    assert body["message"] == line[len("grade: "):].rstrip("\n")
    assert {"ja", "en"} <= set(body["error"]) and body["exit_status"] == 2
    remote = grade(name, *extra, "--lang", lang, "--server", server.url, cwd=tmp_path)
    assert (remote.stdout, remote.stderr, remote.returncode) == ("", line, 2)


def test_missing_file_and_unknown_exercise_in_grades_order(server, tmp_path):
    for args in (("nothing.py", "--exercise", "nope"), ("nothing.py", "--exercise", "counter_lck"),
                 ("nothing_counter_lck.py",)):
        local = grade(*args, cwd=tmp_path)
        remote = grade(*args, "--server", server.url, cwd=tmp_path)
        assert local.returncode == 2
        assert (remote.stderr, remote.returncode) == (local.stderr, 2)


def test_malformed_requests(server):
    assert server.request("POST", "/api/grade", b"a=b", {"Content-Type": "application/x-www-form-urlencoded"}).status == 400
    no_file = server.post_fields(seed="1")
    assert no_file.status == 400 and no_file.json()["error"]["code"] == "no_file"
    assert server.post_file("counter_lck.py", b"print(1)\n", seed="x").status == 400
    assert server.post_file("counter_lck.py", b"print(1)\n", lang="fr").status == 400
    huge = server.request("POST", "/api/grade", b"x", {"Content-Type": "multipart/form-data; boundary=z",
                                                       "Content-Length": str(64 << 20)})
    assert huge.status in (413, 400)


def test_unreachable_server_is_one_line(tmp_path, work):
    proc = grade("counter_lck.py", "--server", "http://127.0.0.1:9", cwd=work)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "127.0.0.1:9" in proc.stderr and "Traceback" not in proc.stderr


# ------------------------------------------------------------------ key, limits, restart


def test_course_key(tmp_path, work):
    with Server(tmp_path, "--workers", "1", "--rate", "0", "--course-key", "s3cret-key") as s:
        data = (work / "counter_lck.py").read_bytes()
        missing = s.post_file("counter_lck.py", data, lang="en")
        assert missing.status == 401 and "course key" in missing.json()["message"]
        wrong = s.post_file("counter_lck.py", data, headers={"X-Course-Key": "guess"})
        assert wrong.status == 401 and wrong.json()["error"]["code"] == "course_key_wrong"
        assert s.post_file("counter_lck.py", data, headers={"X-Course-Key": "s3cret-key"}).status == 200
        assert s.post_file("counter_lck.py", data, course_key="s3cret-key").status == 200
        assert s.get("/healthz").status == 200 and s.get("/").status == 200  # nothing else needs the key
        refused = grade("counter_lck.py", "--server", s.url, cwd=work)
        assert refused.returncode == 2 and refused.stderr.count("\n") == 1 and "--course-key" in refused.stderr
        local = grade("counter_lck.py", cwd=work)
        by_option = grade("counter_lck.py", "--server", s.url, "--course-key", "s3cret-key", cwd=work)
        by_env = grade("counter_lck.py", "--server", s.url, cwd=work, GRADER_COURSE_KEY="s3cret-key")
        assert by_option.stdout == by_env.stdout == local.stdout and by_option.returncode == 0


HANG = b"while True:\n    pass\n"  # graded as counter_pp, whose runs may take 6 s each


def test_full_queue_answers_503_at_once(tmp_path, work):
    with Server(tmp_path, "--workers", "1", "--queue", "0", "--rate", "0") as s:
        first: dict = {}
        t = threading.Thread(target=lambda: first.update(a=s.post_file("hang_counter_pp.py", HANG)))
        t.start()
        try:
            s.wait_for(lambda h: h["pool"]["running"] == 1, "the first submission is being graded")
            busy = s.post_file("counter_lck.py", (work / "counter_lck.py").read_bytes(), lang="en")
            assert busy.status == 503, busy.text
            assert int(busy.headers["Retry-After"]) >= 1
            assert "busy" in busy.json()["message"] and busy.json()["error"]["code"] == "busy"
            assert s.health()["pool"]["refused"] >= 1
        finally:
            t.join(timeout=200)
        assert first["a"].status == 200
        runs = next(x for x in first["a"].json()["tests"] if x["name"].startswith("runs"))
        assert runs["status"] == "failed"
        # room again: the next one is graded
        assert s.post_file("counter_lck.py", (work / "counter_lck.py").read_bytes()).status == 200


def test_rate_limit_per_client(tmp_path, work):
    with Server(tmp_path, "--workers", "1", "--rate", "1") as s:
        data = (work / "counter_lck.py").read_bytes()
        assert s.post_file("counter_lck.py", data).status == 200
        again = s.post_file("counter_lck.py", data, lang="en")
        assert again.status == 429 and int(again.headers["Retry-After"]) >= 1
        assert "too many" in again.json()["error"]["en"]  # said before the form (and its lang) is read
        assert "too many" in s.request("POST", "/api/grade?lang=en").json()["message"]


def test_restart_keeps_results(tmp_path, work):
    db = tmp_path / "kept.sqlite3"
    data = (work / "counter_mt.py").read_bytes()
    with Server(tmp_path, "--workers", "1", "--rate", "0", db=db) as s:
        first = s.post_file("counter_mt.py", data, exercise="counter_lck").json()
        page = s.get(first["report_url"]).text
    with Server(tmp_path, "--workers", "1", "--rate", "0", db=db) as s:
        assert s.health()["store"]["results"] >= 1
        assert s.get(first["report_url"]).text == page
        again = s.post_file("counter_mt.py", data, exercise="counter_lck").json()
        assert again["cached"] is True and again["id"] == first["id"]
        assert results_json(again) == results_json(first)
        assert s.log_text().count("cached=no") == 0


# ------------------------------------------------------------------ the client's own needs


BLOCK = """
import sys, importlib.abc
HEAVY = {"yaml", "nbformat", "tqdm", "starlette", "uvicorn", "multipart", "python_multipart", "dask", "anyio"}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in HEAVY:
            raise ImportError(f"No module named {name!r} (blocked: not installed on this laptop)", name=name)
sys.meta_path.insert(0, Block())
from grader.cli.main import main
code = main(sys.argv[1:])
loaded = sorted(m for m in sys.modules if m.split(".")[0] in HEAVY)
assert not loaded, loaded
sys.exit(code)
"""


def test_client_needs_only_the_standard_library(server, work):
    import subprocess

    from serving import env
    for extra in ((), ("--lang", "en")):
        local = grade("counter_mt.py", "-e", "counter_lck", *extra, cwd=work)
        proc = subprocess.run([sys.executable, "-c", BLOCK, "counter_mt.py", "-e", "counter_lck", *extra,
                               "--server", server.url], cwd=work, env=env(), capture_output=True, text=True,
                              encoding="utf-8", timeout=120)
        assert (proc.stdout, proc.stderr, proc.returncode) == (local.stdout, local.stderr, 1)


def test_not_linux_says_to_use_a_server(monkeypatch, capsys):
    from grader.cli import main as cli

    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.delenv("GRADER_SERVER", raising=False)
    assert cli.main(["counter_lck.py", "--lang", "en"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert "Windows" in err and "grade counter_lck.py --server URL" in err and "GRADER_SERVER" in err
    assert cli.main(["counter_lck.py"]) == 2
    assert "--server URL" in capsys.readouterr().err
    for argv in (["serve"], ["batch", "x", "--out", "y"]):
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Linux" in err and "Traceback" not in err


def test_not_linux_with_a_server_set_goes_to_it(monkeypatch, capsys, work):
    from grader.cli import main as cli

    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setenv("GRADER_SERVER", "http://127.0.0.1:9")
    monkeypatch.chdir(work)
    assert cli.main(["counter_lck.py", "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot reach the grading server http://127.0.0.1:9" in err


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_stopping_leaves_no_process_and_no_scratch_tree(tmp_path, work):
    with Server(tmp_path, "--workers", "2", "--rate", "0") as s:
        assert s.post_file("counter_lck.py", (work / "counter_lck.py").read_bytes()).status == 200
        # each idle worker holds an engine child started for the next submission
        s.wait_for(lambda h: h["pool"]["running"] == 0, "idle")
        procs = descendants(s.proc.pid)
        trees = set()
        for pid in procs:
            try:
                args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                cwd = os.readlink(f"/proc/{pid}/cwd")
            except OSError:
                continue
            if any(b"grader.engine.child" in a for a in args) and Path(cwd).name.startswith("grader-"):
                trees.add(Path(cwd))
        assert procs and trees, "the workers and their engine children are running"
        assert s.stop() in (0, -15)  # uvicorn ends by the signal it stopped for, once done
    # multiprocessing's resource tracker ends once it sees the server gone: allow it a moment
    deadline = time.monotonic() + 60
    while [p for p in procs if alive(p)] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in procs if alive(p)]
    assert not [t for t in trees if t.exists()]


def _on_a_terminal(args: list[str], cwd: Path) -> tuple[bytes, int]:
    """Run ``grade`` with its stdout on a pseudo-terminal (as a student's shell has it)."""
    import pty
    import subprocess

    from serving import env
    master, slave = pty.openpty()
    colour_env = {k: v for k, v in env().items() if k != "NO_COLOR"}
    proc = subprocess.Popen([sys.executable, "-m", "grader", *args], cwd=cwd, env=colour_env,
                            stdout=slave, stderr=subprocess.DEVNULL)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the terminal's other side closed: the program ended
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return b"".join(chunks), proc.wait(timeout=240)


@pytest.mark.skipif(sys.platform != "linux", reason="pseudo-terminals as Linux has them")
def test_colours_on_a_terminal_are_grades_own(server, work):
    local, code = _on_a_terminal(["counter_mt.py", "-e", "counter_lck"], work)
    remote, remote_code = _on_a_terminal(["counter_mt.py", "-e", "counter_lck", "--server", server.url], work)
    assert b"\x1b[31m" in local and code == 1
    assert (remote, remote_code) == (local, code)

"""``grade FILE --server URL``: the same command on a student's Windows or macOS machine.

The file is read here as ``grade`` reads it (its refusals are the same, word for word), uploaded to
a ``grade serve``, and the server's answer is printed as ``grade`` prints it: the server renders
the terminal report in the language asked for (with colours when this terminal shows them), so
the text is the one ``grade FILE`` prints on the server, and the exit status is the same (0 every
check passed, 1 some failed, 2 not graded, with one line on stderr saying why).

Standard library only, on purpose: it must install and run wherever a student's Python does,
without the grader's own dependencies.
"""
from __future__ import annotations

import ipaddress
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Callable, TextIO

from .. import __version__
from ..model import GraderInputError, Msg

ENV_SERVER = "GRADER_SERVER"
ENV_KEY = "GRADER_COURSE_KEY"
TIMEOUT = 180.0
"""Seconds one request may take: grading is bounded by the exercise's time limit, and a queue."""
BUSY_BUDGET = 240.0
"""Seconds spent waiting for a busy server (503) before giving up."""


def server_url(value: str) -> str:
    """``host:8000`` or ``http://host:8000/`` as a base URL without its final slash."""
    value = value.strip()
    if "://" not in value:
        value = "http://" + value
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise GraderInputError(Msg(f"採点サーバーの URL が正しくありません: {value}（例: --server http://host:8000）",
                                   f"not a grading server URL: {value} (e.g. --server http://host:8000)"))
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _opener(base: str) -> urllib.request.OpenerDirector:
    # A server on this very machine is reached directly, whatever proxy the environment names.
    if _loopback(urllib.parse.urlsplit(base).hostname or ""):
        return urllib.request.build_opener(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener()


def _multipart(fields: dict[str, str], upload: tuple[str, bytes] | None = None) -> tuple[bytes, str]:
    """A multipart/form-data body of ``fields`` and the file ``upload`` (name, bytes), if any
    (the standard library has no encoder)."""
    boundary = "----grade-" + uuid.uuid4().hex
    out = bytearray()
    for name, value in fields.items():
        out += f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n".encode("utf-8")
    if upload is not None:
        filename, data = upload
        # escaped as browsers escape a file name in a form (HTML's multipart encoding)
        quoted = filename.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{quoted}\"\r\n"
                "Content-Type: application/octet-stream\r\n\r\n").encode("utf-8")
        out += data + b"\r\n"
    out += f"--{boundary}--\r\n".encode("ascii")
    return bytes(out), f"multipart/form-data; boundary={boundary}"


class _Answer:
    def __init__(self, status: int, body: bytes, headers):
        self.status, self.body, self.headers = status, body, headers

    def json(self) -> dict | None:
        try:
            value = json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None
        return value if isinstance(value, dict) else None


def _request(opener, base: str, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> _Answer:
    req = urllib.request.Request(base + path, data=body, method=method, headers={
        "User-Agent": f"concurrency-grader/{__version__} (grade --server)", "Accept": "application/json",
        **(headers or {})})
    try:
        with opener.open(req, timeout=TIMEOUT) as resp:
            return _Answer(resp.status, resp.read(), resp.headers)
    except urllib.error.HTTPError as exc:
        with exc:
            return _Answer(exc.code, exc.read(), exc.headers)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if "CERTIFICATE_VERIFY_FAILED" in str(reason):
            raise GraderInputError(Msg(
                f"採点サーバー {base} の証明書を確かめられません（macOS の python.org 版なら「Install Certificates.command」を実行してください）",
                f"cannot verify the certificate of the grading server {base} (with python.org's Python on macOS, "
                "run 'Install Certificates.command')")) from None
        raise GraderInputError(Msg(f"採点サーバー {base} に接続できません（{reason}）。URL を確かめてください。",
                                   f"cannot reach the grading server {base} ({reason}): check the URL.")) from None


def _refusal(answer: _Answer, explicit_lang: str | None) -> GraderInputError:
    """The one line an error answer says, in the language asked for (else the server's own)."""
    body = answer.json() or {}
    error = body.get("error") if isinstance(body.get("error"), dict) else None
    if error and isinstance(error.get("ja"), str) and isinstance(error.get("en"), str):
        if explicit_lang is None and isinstance(body.get("message"), str):
            return GraderInputError(Msg.same(body["message"]))
        return GraderInputError(Msg(error["ja"], error["en"]))
    return GraderInputError(Msg(f"採点サーバーが HTTP {answer.status} を返しました（採点できませんでした）",
                                f"the grading server answered HTTP {answer.status} (not graded)"))


def _retry_after(answer: _Answer) -> float:
    try:
        return max(1.0, min(60.0, float(answer.headers.get("Retry-After", "5"))))
    except (TypeError, ValueError):
        return 5.0


def _say(stream: TextIO, text: str) -> None:
    """Write ``text`` even to a console that cannot show every character (a Windows code page)."""
    try:
        stream.write(text)
    except UnicodeEncodeError:
        encoding = getattr(stream, "encoding", None) or "ascii"
        stream.write(text.encode(encoding, "replace").decode(encoding, "replace"))


def _colours(stdout: TextIO, no_color: bool) -> bool:
    """Colours exactly when ``grade`` would use them; on Windows only once the console is told to
    understand them (Windows 10 and later)."""
    if no_color or "NO_COLOR" in os.environ or not stdout.isatty():
        return False
    if sys.platform != "win32":
        return True
    try:
        import ctypes
        import msvcrt

        kernel = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = msvcrt.get_osfhandle(stdout.fileno())
        mode = ctypes.c_uint32()
        if not kernel.GetConsoleMode(handle, ctypes.byref(mode)):
            return False
        return bool(kernel.SetConsoleMode(handle, mode.value | 0x0004))  # ENABLE_VIRTUAL_TERMINAL_PROCESSING
    except Exception:
        return False


def grade_remote(server: str, path: str, *, exercise: str | None = None, seed: int = 1, lang: str | None = None,
                 no_color: bool = False, course_key: str | None = None, junit: str | None = None,
                 junit_flavor: str = "jenkins", json_path: str | None = None, html: str | None = None,
                 write: Callable[[str, bytes], None] | None = None, stdout: TextIO | None = None,
                 stderr: TextIO | None = None) -> int:
    """Grade ``path`` on the service at ``server`` and print ``grade``'s report; returns the exit
    status ``grade`` would. Raises ``GraderInputError`` (exit 2) for what cannot be graded:
    the file's own problems, the server's refusals, an unreachable server."""
    from ..sources.submission import read_submission_bytes

    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    base = server_url(server)
    opener = _opener(base)
    key = course_key if course_key is not None else os.environ.get(ENV_KEY)
    headers = {"X-Course-Key": key} if key else {}
    fields = {"seed": str(seed)}
    if exercise:
        fields["exercise"] = exercise
    if lang:
        fields["lang"] = lang
    try:
        data, name = read_submission_bytes(path)
    except GraderInputError as local:
        if exercise:  # grade says an --exercise that does not exist before the file's problem
            body, ctype = _multipart(fields)
            try:
                answer = _request(opener, base, "POST", "/api/grade" + (f"?lang={lang}" if lang else ""), body,
                                  {**headers, "Content-Type": ctype})
            except GraderInputError:
                raise local from None
            info = answer.json() or {}
            if (info.get("error") or {}).get("code") == "unknown_exercise":
                raise _refusal(answer, lang) from None
        raise
    fields["path"] = os.fspath(path)
    fields["color"] = "1" if _colours(stdout, no_color) else "0"
    body, ctype = _multipart(fields, (name, data))
    # The language in the address too: a refusal said before the form is read (too many uploads) is in it.
    endpoint = "/api/grade" + (f"?lang={lang}" if lang else "")
    waited = 0.0
    while True:
        answer = _request(opener, base, "POST", endpoint, body, {**headers, "Content-Type": ctype})
        if answer.status != 503 or waited >= BUSY_BUDGET:
            break
        pause = min(_retry_after(answer), BUSY_BUDGET - waited)
        ja, en = (f"採点サーバーが混んでいます。{pause:.0f} 秒後に送り直します…",
                  f"the grading server is busy: sending again in {pause:.0f} s…")
        _say(stderr, f"grade: {en if lang == 'en' else ja}\n")
        stderr.flush()
        time.sleep(pause)
        waited += pause
    result = answer.json() if answer.status == 200 else None
    if result is None or not isinstance(result.get("terminal"), str):
        raise _refusal(answer, lang)
    used_lang = result.get("lang") or lang or "ja"
    write = write or _write_file
    report = f"/report/{urllib.parse.quote(str(result.get('id', '')))}"
    for wanted, suffix in ((junit, f"/junit.xml?lang={used_lang}&flavor={junit_flavor}"),
                           (json_path, f"/results.json?lang={used_lang}"), (html, f"?lang={used_lang}")):
        if wanted:
            got = _request(opener, base, "GET", report + suffix, headers={"Accept": "*/*"})
            if got.status != 200:
                raise _refusal(got, lang)
            write(wanted, got.body)
    _say(stdout, result["terminal"])
    status = result.get("exit_status")
    return status if status in (0, 1) else 2


def _write_file(path: str, data: bytes) -> None:
    try:
        with open(path, "wb") as f:
            f.write(data)
    except OSError as exc:
        raise GraderInputError(Msg(f"レポートを書き込めません: {path}: {exc.strerror}",
                                   f"cannot write the report {path}: {exc.strerror}")) from None

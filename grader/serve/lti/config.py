"""The tool's LTI configuration: pylti1p3's JSON tool format, checked once at start-up so that a
mistake is said in one line before the service listens; and the tool's key pair, made on request.

The file maps each platform's issuer to its registration (or a list of them, one per client id)::

    {"https://moodle.example.ac.jp": {
        "client_id": "...", "auth_login_url": ".../mod/lti/auth.php",
        "auth_token_url": ".../mod/lti/token.php", "key_set_url": ".../mod/lti/certs.php",
        "private_key_file": "private.key", "public_key_file": "public.key",
        "deployment_ids": ["1"]}}

Key files are relative to the configuration file's folder.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ...model import GraderInputError, Msg

REQUIRED = ("client_id", "auth_login_url", "auth_token_url", "private_key_file", "public_key_file", "deployment_ids")


def _bad(path: str, why_ja: str, why_en: str) -> GraderInputError:
    return GraderInputError(Msg(f"LTI の設定 {path} が使えません: {why_ja}", f"unusable LTI configuration {path}: {why_en}"))


def _registrations(data: Any, path: str) -> list[tuple[str, dict]]:
    if not isinstance(data, dict) or not data:
        raise _bad(path, "発行者（issuer）ごとの設定の JSON オブジェクトではありません",
                   "not a JSON object of registrations by issuer")
    out = []
    for iss, regs in data.items():
        for reg in regs if isinstance(regs, list) else [regs]:
            if not isinstance(reg, dict):
                raise _bad(path, f"{iss} の設定がオブジェクトではありません", f"{iss}: a registration must be an object")
            out.append((iss, reg))
    return out


def load_tool_config(path: str):
    """pylti1p3's tool configuration (``ToolConfDict``) for ``path``, after checking what a launch and
    a score need (``GraderInputError`` saying what is missing otherwise). The file and its keys are
    read once, here; key files are keyed as ``ToolConfJsonFile`` keys them. What the routes need of
    the file besides is set on it: ``registrations`` (how many, for the start-up log line) and
    ``origins`` (``platform_origins``: who may frame a launched student's pages)."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key
    from pylti1p3.tool_config import ToolConfDict

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise _bad(path, f"読めません（{exc.strerror or exc}）", f"cannot read it ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise _bad(path, f"JSON ではありません（{exc}）", f"not JSON ({exc})") from None
    base = Path(path).resolve().parent
    registrations = _registrations(data, path)
    keys: list[tuple[str, str | None, str, str]] = []
    for iss, reg in registrations:
        missing = [k for k in REQUIRED if not reg.get(k)]
        if not reg.get("key_set_url") and not reg.get("key_set"):
            missing.append("key_set_url")
        if missing:
            raise _bad(path, f"{iss} に {', '.join(missing)} がありません", f"{iss} lacks {', '.join(missing)}")
        if not isinstance(reg["deployment_ids"], list):
            raise _bad(path, f"{iss} の deployment_ids はリストです", f"{iss}: deployment_ids must be a list")
        pems = {}
        for field, loader in (("private_key_file", load_pem_private_key), ("public_key_file", load_pem_public_key)):
            key_path = base / reg[field]
            try:
                pem = key_path.read_bytes()
                loader(pem, None) if field == "private_key_file" else loader(pem)
                pems[field] = pem.decode("utf-8")
            except OSError as exc:
                raise _bad(path, f"{field} の {key_path} を読めません（{exc.strerror or exc}）",
                           f"cannot read {field} {key_path} ({exc.strerror or exc})") from None
            except (ValueError, TypeError) as exc:
                raise _bad(path, f"{field} の {key_path} は PEM の鍵ではありません（{exc}）",
                           f"{field} {key_path} is not a PEM key ({exc})") from None
        # As ToolConfJsonFile keys them: by client id only when the issuer lists its registrations.
        client_id = reg.get("client_id") if isinstance(data[iss], list) else None
        keys.append((iss, client_id, pems["private_key_file"], pems["public_key_file"]))
    try:
        config = ToolConfDict(data)
        for iss, client_id, private, public in keys:
            config.set_private_key(iss, private, client_id=client_id)
            config.set_public_key(iss, public, client_id=client_id)
    except Exception as exc:  # pylti1p3 raises bare Exception for its own checks
        raise _bad(path, str(exc), str(exc)) from None
    config.registrations = len(registrations)
    config.origins = platform_origins(registrations)
    return config


def origin(url: Any) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, else None."""
    parts = urlsplit(str(url or ""))
    if parts.scheme in ("http", "https") and parts.netloc and not re.search(r"[\s;,'\"]", parts.netloc):
        return f"{parts.scheme}://{parts.netloc}"
    return None


def platform_origins(registrations: list[tuple[str, dict]]) -> list[str]:
    """The platforms' origins, from their issuers and login URLs, and the extra ``frame_origins``
    a registration may list (this tool's own key, which pylti1p3 ignores: a Canvas course's pages
    are on the school's host, not on its issuer's): the pages a launched student sees may be framed
    by them (and by the page the launch says it returns to), by no one else."""
    origins: list[str] = []
    for iss, reg in registrations:
        extra = reg.get("frame_origins") or []
        for url in [iss, reg.get("auth_login_url"), *(extra if isinstance(extra, list) else [extra])]:
            found = origin(url)
            if found and found not in origins:
                origins.append(found)
    return origins


def make_keys(folder: str) -> tuple[Path, Path]:
    """A new RSA key pair for the tool (2048 bits, PEM): ``private.key`` (readable by its owner
    only) and ``public.key`` in ``folder``; existing files are never overwritten."""
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
    except ImportError as exc:
        raise GraderInputError(Msg(
            f"鍵を作るには追加のパッケージが必要です（{exc.name}）: pip install 'concurrency-grader[serve]'",
            f"making keys needs the extra packages ({exc.name} is missing): pip install 'concurrency-grader[serve]'"
        )) from None

    out = Path(folder)
    private, public = out / "private.key", out / "public.key"
    for p in (private, public):
        if p.exists():
            raise GraderInputError(Msg(f"{p} はもうあります（上書きしません）", f"{p} exists already (not overwritten)"))
    out.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return private, public

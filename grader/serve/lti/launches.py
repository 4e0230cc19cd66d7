"""What the LTI flow keeps between requests, in memory, bounded in number and in time.

- ``OneTimeStore``: pylti1p3's launch data storage for the login's nonces: each one is taken
  (removed) when a launch checks it, so an id_token cannot be posted twice; at most ``limit``
  outstanding, the oldest dropped first; each lives ``lifetime`` seconds.
- ``LaunchStore``: a validated launch under a random token (256 bits, unguessable) that the
  student's page carries; it expires after ``lifetime`` seconds (the LMS launches again).

Nothing is written to disk: a restarted service asks its students to open the link in the LMS again.
"""
from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from pylti1p3.launch_data_storage.base import LaunchDataStorage


class _Bounded:
    """An ordered map whose entries expire and whose size is capped (oldest out first)."""

    def __init__(self, limit: int, lifetime: float, clock=time.monotonic):
        self.limit, self.lifetime, self.clock = limit, lifetime, clock
        self._items: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()  # pylti1p3 runs in Starlette's thread pool

    def _prune(self, now: float) -> None:
        while self._items:
            key, (expires, _) = next(iter(self._items.items()))
            if expires > now and len(self._items) <= self.limit:
                break
            del self._items[key]

    def put(self, key: str, value: Any, lifetime: float | None = None) -> None:
        now = self.clock()
        with self._lock:
            self._items.pop(key, None)
            self._items[key] = (now + (lifetime or self.lifetime), value)
            self._prune(now)

    def get(self, key: str, take: bool = False) -> Any:
        now = self.clock()
        with self._lock:
            self._prune(now)
            found = self._items.pop(key, None) if take else self._items.get(key)
        if found is None or found[0] <= now:
            return None
        return found[1]

    def __len__(self) -> int:
        with self._lock:
            self._prune(self.clock())
            return len(self._items)


class OneTimeStore(LaunchDataStorage):
    """pylti1p3's storage: values expire; ``check_value`` (its nonce check) takes the value."""

    def __init__(self, limit: int = 20000, lifetime: float = 600.0):
        super().__init__()
        self._data = _Bounded(limit, lifetime)

    def get_session_cookie_name(self):
        return None  # one store for all: nonces are random, the state cookie binds the browser

    def can_set_keys_expiration(self) -> bool:
        return True

    def get_value(self, key: str) -> Any:
        return self._data.get(self._prepare_key(key))

    def set_value(self, key: str, value: Any, exp: int | None = None) -> None:
        self._data.put(self._prepare_key(key), value, min(float(exp), self._data.lifetime) if exp else None)

    def check_value(self, key: str) -> bool:
        return self._data.get(self._prepare_key(key), take=True) is not None

    def __len__(self) -> int:
        return len(self._data)


@dataclass
class Launch:
    """A student's validated launch: who, from which link, where the score goes, for which exercise."""

    issuer: str
    client_id: str
    user: str
    """The platform's ``sub``: the only id the score is posted for."""
    name: str
    resource_link: str
    title: str
    exercise: str
    lineitem: str | None
    """The AGS line item's URL; None when the link sends no scores."""
    scopes: list[str] = field(default_factory=list)
    lang: str | None = None
    frame_from: str = ""
    """The origins that may frame this launch's pages (CSP ``frame-ancestors``)."""
    token: str = ""


class LaunchStore:
    """Launches by token: ``add`` gives the token, ``get`` finds it (None once expired or dropped)."""

    def __init__(self, limit: int = 20000, lifetime: float = 4 * 3600.0):
        self._data = _Bounded(limit, lifetime)

    def add(self, launch: Launch) -> str:
        launch.token = secrets.token_urlsafe(32)
        self._data.put(launch.token, launch)
        return launch.token

    def get(self, token: str) -> Launch | None:
        if not token or len(token) > 100:
            return None
        return self._data.get(token)

    def __len__(self) -> int:
        return len(self._data)

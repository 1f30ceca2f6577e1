"""Server-side sessions of the timeline page: the only place an EHR access token is kept.

The browser holds an opaque random id (an HttpOnly cookie); the store keeps, under the
SHA-256 of that id, the launch in progress (state, PKCE verifier) or, once authorised,
the FHIR server, the patient and the token, until the token expires. In memory per
process by default; in Redis (``CRS_CDS_REDIS_URL``) so that every worker and replica
sees the session the callback created. An id is never reused: authorising replaces it.
"""
from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import redis

from .errors import LaunchError

ID_BYTES = 32


class SessionStore(Protocol):
    def put(self, data: dict[str, Any], ttl_seconds: float) -> str:
        """Store ``data`` under a new random id and return the id (the cookie's value)."""
        ...

    def get(self, session_id: str) -> dict[str, Any] | None:
        """The session's data, or None (unknown or expired)."""
        ...

    def delete(self, session_id: str) -> None:
        ...


def _key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "replace")).hexdigest()


class MemorySessionStore:
    """A dict of id hash -> (expiry, data); thread-safe, purged as it grows."""

    def __init__(self, capacity: int = 10_000, now: Callable[[], float] = time.time) -> None:
        self._items: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._capacity = capacity
        self._now = now

    def put(self, data: dict[str, Any], ttl_seconds: float) -> str:
        session_id, now = secrets.token_urlsafe(ID_BYTES), self._now()
        with self._lock:
            if len(self._items) >= self._capacity:
                self._items = {k: v for k, v in self._items.items() if v[0] > now}
                if len(self._items) >= self._capacity:
                    raise LaunchError(503, "sessions-full", "Too many timeline sessions are open; try again shortly.")
            self._items[_key(session_id)] = (now + ttl_seconds, dict(data))
        return session_id

    def get(self, session_id: str) -> dict[str, Any] | None:
        with self._lock:
            item = self._items.get(_key(session_id))
        if item is None or item[0] <= self._now():
            return None
        return dict(item[1])

    def delete(self, session_id: str) -> None:
        with self._lock:
            self._items.pop(_key(session_id), None)


class RedisSessionStore:
    """``SET key json EX ttl`` in the Redis every replica shares."""

    PREFIX = "crs-cds:app-session:"

    def __init__(self, url: str) -> None:
        self._redis = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)

    def put(self, data: dict[str, Any], ttl_seconds: float) -> str:
        session_id = secrets.token_urlsafe(ID_BYTES)
        try:
            self._redis.set(self.PREFIX + _key(session_id), json.dumps(data), ex=max(1, int(ttl_seconds)))
        except redis.RedisError:
            raise _unavailable() from None
        return session_id

    def get(self, session_id: str) -> dict[str, Any] | None:
        try:
            raw = self._redis.get(self.PREFIX + _key(session_id))
        except redis.RedisError:
            raise _unavailable() from None
        return json.loads(raw) if raw else None

    def delete(self, session_id: str) -> None:
        try:
            self._redis.delete(self.PREFIX + _key(session_id))
        except redis.RedisError:
            raise _unavailable() from None


def _unavailable() -> LaunchError:
    return LaunchError(503, "sessions-unavailable", "The session store cannot be reached; try again shortly.")

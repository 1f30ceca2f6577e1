"""Replay protection: each JWT ``jti`` is accepted once per issuer until the token expires.

In memory by default (one process); in Redis when ``CRS_CDS_REDIS_URL`` is set,
so that a token replayed against another replica is refused too. Both fail
closed: a full or unreachable cache refuses the token rather than skip the check.
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import Protocol

import redis


class ReplayCacheUnavailable(Exception):
    """The shared cache cannot be reached: the call cannot be checked for replay."""


class ReplayCache(Protocol):
    def first_use(self, issuer: str, jti: str, expires_at: float) -> bool:
        """Record the token id; False when it was already used (a replay)."""
        ...


def _key(issuer: str, jti: str) -> str:
    return hashlib.sha256(f"{issuer}\0{jti}".encode()).hexdigest()


class MemoryReplayCache:
    """A dict of token-id hash -> expiry, purged as it grows; thread-safe."""

    def __init__(self, capacity: int = 200_000, now: Callable[[], float] = time.time) -> None:
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()
        self._capacity = capacity
        self._now = now

    def first_use(self, issuer: str, jti: str, expires_at: float) -> bool:
        key, now = _key(issuer, jti), self._now()
        with self._lock:
            if key in self._seen and self._seen[key] > now:
                return False
            if len(self._seen) >= self._capacity:
                self._seen = {k: exp for k, exp in self._seen.items() if exp > now}
                if len(self._seen) >= self._capacity:
                    raise ReplayCacheUnavailable("replay cache full")
            self._seen[key] = expires_at
            return True


class RedisReplayCache:
    """``SET key 1 NX EXAT expiry`` in a Redis shared by all replicas."""

    PREFIX = "crs-cds:jti:"

    def __init__(self, url: str) -> None:
        self._redis = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)

    def first_use(self, issuer: str, jti: str, expires_at: float) -> bool:
        try:
            return bool(self._redis.set(self.PREFIX + _key(issuer, jti), b"1", nx=True,
                                        exat=int(expires_at) + 1))
        except redis.RedisError as exc:
            raise ReplayCacheUnavailable(f"redis: {type(exc).__name__}") from None

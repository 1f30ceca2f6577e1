"""Replay protection: each JWT ``jti`` is accepted once per issuer until the token expires.

A ``jti`` must be accepted once per *deployment*, not once per process:
``crs-cds serve`` forks several workers and a hospital may run several
instances, and a per-process cache accepts the same token once in each. So
three stores, all answering "first use?" atomically:

- ``MemoryReplayCache`` — one process only (development, or a single worker);
- ``RedisReplayCache`` — ``SET key NX EXAT``, shared by every process using the Redis;
- ``PostgresReplayCache`` — a primary key in the feedback PostgreSQL database, so a
  site that already runs PostgreSQL needs nothing else.

All fail closed: a full or unreachable store raises ``ReplayCacheUnavailable``
(the caller answers 503), never "first use". ``open`` is called once at start-up
so that a store configured but unreachable stops the service with one line.
Keys are hashes of issuer and ``jti``: the stores never hold a raw token id.
"""
from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

import psycopg
import redis

from ..urls import display_url


class ReplayCacheUnavailable(Exception):
    """The shared cache cannot be reached: the call cannot be checked for replay."""


class ReplayCache(Protocol):
    kind: str  # "memory" | "redis" | "postgresql"

    def first_use(self, issuer: str, jti: str, expires_at: float) -> bool:
        """Record the token id; False when it was already used (a replay)."""
        ...

    def open(self) -> None:
        """Start-up: reach the store and prepare it; ``ReplayCacheUnavailable`` says why not."""
        ...

    def ping(self) -> None:
        """Readiness: ``ReplayCacheUnavailable`` when the store cannot be reached now."""
        ...

    def describe(self) -> str:
        """Which store, for the start-up summary (no credentials)."""
        ...


def _key(issuer: str, jti: str) -> str:
    return hashlib.sha256(f"{issuer}\0{jti}".encode()).hexdigest()


class MemoryReplayCache:
    """A dict of token-id hash -> expiry, purged as it grows; thread-safe, one process only."""

    kind = "memory"

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

    def open(self) -> None:
        pass

    def ping(self) -> None:
        pass

    def describe(self) -> str:
        return "memory (this process only)"


class RedisReplayCache:
    """``SET key 1 NX EXAT expiry`` in a Redis shared by all processes and replicas.

    redis-py's connection pool notices a fork and reconnects, so the client built in
    the gunicorn master before forking is safe in every worker."""

    kind = "redis"
    PREFIX = "crs-cds:jti:"

    def __init__(self, url: str) -> None:
        self._url = url
        self._redis = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)

    def first_use(self, issuer: str, jti: str, expires_at: float) -> bool:
        try:
            return bool(self._redis.set(self.PREFIX + _key(issuer, jti), b"1", nx=True,
                                        exat=int(expires_at) + 1))
        except redis.RedisError as exc:
            raise ReplayCacheUnavailable(f"redis: {type(exc).__name__}") from None

    def open(self) -> None:
        self.ping()

    def ping(self) -> None:
        try:
            self._redis.ping()
        except redis.RedisError as exc:
            raise ReplayCacheUnavailable(f"cannot reach Redis at {display_url(self._url)} "
                                         f"({type(exc).__name__})") from None

    def describe(self) -> str:
        return f"redis {display_url(self._url)}"


class PostgresReplayCache:
    """One row per token-id hash in PostgreSQL: the primary key makes the first use atomic for
    every process and replica using the database; a row whose token has expired may be taken
    again, and expired rows are purged about once a minute.

    Connections are pooled per process (a connection never crosses a fork: the pool is
    emptied when the process id changes) and autocommit: each check is one statement."""

    kind = "postgresql"
    TABLE = "crs_cds_jti"
    PURGE_EVERY_SECONDS = 60.0

    def __init__(self, url: str, *, now: Callable[[], float] = time.time, connect_timeout: int = 2,
                 statement_timeout_ms: int = 2000) -> None:
        self._url = url
        self._now = now
        self._connect_args = {"autocommit": True, "connect_timeout": connect_timeout,
                              "options": f"-c statement_timeout={statement_timeout_ms}"}
        self._idle: list[psycopg.Connection] = []
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._next_purge = 0.0

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        with self._lock:
            if self._pid != os.getpid():  # forked: the parent's sockets are not ours to use
                self._idle, self._pid = [], os.getpid()
            conn = self._idle.pop() if self._idle else None
        try:
            if conn is None or conn.closed:
                conn = psycopg.connect(self._url, **self._connect_args)
            yield conn
        except psycopg.Error as exc:
            if conn is not None:
                conn.close()
            raise ReplayCacheUnavailable(f"cannot use the replay table in PostgreSQL at {display_url(self._url)} "
                                         f"({type(exc).__name__})") from None
        else:
            with self._lock:
                self._idle.append(conn)

    def first_use(self, issuer: str, jti: str, expires_at: float) -> bool:
        now = self._now()
        with self._connection() as conn:
            row = conn.execute(
                f"INSERT INTO {self.TABLE} (key, expires_at) VALUES (%s, %s) "
                f"ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at "
                f"WHERE {self.TABLE}.expires_at <= %s RETURNING 1", (_key(issuer, jti), expires_at, now)).fetchone()
            if now >= self._next_purge:
                self._next_purge = now + self.PURGE_EVERY_SECONDS
                conn.execute(f"DELETE FROM {self.TABLE} WHERE expires_at <= %s", (now,))
        return row is not None

    def open(self) -> None:
        """Create the table if missing (under an advisory lock: instances starting together would
        otherwise race on ``CREATE TABLE IF NOT EXISTS``), then close the connection so that
        none is inherited by forked workers."""
        with self._connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('crs-cds schema'))")
            conn.execute(f"CREATE TABLE IF NOT EXISTS {self.TABLE} (key TEXT PRIMARY KEY, "
                         "expires_at DOUBLE PRECISION NOT NULL)")
        self.close()

    def ping(self) -> None:
        with self._connection() as conn:
            conn.execute(f"SELECT 1 FROM {self.TABLE} LIMIT 1")

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def describe(self) -> str:
        return f"postgresql {display_url(self._url)}"

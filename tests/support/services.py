"""The machine's real PostgreSQL and Redis, and ``crs-cds serve`` run as a real process.

PostgreSQL (127.0.0.1:5432, trust auth) and Redis (127.0.0.1:6379) run on every
developer machine and in CI (``.ci/run`` starts them). Without them these tests
skip on a developer machine and fail in CI. Each test gets its own PostgreSQL
database, dropped afterwards.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path

import psycopg
import pytest
import redis
import requests

from tests.support.paths import ROOT

PG_ADMIN_URL = os.environ.get("CRS_CDS_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("CRS_CDS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def unavailable(what: str) -> None:
    """Skip on a developer machine, fail in CI (where ``.ci/run`` starts every service)."""
    if os.environ.get("CI"):
        pytest.fail(what)
    pytest.skip(what)


def redis_reachable() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


needs_redis = pytest.mark.skipif(not os.environ.get("CI") and not redis_reachable(),
                                 reason="no Redis on 127.0.0.1:6379")


@contextmanager
def postgres_database() -> Iterator[str]:
    """The URL of a fresh, empty database on the machine's PostgreSQL; dropped on exit."""
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:  # pragma: no cover - depends on the machine
        unavailable(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    name = f"crs_cds_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f"CREATE DATABASE {name}")
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServeProcess:
    """``crs-cds serve`` in its own process group (so that SIGKILL takes master and workers together,
    as a container runtime does), its output kept in a file."""

    def __init__(self, env: Mapping[str, str], log: Path, *, port: int | None = None, workers: int = 1,
                 extra_args: tuple[str, ...] = ()) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log
        self._log = log.open("w+")
        base = {k: v for k, v in os.environ.items() if not k.startswith(("CRS_CDS_", "PROMETHEUS_"))}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cds_service.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(workers), *extra_args],
            cwd=ROOT, env={**base, **env}, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, path: str = "/health", timeout: float = 30.0) -> None:
        """Until ``path`` answers 200; fails with the server's output if it exits or never answers."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if requests.get(self.url + path, timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if self.process.poll() is not None:
                raise AssertionError(f"crs-cds serve exited with {self.process.returncode}:\n{self.output()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"crs-cds serve did not answer {path} in {timeout} s:\n{self.output()}")
            time.sleep(0.1)

    def wait_exit(self, timeout: float = 30.0) -> int:
        return self.process.wait(timeout=timeout)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """``sig`` to the whole process group (master and workers)."""
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)

    def kill_until_gone(self, timeout: float = 10.0) -> float:
        """SIGKILL the group and wait until its port refuses connections (every process holding the
        listening socket has exited); returns that instant (``time.monotonic``)."""
        self.kill()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.05).close()
            except OSError:
                break
            time.sleep(0.001)
        gone = time.monotonic()
        self.process.wait(timeout=timeout)
        return gone

    def stop(self) -> None:
        if self.process.poll() is None:
            self.kill(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill(signal.SIGKILL)
                self.process.wait(timeout=10)
        self.kill(signal.SIGKILL)  # any worker left behind
        self._log.close()


@contextmanager
def serving(env: Mapping[str, str], log: Path, **options: object) -> Iterator[ServeProcess]:
    server = ServeProcess(env, log, **options)  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.stop()

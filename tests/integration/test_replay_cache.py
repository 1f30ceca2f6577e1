"""jti replay stores: in memory, in the real local Redis and in the real local PostgreSQL.

A ``jti`` is accepted once per deployment: each store answers "first use?" atomically for every
process that shares it (the parallel tests below), a store configured but unreachable stops
start-up with one line, and an outage later is a 503 with ``Retry-After`` — never an accepted replay.
"""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import psycopg
import pytest
import redis

from cds_service.bootstrap import bootstrap
from cds_service.http import create_app
from cds_service.security import MemoryReplayCache, PostgresReplayCache, RedisReplayCache, ReplayCacheUnavailable
from cds_service.settings import ConfigError
from devkit import fhirbuild as fb
from tests.support import security_builders as sb
from tests.support.services import REDIS_URL, free_port, needs_redis

DISCOVERY = "/cds-services"


def test_memory_cache_accepts_once_until_expiry() -> None:
    clock = [1000.0]
    cache = MemoryReplayCache(now=lambda: clock[0])
    assert cache.first_use("iss", "a", 1100)
    assert not cache.first_use("iss", "a", 1100)
    assert cache.first_use("other-iss", "a", 1100)  # jti is per issuer
    clock[0] = 1200.0
    assert cache.first_use("iss", "a", 1300)  # the token itself has long expired by now


def test_memory_cache_purges_and_fails_closed_when_full() -> None:
    clock = [0.0]
    cache = MemoryReplayCache(capacity=2, now=lambda: clock[0])
    assert cache.first_use("i", "1", 10) and cache.first_use("i", "2", 10)
    with pytest.raises(ReplayCacheUnavailable):
        cache.first_use("i", "3", 10)
    clock[0] = 11.0
    assert cache.first_use("i", "3", 20)  # expired entries were purged


@needs_redis
def test_redis_cache_accepts_once_and_expires() -> None:
    cache = RedisReplayCache(REDIS_URL)
    jti = uuid.uuid4().hex
    assert cache.first_use("iss", jti, time.time() + 60)
    assert not cache.first_use("iss", jti, time.time() + 60)
    assert not RedisReplayCache(REDIS_URL).first_use("iss", jti, time.time() + 60)  # another replica
    client = redis.Redis.from_url(REDIS_URL)
    ours = RedisReplayCache.PREFIX + hashlib.sha256(f"iss\0{jti}".encode()).hexdigest()
    assert all(jti.encode() not in k for k in client.keys(RedisReplayCache.PREFIX + "*"))  # only hashes
    assert 0 < client.ttl(ours) <= 62  # kept until the token's expiry, not for ever


@pytest.mark.postgres
def test_postgres_cache_accepts_once_shares_and_expires(pg_url) -> None:
    clock = [1000.0]
    cache = PostgresReplayCache(pg_url, now=lambda: clock[0])
    cache.open()
    cache.open()  # idempotent: every instance opens it at start-up
    assert cache.first_use("iss", "a", 1100)
    assert not cache.first_use("iss", "a", 1100)
    assert not PostgresReplayCache(pg_url, now=lambda: clock[0]).first_use("iss", "a", 1100)  # another replica
    assert cache.first_use("other-iss", "a", 1100)
    clock[0] = 1200.0
    assert cache.first_use("iss", "a", 1300)  # expired rows may be taken again
    with psycopg.connect(pg_url) as conn:
        keys = [k for (k,) in conn.execute("SELECT key FROM crs_cds_jti")]
    # only hashes are stored, and the row that expired at 1100 (other-iss) was purged
    assert keys == [hashlib.sha256(b"iss\0a").hexdigest()]


def app_with(replay_store: str, pg_url: str | None = None):
    store = {"redis": {"redis_url": REDIS_URL}, "postgresql": {"replay_store": "postgresql"},
             "memory": {}}[replay_store]
    settings = sb.settings(workers=2 if replay_store != "memory" else 1, **store)
    if pg_url:
        settings = replace(settings, feedback_url=pg_url)
    return create_app(bootstrap(settings, clock=lambda: fb.NOW))


@pytest.fixture(params=["memory", pytest.param("redis", marks=needs_redis),
                        pytest.param("postgresql", marks=pytest.mark.postgres)])
def instances(request):
    """Two app instances sharing the store (one for memory: it is one process's only)."""
    count = 1 if request.param == "memory" else 2
    pg_url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    return [app_with(request.param, pg_url) for _ in range(count)]


def test_twenty_parallel_uses_of_one_token_succeed_exactly_once(instances) -> None:
    clients = [app.test_client() for app in instances for _ in range(10)]
    tok = sb.bearer(sb.token(DISCOVERY))
    start = threading.Barrier(20)

    def call(i: int) -> int:
        client = clients[i % len(clients)]
        start.wait()
        return client.get(DISCOVERY, headers=tok).status_code

    with ThreadPoolExecutor(20) as pool:
        statuses = sorted(pool.map(call, range(20)))
    assert statuses == [200] + [401] * 19


@needs_redis
@pytest.mark.postgres
@pytest.mark.parametrize("store", ["redis", "postgresql"])
def test_a_token_replayed_against_another_instance_is_refused(pg_url, store) -> None:
    replica_a, replica_b = (app_with(store, pg_url).test_client() for _ in range(2))
    tok = sb.bearer(sb.token(DISCOVERY))
    assert replica_a.get(DISCOVERY, headers=tok).status_code == 200
    assert replica_b.get(DISCOVERY, headers=tok).status_code == 401
    assert replica_a.get(DISCOVERY, headers=tok).status_code == 401


# --- a store configured but unreachable: start-up stops with one line; later outages are 503 ----------

def test_unreachable_redis_stops_start_up_naming_the_setting_without_its_password() -> None:
    settings = sb.settings(redis_url="redis://:s3cret-pass@127.0.0.1:1/0")
    with pytest.raises(ConfigError) as caught:
        bootstrap(settings, clock=lambda: fb.NOW)
    message = str(caught.value)
    assert message.startswith("CRS_CDS_REDIS_URL: cannot reach Redis at redis://127.0.0.1:1/0 (")
    assert "s3cret" not in message and "\n" not in message


def test_unreachable_postgres_replay_store_stops_start_up_naming_the_setting() -> None:
    settings = replace(sb.settings(replay_store="postgresql"), feedback_url="postgresql://crs:s3cret@127.0.0.1:1/crs")
    with pytest.raises(ConfigError) as caught:
        bootstrap(settings, clock=lambda: fb.NOW, feedback_store=object())  # type: ignore[arg-type]
    message = str(caught.value)
    assert message.startswith("CRS_CDS_REPLAY_STORE=postgresql: cannot use the replay table in PostgreSQL at "
                              "postgresql://127.0.0.1:1/crs (")
    assert "s3cret" not in message


@pytest.fixture
def private_redis(tmp_path):
    """A Redis server of our own, so that the test can take it down."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server not installed")
    port = free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                                "no", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(50):
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.RedisError:
            time.sleep(0.1)
    yield url, process
    process.kill()
    process.wait()


def test_a_redis_outage_after_start_up_is_503_with_retry_after_never_an_accepted_replay(private_redis) -> None:
    url, process = private_redis
    client = create_app(bootstrap(sb.settings(redis_url=url, workers=2), clock=lambda: fb.NOW)).test_client()
    tok = sb.bearer(sb.token(DISCOVERY))
    assert client.get(DISCOVERY, headers=tok).status_code == 200
    process.kill()
    process.wait()
    for attempt in (tok, tok, sb.bearer(sb.token(DISCOVERY))):  # the replay and a fresh token alike
        resp = client.get(DISCOVERY, headers=attempt)
        assert resp.status_code == 503 and resp.headers["Retry-After"] == "5"
        assert resp.get_json()["error"] == "unavailable"


@pytest.mark.postgres
def test_a_postgres_outage_after_start_up_is_503_with_retry_after(pg_url) -> None:
    client = app_with("postgresql", pg_url).test_client()
    tok = sb.bearer(sb.token(DISCOVERY))
    assert client.get(DISCOVERY, headers=tok).status_code == 200
    name = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(pg_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")  # the database goes away under the service
    resp = client.get(DISCOVERY, headers=tok)
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "5"

"""jti replay caches: in memory, and in the real local Redis shared by replicas."""
from __future__ import annotations

import os
import time
import uuid

import pytest

from cds_service.bootstrap import bootstrap
from cds_service.http import create_app
from cds_service.security import MemoryReplayCache, RedisReplayCache, ReplayCacheUnavailable
from devkit import fhirbuild as fb
from tests.support import security_builders as sb

REDIS_URL = "redis://127.0.0.1:6379/15"


def redis_reachable() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except Exception:
        return False


# On a developer machine without Redis these skip; in CI (.ci/run starts Redis) they must run.
needs_redis = pytest.mark.skipif(not os.environ.get("CI") and not redis_reachable(),
                                 reason="no Redis on 127.0.0.1:6379")


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
    import redis

    keys = redis.Redis.from_url(REDIS_URL).keys(RedisReplayCache.PREFIX + "*")
    assert keys and all(jti.encode() not in k for k in keys)  # hashed: no raw token ids in Redis
    ttls = [redis.Redis.from_url(REDIS_URL).ttl(k) for k in keys]
    assert all(0 < t <= 62 * 10 for t in ttls)


@needs_redis
def test_a_token_replayed_against_another_replica_is_refused() -> None:
    settings = sb.settings(redis_url=REDIS_URL)
    replica_a = create_app(bootstrap(settings, clock=lambda: fb.NOW)).test_client()
    replica_b = create_app(bootstrap(settings, clock=lambda: fb.NOW)).test_client()
    tok = sb.bearer(sb.token("/cds-services"))
    assert replica_a.get("/cds-services", headers=tok).status_code == 200
    assert replica_b.get("/cds-services", headers=tok).status_code == 401


def test_unreachable_redis_fails_closed_with_503() -> None:
    settings = sb.settings(redis_url="redis://127.0.0.1:1/0")
    client = create_app(bootstrap(settings, clock=lambda: fb.NOW)).test_client()
    resp = client.get("/cds-services", headers=sb.bearer(sb.token("/cds-services")))
    assert resp.status_code == 503 and resp.get_json()["error"] == "unavailable"

"""Server-side sessions of the timeline page: random ids, stored by hash, gone when expired; in Redis
shared by every worker when configured."""
from __future__ import annotations

import pytest

from cds_service.smart import LaunchError, MemorySessionStore, RedisSessionStore
from cds_service.smart.pkce import challenge
from tests.support.services import REDIS_URL, needs_redis


def test_a_session_is_read_back_until_it_expires_and_never_by_another_id() -> None:
    clock = [1000.0]
    store = MemorySessionStore(now=lambda: clock[0])
    sid = store.put({"kind": "launch", "state": "s"}, 600)
    other = store.put({"kind": "launch", "state": "t"}, 600)
    assert len(sid) >= 43 and sid != other
    assert store.get(sid) == {"kind": "launch", "state": "s"}
    assert store.get(sid + "x") is None
    assert sid not in str(store._items)  # kept under its hash: a dump does not give the cookie
    clock[0] = 1601.0
    assert store.get(sid) is None


def test_a_full_store_refuses_a_new_session_rather_than_drop_a_live_one() -> None:
    store = MemorySessionStore(capacity=2)
    store.put({}, 600)
    store.put({}, 600)
    with pytest.raises(LaunchError) as caught:
        store.put({}, 600)
    assert caught.value.status == 503


def test_pkce_s256_challenge_of_rfc_7636_appendix_b() -> None:
    assert challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


@needs_redis
def test_redis_sessions_are_shared_and_expire() -> None:
    one, two = RedisSessionStore(REDIS_URL), RedisSessionStore(REDIS_URL)  # two workers
    sid = one.put({"kind": "authorised", "patient": "p1"}, 2)
    assert two.get(sid) == {"kind": "authorised", "patient": "p1"}
    two.delete(sid)
    assert one.get(sid) is None


def test_an_unreachable_redis_is_a_503_page_not_a_500() -> None:
    store = RedisSessionStore("redis://127.0.0.1:1/0")
    with pytest.raises(LaunchError) as caught:
        store.put({}, 60)
    assert (caught.value.status, caught.value.code) == (503, "sessions-unavailable")

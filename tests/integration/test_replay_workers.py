"""Replay across the worker processes of a real ``crs-cds serve`` (gunicorn), in production.

The attack: with the replay cache in each worker's memory, the same token was accepted once by
each worker, and 20 parallel uses of one token succeeded twice. Production with more than one
worker now refuses to start without a shared store; with one, a token is accepted exactly once.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from cds_service import cli
from tests.support import security_builders as sb
from tests.support.services import REDIS_URL, free_port, needs_redis, serving

DISCOVERY = "/cds-services"


def production_env(tmp_path, port: int, **extra: str) -> dict[str, str]:
    return {"CRS_CDS_ENV": "production", "CRS_CDS_ISSUERS_FILE": str(sb.issuers_file(tmp_path / "issuers.json")),
            "CRS_CDS_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "CRS_CDS_FEEDBACK_DB": str(tmp_path / "feedback.sqlite3"), **extra}


def parallel_uses(url: str, token: str, n: int = 20) -> list[int]:
    start = threading.Barrier(n)

    def call(_: int) -> int:
        start.wait()
        return requests.get(url, headers=sb.bearer(token), timeout=10).status_code

    with ThreadPoolExecutor(n) as pool:
        return sorted(pool.map(call, range(n)))


@pytest.fixture(params=[pytest.param("redis", marks=needs_redis), pytest.param("postgresql", marks=pytest.mark.postgres)])
def shared_store(request) -> dict[str, str]:
    if request.param == "redis":
        return {"CRS_CDS_REDIS_URL": REDIS_URL}
    return {"CRS_CDS_REPLAY_STORE": "postgresql", "CRS_CDS_DATABASE_URL": request.getfixturevalue("pg_url")}


def test_twenty_parallel_uses_of_one_token_across_four_workers_succeed_once(tmp_path, shared_store) -> None:
    port = free_port()
    with serving(production_env(tmp_path, port, **shared_store), tmp_path / "serve.log", port=port,
                 workers=4) as server:
        server.wait_ready()
        token = sb.token(aud=server.url + DISCOVERY)
        assert parallel_uses(server.url + DISCOVERY, token) == [200] + [401] * 19
        for _ in range(8):  # sequential replays, whichever worker takes them
            assert requests.get(server.url + DISCOVERY, headers=sb.bearer(token), timeout=5).status_code == 401
        assert "Traceback" not in server.output()


def refusal(tmp_path, capsys, monkeypatch, env: dict[str, str], workers: int) -> str:
    """``crs-cds serve`` refusing to start (in this process: nothing is served): its one stderr line."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    capsys.readouterr()
    assert cli.main(["serve", "--port", str(free_port()), "--workers", str(workers)]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    return line


def test_production_with_several_workers_and_no_shared_store_refuses_to_start(tmp_path, capsys, monkeypatch) -> None:
    line = refusal(tmp_path, capsys, monkeypatch, production_env(tmp_path, 1), workers=2)
    assert line.startswith("crs-cds: configuration error: CRS_CDS_REPLAY_STORE: production with 2 workers needs a "
                           "replay store they share")


def test_production_with_an_unreachable_redis_refuses_to_start_in_one_line(tmp_path, capsys, monkeypatch) -> None:
    env = production_env(tmp_path, 1, CRS_CDS_REDIS_URL="redis://:hunter2@127.0.0.1:1/0")
    line = refusal(tmp_path, capsys, monkeypatch, env, workers=2)
    assert line.startswith("crs-cds: configuration error: CRS_CDS_REDIS_URL: cannot reach Redis at "
                           "redis://127.0.0.1:1/0")
    assert "hunter2" not in line


def test_one_worker_may_keep_its_replay_cache_in_memory(tmp_path) -> None:
    port = free_port()
    with serving(production_env(tmp_path, port), tmp_path / "serve.log", port=port, workers=1) as server:
        server.wait_ready()
        token = sb.token(aud=server.url + DISCOVERY)
        assert parallel_uses(server.url + DISCOVERY, token, n=10) == [200] + [401] * 9

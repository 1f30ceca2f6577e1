"""Shared fixtures: the Flask app on development defaults with the clock pinned at ``fhirbuild.NOW``."""
from __future__ import annotations

import os
import tempfile

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cds_service.bootstrap import bootstrap
from cds_service.feedback import SqlFeedbackStore
from cds_service.http import create_app
from cds_service.settings import Settings
from devkit import fhirbuild as fb
from tests.support.services import postgres_database

# Tests never touch the developer's var/ feedback database: apps built from the
# environment get a throw-away file, and the relative default lands in a temp folder.
_SCRATCH = tempfile.mkdtemp(prefix="crs-cds-tests-")
os.environ["CRS_CDS_FEEDBACK_DB"] = os.path.join(_SCRATCH, "feedback.sqlite3")
os.environ.pop("CRS_CDS_DATABASE_URL", None)


@pytest.fixture(scope="session", autouse=True)
def _scratch_working_directory():
    previous = os.getcwd()
    os.chdir(_SCRATCH)
    yield
    os.chdir(previous)


@pytest.fixture
def settings() -> Settings:
    """Explicit defaults, so that CRS_CDS_* variables of the shell running pytest do not leak in."""
    return Settings()


@pytest.fixture
def app(settings: Settings) -> Flask:
    # An in-memory feedback store: API tests must not write var/crs-cds-feedback.sqlite3.
    return create_app(bootstrap(settings, clock=lambda: fb.NOW, feedback_store=SqlFeedbackStore.from_url(":memory:")))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


# --- feedback store on SQLite and on the machine's PostgreSQL (one fresh database per test) ---

@pytest.fixture
def pg_url():
    """A fresh database on the machine's PostgreSQL (skipped on a developer machine without one, failed in CI)."""
    with postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request, tmp_path):
    if request.param == "sqlite":
        yield SqlFeedbackStore.from_url(str(tmp_path / "feedback.sqlite3"))
        return
    with postgres_database() as url:
        yield SqlFeedbackStore.from_url(url)

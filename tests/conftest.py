"""Shared fixtures: the Flask app on development defaults with the clock pinned at ``fhirbuild.NOW``."""
from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cds_service.app import create_app
from cds_service.feedback_store import SqlFeedbackStore
from cds_service.settings import Settings
from tests import fhirbuild as fb


@pytest.fixture
def settings() -> Settings:
    """Explicit defaults, so that CRS_CDS_* variables of the shell running pytest do not leak in."""
    return Settings()


@pytest.fixture
def app(settings: Settings) -> Flask:
    # An in-memory feedback store: API tests must not write var/crs-cds-feedback.sqlite3.
    return create_app(settings, clock=lambda: fb.NOW, feedback_store=SqlFeedbackStore.from_url(":memory:"))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()

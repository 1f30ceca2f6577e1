"""The app as tests build it: through the composition root, clock pinned at ``fhirbuild.NOW``,
an in-memory feedback store unless the test gives one, fakes passed by keyword."""
from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from cds_service.bootstrap import Service, bootstrap
from cds_service.feedback import SqlFeedbackStore
from cds_service.http import create_app
from cds_service.settings import Settings
from devkit import fhirbuild as fb


def service(settings: Settings | None = None, **fakes: Any) -> Service:
    fakes.setdefault("clock", lambda: fb.NOW)
    fakes.setdefault("feedback_store", SqlFeedbackStore.from_url(":memory:"))
    return bootstrap(settings or Settings(), **fakes)


def client(settings: Settings | None = None, **fakes: Any) -> FlaskClient:
    return create_app(service(settings, **fakes)).test_client()

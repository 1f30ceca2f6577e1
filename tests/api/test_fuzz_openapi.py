"""Schemathesis fuzzes every operation of openapi.yaml through the Flask app in-process: never a 5xx.

Bounded (25 examples per operation) so that it stays a unit-test-speed check;
run ``schemathesis run`` against a served instance for a longer campaign.
"""
from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from cds_service.bootstrap import bootstrap
from cds_service.ehr import FetchUnavailable
from cds_service.feedback import SqlFeedbackStore
from cds_service.http import create_app
from devkit import fhirbuild as fb
from tests.support import security_builders as sb
from tests.support.paths import ROOT

SCHEMA = schemathesis.openapi.from_path(ROOT / "openapi.yaml")
FUZZ = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))


class Offline:
    """Every fetch fails fast: fuzzed fhirServer values must not reach the network."""

    def fetch(self, query, *, fhir_server, authorization, deadline=None):
        raise FetchUnavailable("offline")


def app(settings_):
    return create_app(bootstrap(settings_, clock=lambda: fb.NOW, fetcher=Offline(),
                      feedback_store=SqlFeedbackStore.from_url("sqlite:///:memory:")))


DEVELOPMENT = app(sb.settings(env="development", max_body_bytes=1024 * 1024))
PRODUCTION = app(sb.settings())


@SCHEMA.parametrize()
@FUZZ
def test_no_server_error_in_development(case) -> None:
    case.call_and_validate(app=DEVELOPMENT, checks=[not_a_server_error])


@SCHEMA.parametrize()
@FUZZ
def test_no_server_error_in_production_with_a_valid_token(case) -> None:
    path = case.formatted_path if hasattr(case, "formatted_path") else case.path
    case.call_and_validate(app=PRODUCTION, checks=[not_a_server_error], headers=sb.bearer(sb.token(path)))

"""The end-to-end set-up: a real FHIR server (sekmet, open), the SMART reference launcher in front of it
(node), the service served over HTTP on a free port, and headless Chromium. A missing browser or node
skips these tests on a developer's machine and fails them in CI (``CI`` set: ``.ci/run`` installs both)."""
from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from cds_service.ehr import ClientLimits, FhirClient
from cds_service.http import create_app
from cds_service.settings import SecuritySettings, Settings, SmartSettings
from devkit import fhir_server, records
from tests.support import apps, browser, smart_launcher
from tests.support import security_builders as sb

CLIENT_ID = "crs-cds-timeline-e2e"
DEADLINE_SECONDS = 10.0


def _unavailable(why: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"end-to-end dependency missing in CI: {why}")
    pytest.skip(why)


@pytest.fixture(scope="session")
def fhir() -> Iterator[fhir_server.SekmetServer]:
    """An open FHIR server holding the 72-hour record of patient p1 (sekmet answers the concurrent time
    slices of a 14-day ICU record one after another, ~1 s each: too slow for a page; that record is
    drawn from a file instead, see test_the_14_day_icu_record_is_drawn_at_600_px)."""
    if not fhir_server.installed():
        _unavailable("sekmet-fhir is not installed (pip install -e '.[test]')")
    try:
        server = fhir_server.start(token=None)
    except fhir_server.SekmetUnavailable as exc:
        pytest.fail(str(exc))
    server.load(records.RECORDS["72h-hourly"]())
    yield server
    server.stop()


@pytest.fixture(scope="session")
def launcher(fhir, tmp_path_factory) -> Iterator[smart_launcher.SmartLauncher]:
    missing = smart_launcher.missing_tools()
    if missing:
        _unavailable(f"{' and '.join(missing)} not on PATH (Debian: apt-get install nodejs npm)")
    try:
        running = smart_launcher.start(fhir.base_url, tmp_path_factory.mktemp("launcher"))
    except smart_launcher.LauncherUnavailable as exc:
        pytest.fail(str(exc))
    yield running
    running.stop()


class _Quiet(WSGIRequestHandler):
    """No access log: its lines would quote query strings (codes, states, patient ids)."""

    def log_request(self, *args, **kwargs) -> None:
        pass


@pytest.fixture(scope="session")
def service_url(launcher) -> Iterator[str]:
    """The service on a free port, registered as a SMART app whose allowed FHIR server is the launcher's;
    its clock pinned at the record's ``now``."""
    settings = Settings(smart=SmartSettings(CLIENT_ID), fetch_deadline_seconds=DEADLINE_SECONDS,
                        security=SecuritySettings(issuers=(sb.issuer(fhir_servers=(launcher.fhir_url,)),)))
    # The real FHIR client, with room for a test server that answers concurrent queries one after another
    # (sekmet on SQLite) behind a proxy (the launcher); an EHR's server answers them side by side.
    client = FhirClient(ClientLimits(read_timeout=DEADLINE_SECONDS, deadline_seconds=DEADLINE_SECONDS))
    server = make_server("127.0.0.1", 0, create_app(apps.service(settings, fetcher=client)), threaded=True,
                         request_handler=_Quiet)
    thread = threading.Thread(target=server.serve_forever, name="crs-cds-e2e", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def chromium() -> Iterator[browser.Browser]:
    if browser.executable() is None:
        _unavailable("chromium is not installed (Debian: apt-get install chromium)")
    running = browser.start()
    yield running
    running.stop()

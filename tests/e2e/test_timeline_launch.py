"""End to end: the EHR shows the CRS card, the clinician opens its SMART link, the page goes through a
real OAuth2 authorization server (the SMART reference launcher: discovery, authorization code with PKCE,
token) and reads the real FHIR server with the token (the launcher's proxy refuses requests without
one); headless Chromium draws the chart at 600 px and shows the card's grade. Then the 14-day ICU record,
drawn by ``crs-cds timeline`` from the same request the EHR sends. Screenshots go to var/artefacts/."""
from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from devkit import fhirbuild as fb
from devkit import records
from tests.e2e.conftest import CLIENT_ID
from tests.support.browser import Page
from tests.support.paths import ROOT
from tests.support.smart_launcher import encode_launch

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
ARTEFACTS = ROOT / "var" / "artefacts"
PANELS = ["grade", "temperature", "pressure", "oxygen", "vasopressors", "treatment"]


def assessment_card(service_url: str, request: dict) -> dict:
    response = requests.post(f"{service_url}/cds-services/crs-patient-view", json=request, timeout=60)
    assert response.status_code == 200, response.text
    return next(c for c in response.json()["cards"] if "crs-cds.assessment" in c.get("extension", {}))


def assert_chart_drawn(page: Page, grade: int, min_temperatures: int) -> None:
    """The page states ``grade`` and draws every panel within 600 px, with the readings and the band."""
    assert page.evaluate("document.querySelector('#grade').textContent") == str(grade)
    assert page.evaluate("document.querySelector('#assessment').dataset.grade") == str(grade)
    width, height = page.evaluate("(() => { const r = document.querySelector('#timeline-chart')"
                                  ".getBoundingClientRect(); return [r.width, r.height]; })()")
    assert 500 < width <= 600 and height > 400
    assert page.evaluate("document.documentElement.scrollWidth") <= 600  # nothing wider than the panel
    assert page.evaluate("[...document.querySelectorAll('#timeline-chart g.panel')].map(g => g.dataset.panel)") == PANELS
    assert page.evaluate("document.querySelectorAll('#timeline-chart .temperature circle.dot').length") >= min_temperatures
    assert page.evaluate("document.querySelector('#timeline-chart polyline.temperature').getBBox().width") > 100
    band = page.evaluate("[...document.querySelectorAll('#timeline-chart rect.band')].map(r => r.getAttribute('class'))")
    assert band and band[-1].split()[1] == f"grade-{grade}"
    sources = page.evaluate("[...document.querySelectorAll('#evidence td.ref')].map(td => td.textContent)")
    assert sources and all(s.startswith(("Observation/", "MedicationAdministration/")) for s in sources)


def keep_screenshot(page: Page, name: str) -> Path:
    path = ARTEFACTS / name
    png = page.screenshot(path)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width == 600 and height > 1000
    return path


def test_the_card_opens_the_timeline_through_a_real_smart_launch(fhir, launcher, service_url, chromium) -> None:
    request = {"hook": "patient-view", "hookInstance": "2bd5c3a4-64d5-4a1b-9f4e-56c1b0d1e7a9",
               "context": {"userId": "Practitioner/practitioner-1", "patientId": fb.PATIENT_ID},
               "fhirServer": fhir.base_url}  # the card's data read from the FHIR server itself
    card = assessment_card(service_url, request)
    assessment = card["extension"]["crs-cds.assessment"]
    assert assessment["missing"] == []
    (link,) = card["links"]
    assert link["type"] == "smart" and link["url"] == f"{service_url}/app/launch"

    # The EHR launches the app with iss (its FHIR server: the launcher's proxy) and an opaque launch context.
    launch = encode_launch(patient=fb.PATIENT_ID, client_id=CLIENT_ID)
    with chromium.page(600, 1000) as page:
        page.open(f"{link['url']}?iss={quote(launcher.fhir_url, safe='')}&launch={launch}", settle=0.3)
        assert page.evaluate("location.pathname + location.search") == "/app/timeline", page.evaluate(
            "document.body.innerText.slice(0, 600)")
        assert page.evaluate("document.cookie") == ""  # the session cookie is HttpOnly; no token anywhere
        assert f"{launcher.fhir_url} (SMART launch)" in page.evaluate("document.querySelector('footer').innerText")
        assert_chart_drawn(page, assessment["grade"], min_temperatures=70)
        keep_screenshot(page, "timeline-smart-launch-72h-hourly.png")


def test_the_14_day_icu_record_is_drawn_at_600_px(service_url, chromium, tmp_path) -> None:
    request = records.as_hook_request(records.RECORDS["14d-icu-15min"]())
    card = assessment_card(service_url, request)
    source = tmp_path / "14d-icu-15min.json"
    source.write_text(json.dumps(request))
    page_file = ARTEFACTS / "timeline-14d-icu-15min.html"
    page_file.parent.mkdir(parents=True, exist_ok=True)
    written = subprocess.run([str(Path(sys.executable).with_name("crs-cds")), "timeline", str(source), "--out",
                              str(page_file)], capture_output=True, text=True, timeout=120)
    assert written.returncode == 0, written.stderr
    with chromium.page(600, 1000) as page:
        page.open(page_file.as_uri(), settle=0.3)
        assert_chart_drawn(page, card["extension"]["crs-cds.assessment"]["grade"], min_temperatures=1000)
        keep_screenshot(page, "timeline-14d-icu-15min.png")

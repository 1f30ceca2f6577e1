"""A clinical constant is defined once: a site that edits its grading file changes grading, the
protocol conditions that depend on it and the card text together (issue 9, item 4).

The fever threshold lives in ``grading/data/astct.json``; protocol conditions (``febrile``,
``fever_duration_hours_gt``) and the card's onset line read it from there. Here a copy of the
grading file raises it to 38.5 °C and real requests go through the composition root.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from devkit import fhirbuild as fb
from devkit.fhirbuild import ago
from grading import load_grading_config
from grading.config import DEFAULT_CONFIG_PATH
from tests.support.apps import client

RAISED_THRESHOLD = 38.5


@pytest.fixture(scope="module")
def shipped() -> FlaskClient:
    return client()


@pytest.fixture(scope="module")
def raised(tmp_path_factory: pytest.TempPathFactory) -> FlaskClient:
    data = json.loads(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    assert data["fever"]["threshold_celsius"] == 38.0
    data["fever"]["threshold_celsius"] = RAISED_THRESHOLD
    path: Path = tmp_path_factory.mktemp("grading") / "astct.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return client(grading=load_grading_config(path))


def patient_view(c: FlaskClient, *resources: dict[str, Any]) -> list[dict[str, Any]]:
    resp = c.post("/cds-services/crs-patient-view", json=fb.hook_request([fb.patient(), fb.car_t(), *resources]))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()["cards"]


def stable(*temperatures: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    """Normal blood pressure and saturation on room air, so that fever alone decides the grade."""
    return (*temperatures, fb.blood_pressure(118, 70, ago(minutes=30)), fb.spo2(98, ago(minutes=20)),
            fb.oxygen_device("room-air", ago(minutes=20)), fb.weight(70, ago(days=1)))


def tocilizumab_suggestion(cards: list[dict[str, Any]]) -> dict[str, Any]:
    [suggestion] = [s for c in cards for s in c.get("suggestions", [])
                    if s["extension"].get("crs-cds.order", {}).get("drug") == "tocilizumab"]
    return suggestion


def test_grading_follows_the_threshold_38_3_is_no_longer_fever(shipped: FlaskClient, raised: FlaskClient) -> None:
    record = stable(fb.temperature(38.3, ago(hours=1)))
    [card] = patient_view(shipped, *record)
    assessment = card["extension"]["crs-cds.assessment"]
    assert (assessment["status"], assessment["grade"]) == ("graded", 1)
    assert "fever 38.3 °C" in assessment["drivers"]
    assert patient_view(raised, *record) == []  # no fever, so no onset and no CRS: complete data, silence


def test_a_protocol_fever_condition_follows_the_threshold(shipped: FlaskClient, raised: FlaskClient) -> None:
    # Onset 30 h ago at 39.0 °C, 38.6 °C 20 h ago, 38.3 °C 1 h ago. The generic protocol gives
    # tocilizumab at grade 1 when fever has lasted more than 24 h, counted from onset to the latest
    # temperature at or above the threshold: 29 h at 38.0 °C, only 10 h at 38.5 °C. Until then it is
    # not a suggestion (issue 11): the card says when it would apply.
    record = stable(fb.temperature(39.0, ago(hours=30)), fb.temperature(38.6, ago(hours=20)),
                    fb.temperature(38.3, ago(hours=1)))
    before, after = patient_view(shipped, *record), patient_view(raised, *record)
    assert [c["extension"]["crs-cds.assessment"]["grade"] for c in (before[0], after[0])] == [1, 1]
    assert tocilizumab_suggestion(before)["isRecommended"] is True
    assert [s for c in after for s in c.get("suggestions", [])
            if s["extension"].get("crs-cds.order", {}).get("drug") == "tocilizumab"] == []
    assert ("- Not yet: Tocilizumab 560 mg IV now (8 mg/kg × 70 kg) — if fever lasts > 24 h (fever for 10 h since "
            "onset at 2026-11-20 06:00 UTC)") in after[0]["detail"]


def test_the_card_text_follows_the_threshold(shipped: FlaskClient, raised: FlaskClient) -> None:
    record = stable(fb.temperature(39.0, ago(hours=3)))
    [before] = patient_view(shipped, *record)[:1]
    [after] = patient_view(raised, *record)[:1]
    assert "**CRS grade 1** (worst since onset 1), onset 3 h ago (fever ≥ 38.0 °C)" in before["detail"]
    assert "**CRS grade 1** (worst since onset 1), onset 3 h ago (fever ≥ 38.5 °C)" in after["detail"]

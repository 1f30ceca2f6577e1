"""Regenerate the example CDS Hooks requests in this folder.

Run from the repository root: ``.venv/bin/python examples/make_examples.py``.
Each example is a complete ``patient-view`` request whose prefetch an EHR
could have sent; ``expected.json`` records what the service must answer (and,
under ``replay``, the protocol and the site-local codes file the service runs
with for it), and ``tests/api/test_examples.py`` replays every file against it.
The ICANS examples chart the ICE score and the level of consciousness as
flowsheet rows with Epic OIDs, mapped by ``local-codes.example.yaml``.
The requests carry ``extension["crs-cds.now"]`` so they grade the same way
whenever they are replayed (honoured in development only).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from devkit import fhirbuild as fb  # noqa: E402
from devkit import records  # noqa: E402


def _request(resources: list[dict[str, Any]], hook_instance: str) -> dict[str, Any]:
    req = fb.hook_request(resources)
    req["hookInstance"] = hook_instance
    req["extension"] = {"crs-cds.now": fb.iso(fb.NOW)}
    return req


def _icans(grade: int, *drivers: str) -> dict[str, Any]:
    """The expected ``icans`` object of an example graded on complete ICANS data."""
    return {"system": "ASTCT-2019", "status": "graded", "grade": grade, "worstGrade": grade,
            "drivers": list(drivers), "missing": []}


def examples() -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """name -> (request, expected assessment extension fields)."""
    cart = fb.car_t(fb.ago(days=4), rid="cart-1")
    grade3 = [
        fb.patient("1961-02-11"), cart, *records.grade3_vitals(),
        fb.drug("norepinephrine", fb.ago(hours=2.5), open_period=True, status="in-progress",
                dose=(0.08, "ug/kg/min"), route="IV", rid="ne-1"),
    ]
    grade2 = [fb.patient("1975-09-30"), cart, *records.grade2_fahrenheit_vitals()]
    no_fever = [
        fb.patient("1958-12-01"), cart,
        fb.temperature(37.1, fb.ago(hours=1), rid="temp-1"),
        fb.blood_pressure(82, 44, fb.ago(hours=1), rid="bp-1"),
        fb.spo2(97, fb.ago(hours=1), rid="spo2-1"),
        fb.oxygen_device("room-air", fb.ago(hours=1), rid="o2-1"),
    ]
    not_eligible = [
        fb.patient("1980-01-01"),
        fb.temperature(39.0, fb.ago(hours=1), rid="temp-1"),
        fb.blood_pressure(120, 80, fb.ago(hours=1), rid="bp-1"),
        fb.spo2(98, fb.ago(hours=1), rid="spo2-1"),
    ]
    icans = [
        fb.patient("1966-07-19"), fb.car_t(fb.ago(days=6), rid="cart-1"),
        fb.temperature(37.2, fb.ago(hours=1), rid="temp-1"),
        fb.blood_pressure(124, 72, fb.ago(hours=1), rid="bp-1"),
        fb.spo2(97, fb.ago(hours=1), rid="spo2-1"),
        fb.oxygen_device("room-air", fb.ago(hours=1), rid="o2-1"),
        fb.weight(76.0, fb.ago(days=1), rid="wt-1"),
        fb.ice_score(8, fb.ago(hours=14), rid="ice-0"),
        fb.ice_score(2, fb.ago(hours=1), rid="ice-1",
                     items={"orientation": 1, "naming": 1, "commands": 0, "writing": 0, "attention": 0}),
        fb.consciousness("voice", fb.ago(hours=1), rid="loc-1"),
    ]
    crs_icans = [
        fb.patient("1972-03-08"), cart,
        fb.temperature(38.7, fb.ago(hours=26), rid="temp-onset"),
        fb.temperature(39.3, fb.ago(hours=1), rid="temp-1"),
        fb.blood_pressure(86, 50, fb.ago(hours=2), rid="bp-1"),
        fb.spo2(96, fb.ago(hours=1), rid="spo2-1"),
        fb.oxygen_device("room-air", fb.ago(hours=1), rid="o2-1"),
        fb.weight(70.0, fb.ago(days=1), rid="wt-1"),
        fb.ice_score(5, fb.ago(hours=2), rid="ice-1"),
        fb.consciousness("spontaneous", fb.ago(hours=2), rid="loc-1"),
    ]
    blinatumomab = [
        fb.patient("1985-11-02"),
        fb.drug("blinatumomab", fb.ago(days=2), open_period=True, status="in-progress", dose=(28, "ug/d"),
                route="IV", rid="blin-1"),
        fb.drug("dexamethasone", fb.ago(days=2, hours=1), dose=(20, "mg"), route="IV", rid="dex-premed"),
        fb.temperature(38.9, fb.ago(hours=9), rid="temp-onset"),
        fb.temperature(39.1, fb.ago(hours=1), rid="temp-1"),
        fb.blood_pressure(86, 52, fb.ago(hours=1), rid="bp-1"),
        fb.spo2(95, fb.ago(hours=1), flow_l_min=2, rid="spo2-1"),
        fb.oxygen_device("nasal-cannula", fb.ago(hours=1), rid="o2-1"),
        fb.weight(64.0, fb.ago(days=2), rid="wt-1"),
        fb.ice_score(10, fb.ago(hours=2), rid="ice-1"),
        fb.consciousness("alert", fb.ago(hours=2), rid="loc-1"),
    ]
    site_codes = {"localCodes": "local-codes.example.yaml"}
    return {
        "patient-view-grade3": (_request(grade3, "5f1b7e3c-7a54-4f0e-9a53-0d9d3c1b2a01"),
                                {"status": "graded", "grade": 3}),
        "patient-view-grade2-fahrenheit": (_request(grade2, "5f1b7e3c-7a54-4f0e-9a53-0d9d3c1b2a02"),
                                           {"status": "graded", "grade": 2}),
        "patient-view-hypotension-no-fever": (_request(no_fever, "5f1b7e3c-7a54-4f0e-9a53-0d9d3c1b2a03"),
                                              {"status": "not-graded", "grade": None}),
        "patient-view-not-eligible": (_request(not_eligible, "5f1b7e3c-7a54-4f0e-9a53-0d9d3c1b2a04"), {}),
        "patient-view-icans": (
            _request(icans, "5f1b7e3c-7a54-4f0e-9a53-0d9d3c1b2a05"),
            {"replay": site_codes, "status": "graded", "grade": 0,
             "icans": _icans(3, "ICE score 2", "level of consciousness: awakens to voice "
                                               "(Level of consciousness (ICANS): Awakens to voice)")}),
        "patient-view-crs-icans": (
            _request(crs_icans, "5f1b7e3c-7a54-4f0e-9a53-0d9d3c1b2a06"),
            {"replay": site_codes, "status": "graded", "grade": 2,
             "icans": _icans(2, "ICE score 5", "level of consciousness: awakens spontaneously "
                                               "(Level of consciousness (ICANS): Drowsy, awakens spontaneously)")}),
        "patient-view-blinatumomab-christie": (
            _request(blinatumomab, "5f1b7e3c-7a54-4f0e-9a53-0d9d3c1b2a07"),
            {"replay": {**site_codes, "protocol": "christie-doc644-v8"}, "status": "graded", "grade": 2,
             "protocol": "christie-doc644-v8",
             "icans": _icans(0)}),
    }


def main() -> None:
    expected: dict[str, Any] = {}
    for name, (request, outcome) in examples().items():
        (HERE / f"{name}.json").write_text(json.dumps(request, indent=2, ensure_ascii=False) + "\n")
        expected[f"{name}.json"] = outcome
    (HERE / "expected.json").write_text(json.dumps(expected, indent=2) + "\n")
    print(f"wrote {len(expected)} examples to {HERE}")


if __name__ == "__main__":
    main()

"""Synthetic CAR-T patient records of realistic size for benchmarks and load tests.

A record is a list of FHIR R4 resources: vitals every ``step`` over ``hours``,
daily weight and labs, a CAR-T infusion before the window, antipyretics,
tocilizumab doses and a norepinephrine infusion near the end, so that grading
has real work to do (onset search, masking, worst grade since onset).
"""
from __future__ import annotations

import random
from typing import Any

from devkit import fhirbuild as fb

HEART_RATE = "8867-4"
RESP_RATE = "9279-1"


def grade3_vitals(prefix: str = "") -> list[dict[str, Any]]:
    """The vital signs of the README's grade 3 example (and of the EHR kit's): fever since 20 h ago, 39.2 °C
    now, systolic 84 mmHg 3 h ago, nasal cannula 4 L/min, 70 kg; resource ids ``prefix`` + ``temp-1`` ..."""
    return [
        fb.temperature(38.4, fb.ago(hours=20), rid=f"{prefix}temp-onset"),
        fb.temperature(39.2, fb.ago(hours=1), rid=f"{prefix}temp-1"),
        fb.blood_pressure(84, 48, fb.ago(hours=3), rid=f"{prefix}bp-1"),
        fb.blood_pressure(102, 60, fb.ago(hours=1), rid=f"{prefix}bp-2"),
        fb.spo2(95, fb.ago(hours=1), flow_l_min=4, rid=f"{prefix}spo2-1"),
        fb.oxygen_device("nasal-cannula", fb.ago(hours=1), rid=f"{prefix}o2-1"),
        fb.weight(70.0, fb.ago(days=1), rid=f"{prefix}wt-1"),
    ]


def grade2_fahrenheit_vitals(prefix: str = "") -> list[dict[str, Any]]:
    """The vital signs of the grade 2 example (a temperature charted in °F, low-flow oxygen, 82.5 kg)."""
    return [
        fb.temperature(100.9, fb.ago(hours=2), unit="[degF]", rid=f"{prefix}temp-f"),
        fb.blood_pressure(118, 70, fb.ago(hours=2), rid=f"{prefix}bp-1"),
        fb.spo2(93, fb.ago(hours=2), flow_l_min=3, rid=f"{prefix}spo2-1"),
        fb.oxygen_device("nasal-cannula", fb.ago(hours=2), rid=f"{prefix}o2-1"),
        fb.weight(82.5, fb.ago(days=2), rid=f"{prefix}wt-1"),
    ]


def record(hours: int, step_minutes: int, seed: int = 7) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    res: list[dict[str, Any]] = [fb.patient("1968-03-14"), fb.car_t(fb.ago(hours=hours + 24))]
    n = hours * 60 // step_minutes
    for i in range(n):
        back = fb.ago(minutes=i * step_minutes)
        febrile = i * step_minutes < 36 * 60
        res.append(fb.temperature(round(rnd.uniform(38.1, 39.6) if febrile else rnd.uniform(36.4, 37.6), 1), back))
        res.append(fb.blood_pressure(rnd.randint(84, 128), rnd.randint(45, 80), back))
        res.append(fb.spo2(rnd.randint(91, 99), back, flow_l_min=rnd.choice([None, 2, 3, 4])))
        res.append(fb._obs(HEART_RATE, "Heart rate", back, valueQuantity=fb.quantity(rnd.randint(70, 130), "/min")))
        if step_minutes >= 60 or i % 4 == 0:
            res.append(fb.mean_arterial_pressure(rnd.randint(55, 90), back))
            res.append(fb.oxygen_flow(rnd.choice([2, 3, 4]), back))
            rate = fb.quantity(rnd.randint(12, 28), "/min")
            res.append(fb._obs(RESP_RATE, "Respiratory rate", back, valueQuantity=rate))
        if i % max(1, 240 // step_minutes) == 0:
            res.append(fb.oxygen_device("nasal-cannula", back))
    for d in range(hours // 24 + 1):
        day = fb.ago(days=d, hours=6)
        res.append(fb.weight(round(rnd.uniform(69, 72), 1), day))
        res.append(fb.lab("751-8", round(rnd.uniform(0.2, 3.0), 2), "10*9/L", day))
        res.append(fb.lab("1988-5", rnd.randint(20, 250), "mg/L", day))
        res.append(fb.lab("2276-4", rnd.randint(500, 9000), "ug/L", day))
        res.append(fb.lab("2160-0", round(rnd.uniform(0.7, 2.2), 2), "mg/dL", day))
    for h in range(0, hours, 6):
        res.append(fb.drug("acetaminophen", fb.ago(hours=h), dose=(1000, "mg"), route="PO"))
    res.append(fb.drug("tocilizumab", fb.ago(hours=20), dose=(560, "mg"), route="IV"))
    res.append(fb.drug("tocilizumab", fb.ago(hours=10), dose=(560, "mg"), route="IV"))
    res.append(fb.drug("norepinephrine", fb.ago(hours=4), open_period=True, status="in-progress",
                       dose=(0.05, "ug/kg/min"), route="IV"))
    return res


def as_hook_request(resources: list[dict[str, Any]]) -> dict[str, Any]:
    req = fb.hook_request(resources)
    req["extension"] = {"crs-cds.now": fb.iso(fb.NOW)}
    return req


RECORDS = {
    "72h-hourly": lambda: record(hours=72, step_minutes=60),
    "14d-icu-15min": lambda: record(hours=14 * 24, step_minutes=15),
}


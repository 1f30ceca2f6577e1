"""Domain-level builders for protocol tests: snapshots and assessments relative to a fixed NOW.

Protocol tests start from the dataclasses the mapping and grading layers
produce (not FHIR JSON), so they test dosing rules and nothing else.
"""
from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

from clinical import (
    Assessment,
    ClinicalSnapshot,
    DrugAdministration,
    Evidence,
    IcansAssessment,
    IcansDriver,
    Measurement,
    Temperature,
)
from clinical.neuro import IceScore

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
DRUG_CLASSES = {
    "tocilizumab": "anti-il6", "siltuximab": "anti-il6", "anakinra": "il1-antagonist",
    "dexamethasone": "corticosteroid", "methylprednisolone": "corticosteroid", "acetaminophen": "antipyretic",
    "axicabtagene-ciloleucel": "index-therapy", "norepinephrine": "vasopressor",
    "blinatumomab": "index-therapy", "teclistamab": "index-therapy",
}
INDEX_CLASSES = {"axicabtagene-ciloleucel": "car-t", "blinatumomab": "t-cell-engager", "teclistamab": "t-cell-engager"}
_ids = itertools.count(1)


def hours_ago(hours: float) -> datetime:
    return NOW - timedelta(hours=hours)


def administration(drug: str, hours: float, *, status: str = "completed", dose_mg: float | None = None,
                   source: str | None = None) -> DrugAdministration:
    """A MedicationAdministration of ``drug`` started ``hours`` before NOW (running when in progress)."""
    return DrugAdministration(
        drug=drug, drug_class=DRUG_CLASSES.get(drug, "other"), start=hours_ago(hours),
        end=None if status == "in-progress" else hours_ago(hours), status=status,
        source=source or f"MedicationAdministration/{drug}-{next(_ids)}", matched_by="code", matched_on=drug,
        display=drug, dose_mg=dose_mg, index_class=INDEX_CLASSES.get(drug))


INDEX_THERAPY = administration("axicabtagene-ciloleucel", 24 * 6, source="MedicationAdministration/cart")


def weight(kg: float, *, days: float = 1, source: str = "Observation/weight") -> Measurement:
    return Measurement("weight", kg, "kg", NOW - timedelta(days=days), source, f"{kg} kg")


def height(cm: float, *, days: float = 1, source: str = "Observation/height") -> Measurement:
    return Measurement("height", cm, "cm", NOW - timedelta(days=days), source, f"{cm} cm")


def anc(value: float, *, hours: float = 2, source: str = "Observation/anc") -> Measurement:
    return Measurement("anc", value, "10*9/L", hours_ago(hours), source, f"{value} 10*9/L")


def temperature(celsius: float, hours: float) -> Temperature:
    return Temperature(celsius, hours_ago(hours), f"Observation/t{next(_ids)}", f"{celsius} Cel")


def snapshot(*, weight_kg: float | None = 70, measurements: tuple[Measurement, ...] = (),
             administrations: tuple[DrugAdministration, ...] = (), temperatures: tuple[Temperature, ...] = (),
             birth_date: date | None = date(1970, 5, 1),
             index: DrugAdministration | None = INDEX_THERAPY) -> ClinicalSnapshot:
    base = (weight(weight_kg),) if weight_kg is not None else ()
    return ClinicalSnapshot("p1", birth_date=birth_date, temperatures=temperatures,
                            measurements=base + measurements,
                            administrations=((index,) if index else ()) + administrations)


def icans(grade: int, *, onset_hours: float = 6, lower_bound: bool = False) -> IcansAssessment:
    """An ICANS assessment of ``grade`` driven by an ICE score, onset ``onset_hours`` ago."""
    ice = IceScore({1: 8, 2: 5, 3: 2, 4: None}[grade], hours_ago(1), "Observation/ice", "ICE",
                   unarousable=grade == 4)
    return IcansAssessment("graded", NOW, grade=grade, worst_grade=grade, lower_bound=lower_bound,
                           onset=hours_ago(onset_hours), drivers=(IcansDriver("ice", grade, ice),))


def assessment(grade: int, *, hypotension_grade: int = 0, hypoxia_grade: int = 0, fever: bool = True,
               masked: bool = False, onset_hours: float | None = 10, lower_bound: bool = False,
               index: DrugAdministration | None = INDEX_THERAPY, evidence: tuple[Evidence, ...] = (),
               status: str = "graded", icans_grade: int | None = None) -> Assessment:
    return Assessment(status=status, now=NOW, grade=grade, worst_grade=grade, lower_bound=lower_bound,  # type: ignore[arg-type]
                      hypotension_grade=hypotension_grade, hypoxia_grade=hypoxia_grade, fever_present=fever,
                      masked=masked, onset=hours_ago(onset_hours) if onset_hours is not None else None,
                      index_therapy=index, evidence=evidence,
                      icans=icans(icans_grade) if icans_grade is not None else None)

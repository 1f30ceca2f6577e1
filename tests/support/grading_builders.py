"""Build ClinicalSnapshots for grading tests in clinical terms.

``temp(39.2, hours_ago=1)``, ``bp(84, hours_ago=3)``, ``o2("nasal-cannula", flow=4)``,
``pressor("norepinephrine", started_hours_ago=3)`` (running) and
``snapshot(car_t(), ...)`` — every time relative to the fixed ``NOW`` so no
test reads the clock. Each value gets a unique FHIR reference so tests can
check which observation a finding came from.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from cards.wording import evidence as wording
from cards.wording import findings
from clinical import (
    Assessment,
    BloodPressure,
    ClinicalSnapshot,
    DrugAdministration,
    IcansAssessment,
    Measurement,
    OxygenSupport,
    SpO2,
    Temperature,
)
from clinical.neuro import (
    Attribution,
    CapdScore,
    CerebralOedema,
    Consciousness,
    IceScore,
    MotorWeakness,
    NeuroFinding,
    Seizure,
)
from grading import grade_crs, grade_icans
from tests.support.clinical_data import GRADING

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
ADULT_BIRTH_DATE = date(1970, 5, 1)
_ids = itertools.count(1)


def ago(hours: float = 0, days: float = 0, minutes: float = 0) -> datetime:
    return NOW - timedelta(hours=hours, days=days, minutes=minutes)


def _ref(kind: str, source: str | None) -> str:
    return source or f"{kind}/{next(_ids)}"


def temp(celsius: float, hours_ago: float = 1, *, source: str | None = None,
         original: str | None = None) -> Temperature:
    return Temperature(celsius, ago(hours_ago), _ref("Observation", source), original or f"{celsius:g} Cel")


def bp(systolic: float | None, hours_ago: float = 1, *, mean: float | None = None, diastolic: float | None = None,
       source: str | None = None) -> BloodPressure:
    return BloodPressure(ago(hours_ago), _ref("Observation", source), systolic=systolic, mean=mean,
                         diastolic=diastolic)


def o2(device: str | None = None, hours_ago: float = 1, *, flow: float | None = None, fio2: float | None = None,
       source: str | None = None) -> OxygenSupport:
    return OxygenSupport(ago(hours_ago), _ref("Observation", source), device=device,  # type: ignore[arg-type]
                         device_display=device, flow_l_min=flow, fio2_percent=fio2)


def sat(percent: float, hours_ago: float = 1, *, source: str | None = None) -> SpO2:
    return SpO2(percent, ago(hours_ago), _ref("Observation", source))


def lab(kind: str, value: float, unit: str, hours_ago: float = 2) -> Measurement:
    return Measurement(kind, value, unit, ago(hours_ago), _ref("Observation", None), f"{value:g} {unit}")


DRUG_CLASSES = {
    "norepinephrine": "vasopressor", "epinephrine": "vasopressor", "phenylephrine": "vasopressor",
    "dopamine": "vasopressor", "vasopressin": "vasopressor", "angiotensin-ii": "vasopressor",
    "dobutamine": "inotrope", "milrinone": "inotrope",
    "acetaminophen": "antipyretic", "ibuprofen": "antipyretic",
    "tocilizumab": "anti-il6", "siltuximab": "anti-il6", "anakinra": "il1-antagonist",
    "dexamethasone": "corticosteroid", "methylprednisolone": "corticosteroid",
    "axicabtagene-ciloleucel": "index-therapy", "tisagenlecleucel": "index-therapy",
    "blinatumomab": "index-therapy", "teclistamab": "index-therapy",
}


MASS_UNITS = {"mg": 1.0, "ug": 0.001, "g": 1000.0}  # as the mapping converts them (fhir_mappings/data/units.json)


def drug(name: str, hours_ago: float, *, end_hours_ago: float | str | None = "same", status: str = "completed",
         source: str | None = None, dose: tuple[float, str] | None = None, **kw: Any) -> DrugAdministration:
    """An administration at ``hours_ago``; ``end_hours_ago=None`` means an open period."""
    start = ago(hours_ago)
    end = start if end_hours_ago == "same" else (None if end_hours_ago is None else ago(end_hours_ago))  # type: ignore[arg-type]
    return DrugAdministration(
        drug=name, drug_class=DRUG_CLASSES.get(name, "other"),  # type: ignore[arg-type]
        start=start, end=end, status=status, source=_ref("MedicationAdministration", source),
        matched_by="code", matched_on=name, display=name.replace("-", " ").title(),
        dose_value=dose[0] if dose else None, dose_unit=dose[1] if dose else None,
        dose_mg=dose[0] * MASS_UNITS[dose[1]] if dose and dose[1] in MASS_UNITS else None, **kw)


def pressor(name: str, started_hours_ago: float, stopped_hours_ago: float | None = None, *,
            source: str | None = None) -> DrugAdministration:
    """A vasopressor/inotrope infusion: running (in progress, open period) unless ``stopped_hours_ago``."""
    if stopped_hours_ago is None:
        return drug(name, started_hours_ago, end_hours_ago=None, status="in-progress", source=source,
                    dose=(0.05, "ug/kg/min"))
    return drug(name, started_hours_ago, end_hours_ago=stopped_hours_ago, status="completed", source=source,
                dose=(0.05, "ug/kg/min"))


def car_t(days_ago: float = 5, *, source: str | None = "MedicationAdministration/cart") -> DrugAdministration:
    return drug("axicabtagene-ciloleucel", days_ago * 24, source=source)


def snapshot(*items: Any, birth_date: date | None = ADULT_BIRTH_DATE,
             unavailable: tuple[str, ...] = ()) -> ClinicalSnapshot:
    """A snapshot holding ``items`` sorted into their lists by type and time."""
    def of(kind: type) -> tuple:
        return tuple(sorted((i for i in items if isinstance(i, kind)),
                            key=lambda i: i.start if isinstance(i, DrugAdministration) else i.time))
    return ClinicalSnapshot(
        patient_id="p1", birth_date=birth_date, temperatures=of(Temperature), blood_pressures=of(BloodPressure),
        oxygen=of(OxygenSupport), spo2=of(SpO2), measurements=of(Measurement), administrations=of(DrugAdministration),
        neuro=tuple(sorted((i for i in items if isinstance(i, NeuroFinding)), key=lambda i: i.time)),
        unavailable=unavailable)


def _attributed(source: str, cause: str | None) -> Attribution | None:
    return Attribution(f"Observation/attr-{source.rsplit('/', 1)[-1]}", cause) if cause else None


def ice(score: int | None, hours_ago: float = 1, *, source: str | None = None,
        other_cause: str | None = None) -> IceScore:
    """An ICE score (None: charted as not performable, patient unarousable)."""
    ref = _ref("Observation", source)
    return IceScore(score, ago(hours_ago), ref, "ICE score" if score is None else f"ICE score {score}",
                    unarousable=score is None, attribution=_attributed(ref, other_cause))


def capd(score: int | None, hours_ago: float = 1, *, source: str | None = None) -> CapdScore:
    return CapdScore(score, ago(hours_ago), _ref("Observation", source), f"CAPD {score}", unarousable=score is None)


def loc(level: str, hours_ago: float = 1, *, source: str | None = None, other_cause: str | None = None,
        original: str | None = None) -> Consciousness:
    """A level of consciousness: alert, spontaneous, voice, tactile or unarousable."""
    ref = _ref("Observation", source)
    return Consciousness(level, ago(hours_ago), ref, original or f"LOC {level}",  # type: ignore[arg-type]
                         attribution=_attributed(ref, other_cause))


def seizure(character: str = "seizure", hours_ago: float = 1, *, minutes: float | None = None,
            resolved: bool | None = None, source: str | None = None) -> Seizure:
    return Seizure(character, ago(hours_ago), _ref("Condition", source), f"seizure {character}",  # type: ignore[arg-type]
                   duration_minutes=minutes, resolved=resolved)


def motor(character: str = "deep-focal", hours_ago: float = 1, *, source: str | None = None) -> MotorWeakness:
    return MotorWeakness(character, ago(hours_ago), _ref("Observation", source), "hemiparesis")  # type: ignore[arg-type]


def oedema(character: str, hours_ago: float = 1, *, source: str | None = None) -> CerebralOedema:
    return CerebralOedema(character, ago(hours_ago), _ref("Observation", source), f"MRI: {character}")  # type: ignore[arg-type]


def complete_normal_vitals(hours_ago: float = 1) -> list[Any]:
    """A normal BP and room air with SpO2 so that only the finding under test drives the grade."""
    return [bp(120, hours_ago, mean=85), o2("room-air", hours_ago), sat(98, hours_ago)]


def birth_date_for_age(years: int) -> date:
    """A birth date making the patient exactly ``years`` old (completed) at NOW."""
    return date(NOW.year - years, 1, 1)


@dataclass(frozen=True, slots=True)
class WordedEvidence:
    """An evidence row as the card shows it (``value`` in words), with the typed fact behind it."""

    role: str
    what: str
    value: str
    time: datetime
    source: str
    fact: Any


class Worded:
    """An ``Assessment`` whose drivers, missing inputs, notes and evidence values read as the card words
    them (``cards.wording``): grading hands over typed values; these tests check what clinicians read.
    ``typed`` is the assessment itself; every other attribute is read from it."""

    def __init__(self, assessment: Assessment | IcansAssessment) -> None:
        self.typed = assessment
        self.drivers = tuple(findings.driver(d) for d in assessment.drivers)
        self.missing = tuple(findings.missing(m) for m in assessment.missing)
        self.notes = tuple(findings.note(n, assessment.now) for n in assessment.notes)
        self.evidence = tuple(WordedEvidence(e.role, e.what, wording.value(e), e.time, e.source, e.fact)
                              for e in assessment.evidence)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.typed, name)


def worded(assessment: Assessment | IcansAssessment) -> Worded:
    return Worded(assessment)


def assess(*items: Any, with_car_t: bool = True, config: Any = None, now: datetime = NOW,
           birth_date: date | None = ADULT_BIRTH_DATE, unavailable: tuple[str, ...] = ()) -> Any:
    """Grade ``items`` for a CAR-T patient (infused 5 days ago unless ``with_car_t=False``)."""
    extra = (car_t(),) if with_car_t else ()
    return worded(grade_crs(snapshot(*extra, *items, birth_date=birth_date, unavailable=unavailable), now,
                            config or GRADING))


def assess_icans(*items: Any, with_car_t: bool = True, config: Any = None, now: datetime = NOW,
                 birth_date: date | None = ADULT_BIRTH_DATE, unavailable: tuple[str, ...] = ()) -> Any:
    """Grade ICANS for ``items`` of a CAR-T patient (infused 5 days ago unless ``with_car_t=False``)."""
    extra = (car_t(),) if with_car_t else ()
    return worded(grade_icans(snapshot(*extra, *items, birth_date=birth_date, unavailable=unavailable), now,
                              config or GRADING))


# --- hypothesis strategies: arbitrary records of the events above --------------------------------------

HOURS = st.integers(min_value=0, max_value=144).map(lambda h: h / 2)  # 0-72 h ago, half-hour steps
EVENTS = st.lists(st.one_of(
    st.builds(lambda c, h: temp(c, h), st.sampled_from([36.8, 37.9, 38.0, 38.7, 39.6]), HOURS),
    st.builds(lambda s, m, h: bp(s, h, mean=m), st.sampled_from([78, 89, 95, 120]), st.sampled_from([None, 60, 80]),
              HOURS),
    st.builds(lambda d, f, h: o2(d, h, flow=f),
              st.sampled_from([None, "room-air", "nasal-cannula", "simple-facemask", "cpap"]),
              st.sampled_from([None, 2, 8]), HOURS),
    st.builds(lambda d, h, dur: pressor(d, h, None if dur is None else max(0.0, h - dur)),
              st.sampled_from(["norepinephrine", "phenylephrine", "vasopressin", "epinephrine", "dobutamine"]),
              HOURS, st.sampled_from([None, 0, 2, 10, 20])),
    st.builds(lambda d, h: drug(d, h), st.sampled_from(["tocilizumab", "acetaminophen"]), HOURS),
), max_size=25)

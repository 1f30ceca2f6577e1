"""fhir_mappings: the whole snapshot - patient, ordering, duplicates, robustness, code-list loading."""
from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinical import ClinicalSnapshot
from devkit import fhirbuild as fb
from fhir_mappings import FUTURE_TOLERANCE, CodeListError, load_code_lists, map_resources
from fhir_mappings.codes import DATA_DIR
from fhir_mappings.fhirtime import parse_birth_date, parse_datetime
from tests.support.clinical_data import CODES


def snap(resources, **kw):
    kw.setdefault("patient_id", fb.PATIENT_ID)
    kw.setdefault("now", fb.NOW)
    kw.setdefault("codes", CODES)
    return map_resources(resources, **kw)


def assert_sorted(s: ClinicalSnapshot) -> None:
    for items in (s.temperatures, s.blood_pressures, s.oxygen, s.spo2, s.measurements):
        times = [x.time for x in items]
        assert times == sorted(times)
    starts = [a.start for a in s.administrations]
    assert starts == sorted(starts)


# --- patient ------------------------------------------------------------------

@pytest.mark.parametrize("birth, expected", [("1970-05-01", date(1970, 5, 1)), ("1970-05", date(1970, 5, 1)),
                                             ("1970", date(1970, 1, 1)), ("garbage", None)])
def test_birth_date_full_and_partial(birth: str, expected: date | None) -> None:
    assert snap([fb.patient(birth)]).birth_date == expected


def test_birth_date_only_from_the_requested_patient() -> None:
    s = snap([fb.patient("1950-01-01", pid="someone-else"), fb.patient("2015-06-30")])
    assert s.birth_date == date(2015, 6, 30)
    assert [(e.source, e.reason) for e in s.excluded] == [("Patient/someone-else", "other-patient")]


def test_the_only_patient_is_the_patient_whatever_its_id() -> None:
    anonymous = fb.patient("2001-02-03")
    del anonymous["id"]
    assert snap([anonymous]).birth_date == date(2001, 2, 3)
    s = snap([fb.patient("2001-02-03", pid="p1-merged")])
    assert s.birth_date == date(2001, 2, 3) and s.excluded == ()


def test_several_patients_none_matching_gives_no_birth_date() -> None:
    s = snap([fb.patient("1950-01-01", pid="a"), fb.patient("1960-01-01", pid="b")])
    assert s.birth_date is None
    assert [e.reason for e in s.excluded] == ["other-patient", "other-patient"]


def test_patient_id_may_be_given_as_reference() -> None:
    s = snap([fb.patient("1980-01-01"), fb.temperature(38.5, fb.ago(hours=1))], patient_id="Patient/p1")
    assert s.patient_id == "p1" and s.birth_date == date(1980, 1, 1) and len(s.temperatures) == 1


def test_age_years_from_mapped_birth_date() -> None:
    assert snap([fb.patient("2016-11-22")]).age_years(fb.NOW) == 9


# --- whole snapshot -------------------------------------------------------------

def test_outputs_sorted_by_time_whatever_the_input_order() -> None:
    resources = [
        fb.temperature(38.1, fb.ago(hours=1)), fb.temperature(39.0, fb.ago(hours=20)), fb.temperature(37.2, fb.ago(hours=5)),
        fb.blood_pressure(100, 60, fb.ago(hours=2)), fb.systolic(85, fb.ago(hours=9)),
        fb.spo2(95, fb.ago(hours=1), flow_l_min=2), fb.oxygen_device("nasal-cannula", fb.ago(hours=7)),
        fb.weight(70, fb.ago(days=1)), fb.lab("751-8", 0.3, "10*9/L", fb.ago(days=2)),
        fb.drug("tocilizumab", fb.ago(hours=3)), fb.car_t(fb.ago(days=4)),
    ]
    s = snap(list(reversed(resources)))
    assert_sorted(s)
    assert [t.celsius for t in s.temperatures] == [39.0, 37.2, 38.1]
    assert s.administrations[0].drug_class == "index-therapy"


def test_unavailable_passes_through() -> None:
    s = snap([], unavailable=["observations: FHIR server returned 503"])
    assert s.unavailable == ("observations: FHIR server returned 503",)
    assert s.patient_id == "p1" and s.birth_date is None


def test_bundles_are_unpacked() -> None:
    s = snap([fb.bundle(fb.temperature(38.2, fb.ago(hours=1)), fb.drug("acetaminophen", fb.ago(hours=1)))])
    assert len(s.temperatures) == 1 and len(s.administrations) == 1


def test_duplicate_resources_counted_once_newest_version_wins() -> None:
    dose = fb.drug("tocilizumab", fb.ago(hours=4), rid="toc-1")
    s = snap([dose, json.loads(json.dumps(dose))])
    assert len(s.administrations) == 1
    old = fb.temperature(39.4, fb.ago(hours=1), rid="t-1", meta={"lastUpdated": fb.iso(fb.ago(hours=1))})
    new = fb.temperature(39.4, fb.ago(hours=1), rid="t-1", status="entered-in-error",
                         meta={"lastUpdated": fb.iso(fb.ago(minutes=30))})
    for order in ([old, new], [new, old]):
        s = snap(order)
        assert s.temperatures == ()
        assert [(e.source, e.reason) for e in s.excluded] == [("Observation/t-1", "entered-in-error")]


def test_future_tolerance_is_five_minutes() -> None:
    assert timedelta(minutes=5) == FUTURE_TOLERANCE


def test_naive_now_is_taken_as_utc() -> None:
    s = snap([fb.temperature(38.2, fb.ago(hours=1))], now=fb.NOW.replace(tzinfo=None))
    assert len(s.temperatures) == 1


# --- robustness -----------------------------------------------------------------

MALFORMED = [
    None, 42, "Observation", [], {}, {"resourceType": None}, {"id": "x"},
    {"resourceType": "Observation"},
    {"resourceType": "Observation", "id": "m1", "status": "final", "code": [], "valueQuantity": "abc"},
    {"resourceType": "Observation", "id": "m2", "status": "final", "code": {"coding": "8310-5"}},
    {"resourceType": "Observation", "id": "m3", "status": "final",
     "code": {"coding": [{"system": fb.LOINC, "code": "8310-5"}]}, "effectiveDateTime": 12,
     "valueQuantity": {"value": 39}},
    {"resourceType": "Observation", "id": "m4", "status": ["final"],
     "code": {"coding": [{"system": fb.LOINC, "code": "8310-5"}]}},
    {"resourceType": "Observation", "id": "m5", "status": "final",
     "code": {"coding": [{"system": fb.LOINC, "code": "8310-5"}]}, "effectiveDateTime": fb.iso(fb.ago(hours=1)),
     "valueQuantity": {"value": "39.5", "code": "Cel"}},
    {"resourceType": "Observation", "id": "m6", "status": "final",
     "code": {"coding": [{"system": fb.LOINC, "code": "8310-5"}]}, "effectiveDateTime": fb.iso(fb.ago(hours=1)),
     "valueQuantity": {"value": True, "code": "Cel"}},
    {"resourceType": "Observation", "id": "m7", "status": "final", "subject": "Patient/p1",
     "code": {"coding": [{"system": fb.LOINC, "code": "85354-9"}]}, "effectiveDateTime": fb.iso(fb.ago(hours=1)),
     "component": [None, {"code": None}, {"code": {"coding": [{"system": fb.LOINC, "code": "8480-6"}]},
                                          "valueQuantity": {"value": 1e400}}]},
    {"resourceType": "Observation", "id": "m8", "status": "final",
     "code": {"coding": [{"system": fb.LOINC, "code": {"x": 1}}, {"system": [1], "code": "8310-5"}]}},
    {"resourceType": "Observation", "id": "m9", "status": "final",
     "code": {"coding": [{"system": fb.LOINC, "code": "107117-4"}]}, "effectiveDateTime": fb.iso(fb.ago(hours=1)),
     "valueCodeableConcept": {"coding": [None, {"system": fb.SNOMED, "code": 5}], "text": 7}, "component": "x"},
    {"resourceType": "MedicationAdministration", "id": "d1", "status": "completed",
     "medicationCodeableConcept": "tocilizumab", "effectiveDateTime": fb.iso(fb.ago(hours=1))},
    {"resourceType": "MedicationAdministration", "id": "d2", "status": "completed",
     "medicationReference": {"reference": ["#m"]}, "contained": "nope", "effectivePeriod": []},
    {"resourceType": "MedicationAdministration", "id": "d3", "status": "completed",
     "medicationReference": {"reference": "#m"}, "contained": [None, {"id": "m", "ingredient": [None, {"itemReference": 3}]}],
     "effectivePeriod": {"start": 5}},
    {"resourceType": "MedicationAdministration", "id": "d4", "status": 3, "subject": {"reference": 9},
     "medicationCodeableConcept": {"text": "Actemra"}, "effectiveDateTime": fb.iso(fb.ago(hours=1)),
     "dosage": {"dose": {"value": float("nan"), "code": "mg"}, "route": {"coding": "IV", "text": ["IV"]}}},
    {"resourceType": "Medication", "id": 5, "code": None},
    {"resourceType": "Patient", "id": "p1", "birthDate": 1970},
    {"resourceType": "Bundle", "entry": [None, {"resource": None}, {"resource": {"resourceType": 3}}]},
]


def test_malformed_resources_never_raise() -> None:
    s = snap(MALFORMED + [fb.temperature(38.3, fb.ago(hours=1))])
    assert [t.celsius for t in s.temperatures] == [38.3]
    reasons = {e.source: e.reason for e in s.excluded}
    assert reasons["Observation/m3"] == "no-time"
    assert reasons["Observation/m5"] == "unreadable"
    assert reasons["Observation/m7"] == "unreadable"
    assert reasons["Observation/m4"] == "no-status"
    [toc] = s.administrations
    assert (toc.source, toc.drug, toc.status, toc.dose_value, toc.route) == (
        "MedicationAdministration/d4", "tocilizumab", "unknown", None, None)


def test_not_even_a_list() -> None:
    assert snap(None).temperatures == ()  # type: ignore[arg-type]
    assert snap(iter([fb.temperature(38.0, fb.ago(hours=1))])).temperatures[0].celsius == 38.0


_scalars = st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=True) | st.text(max_size=12)
_json = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                     max_leaves=12)
_codes = st.sampled_from(["8310-5", "85354-9", "8480-6", "8478-0", "59408-5", "3151-8", "107117-4", "29463-7",
                          "751-8", "7512", "612865", "426854004", "x"])
_systems = st.sampled_from([fb.LOINC, fb.SNOMED, fb.RXNORM, fb.UCUM, ""])
_coding = st.fixed_dictionaries({"system": _systems | _json, "code": _codes | _json}, optional={"display": _json})
_concept = st.fixed_dictionaries({}, optional={"coding": st.lists(_coding | _json, max_size=3), "text": _json}) | _json
_quantity = st.fixed_dictionaries({}, optional={"value": _scalars, "code": st.sampled_from(["Cel", "[degF]", "mm[Hg]", "%",
                                                                                              "L/min", "kg", "mg"]) | _json,
                                                 "system": st.just(fb.UCUM) | _json, "unit": _json}) | _json
_when = st.sampled_from([fb.iso(fb.ago(hours=1)), fb.iso(fb.ago(days=3)), "2026-11-21", "2026", "2099-01-01T00:00:00Z"]) | _json
_resource = st.fixed_dictionaries(
    {"resourceType": st.sampled_from(["Observation", "MedicationAdministration", "Medication", "Patient", "Bundle"]) | _json},
    optional={
        "id": st.sampled_from(["a", "b", "p1"]) | _json,
        "status": st.sampled_from(["final", "entered-in-error", "completed", "not-done", "in-progress"]) | _json,
        "code": _concept, "valueQuantity": _quantity, "valueCodeableConcept": _concept, "valueString": _json,
        "component": st.lists(st.fixed_dictionaries({}, optional={"code": _concept, "valueQuantity": _quantity,
                                                                   "valueCodeableConcept": _concept}) | _json, max_size=3) | _json,
        "effectiveDateTime": _when, "effectivePeriod": st.fixed_dictionaries({}, optional={"start": _when, "end": _when}) | _json,
        "subject": st.fixed_dictionaries({}, optional={"reference": st.sampled_from(["Patient/p1", "Patient/p2", "#x"]) | _json}) | _json,
        "medicationCodeableConcept": _concept,
        "medicationReference": st.fixed_dictionaries({}, optional={"reference": st.sampled_from(["#a", "Medication/a", "Medication/b"]) | _json,
                                                                   "display": _json}) | _json,
        "contained": st.lists(_json, max_size=2) | _json,
        "ingredient": st.lists(st.fixed_dictionaries({}, optional={"itemCodeableConcept": _concept, "itemReference": _json}), max_size=2) | _json,
        "dosage": st.fixed_dictionaries({}, optional={"dose": _quantity, "route": _concept}) | _json,
        "birthDate": st.sampled_from(["1970", "1970-01", "1970-01-01"]) | _json,
        "dataAbsentReason": _json,
        "meta": st.fixed_dictionaries({}, optional={"lastUpdated": _when}) | _json,
        "entry": st.lists(_json, max_size=2) | _json,
    })


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_resource | _json, max_size=8))
def test_arbitrary_json_never_raises_and_output_is_sorted(resources: list) -> None:
    s = snap(resources)
    assert isinstance(s, ClinicalSnapshot)
    assert_sorted(s)
    latest = fb.NOW + FUTURE_TOLERANCE
    for t in s.temperatures:
        assert t.time <= latest and t.time.tzinfo is not None and 25 <= t.celsius <= 46
    for a in s.administrations:
        assert a.start <= latest and a.matched_by in ("code", "ingredient-code", "name")


# --- time parsing -----------------------------------------------------------------

UTC = UTC


@pytest.mark.parametrize("text, expected", [
    ("2026-11-21T12:00:00Z", datetime(2026, 11, 21, 12, tzinfo=UTC)),
    ("2026-11-21T12:00Z", datetime(2026, 11, 21, 12, tzinfo=UTC)),
    ("2026-11-21T12:00:00.5+01:00", datetime(2026, 11, 21, 11, 0, 0, 500000, tzinfo=UTC)),
    ("2026-11-21T12:00:00", datetime(2026, 11, 21, 12, tzinfo=UTC)),
    ("2026-11-21", datetime(2026, 11, 21, tzinfo=UTC)),
    ("2026-11", None), ("2026", None), ("", None), ("tomorrow!!", None), (12, None), (None, None),
    ("0001-01-01T00:00:00+05:00", None),
])
def test_parse_datetime(text: object, expected: datetime | None) -> None:
    assert parse_datetime(text) == expected


@pytest.mark.parametrize("text, expected", [("1999", date(1999, 1, 1)), ("1999-07", date(1999, 7, 1)),
                                            ("1999-07-15", date(1999, 7, 15)), ("1999-07-15T00:00:00Z", date(1999, 7, 15)),
                                            ("+999", None), ("1999-13", None), (1999, None)])
def test_parse_birth_date(text: object, expected: date | None) -> None:
    assert parse_birth_date(text) == expected


# --- code lists ----------------------------------------------------------------------

def _copy_data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(DATA_DIR, folder)
    return folder


def _edit(folder: Path, name: str, change) -> None:
    path = folder / name
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


def test_site_can_add_a_local_code_by_data(tmp_path: Path) -> None:
    folder = _copy_data(tmp_path)
    _edit(folder, "observations.json", lambda d: d["vitals"]["temperature"].append(
        {"code": "99999-9", "display": "Local temp", "verified": False, "source": "site dictionary"}))
    codes = load_code_lists(folder)
    obs = fb.temperature(38.7, fb.ago(hours=1), code="99999-9")
    assert snap([obs], codes=codes).temperatures[0].celsius == 38.7
    assert snap([obs]).temperatures == ()


@pytest.mark.parametrize("name, change, message", [
    ("observations.json", lambda d: d["vitals"]["temperature"].append({"code": "8480-6", "verified": True, "source": "x"}),
     "LOINC 8480-6"),
    ("oxygen_devices.json", lambda d: d["categories"][0].update(device="iron-lung"), "oxygen_devices.json at categories/0/device"),
    ("medications.json", lambda d: d["drugs"][0].update({"class": "vasodilator"}), "medications.json at drugs/0/class"),
    ("medications.json", lambda d: d["drugs"][1]["brands"].append("levophed"), "same once normalised"),
    ("units.json", lambda d: d["kinds"].pop("temperature"), "no units for 'temperature'"),
    ("units.json", lambda d: d["kinds"]["weight"]["units"].update({"[lb_av]": {"multiply": -1}}), "units.json at kinds/weight"),
])
def test_invalid_code_lists_fail_loudly(tmp_path: Path, name: str, change, message: str) -> None:
    folder = _copy_data(tmp_path)
    _edit(folder, name, change)
    with pytest.raises(CodeListError, match=message.replace("[", r"\[")):
        load_code_lists(folder)


def test_missing_data_file(tmp_path: Path) -> None:
    folder = _copy_data(tmp_path)
    (folder / "units.json").unlink()
    with pytest.raises(CodeListError, match=r"units\.json: file not found"):
        load_code_lists(folder)


def test_no_codes_in_python() -> None:
    """Every LOINC/SNOMED/RxNorm code lives in data: none appears in the package's Python source."""
    package = DATA_DIR.parent
    source = "\n".join(p.read_text() for p in package.glob("*.py") if p.name != "model.py")
    for code in ["8310-5", "85354-9", "8480-6", "59408-5", "3151-8", "107117-4", "29463-7", "751-8",
                 "426854004", "336623009", "47625008", "7512", "612865", "72435", "[degF]", "mm[Hg]", "[lb_av]"]:
        assert code not in source, code

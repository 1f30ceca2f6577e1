"""How many resources of a call belong to the patient in context."""
from __future__ import annotations

import pytest

from devkit import fhirbuild as fb
from fhir_mappings import PatientShare, patient_share


def on(resource: dict, reference: object) -> dict:
    return {**resource, "subject": reference}


@pytest.mark.parametrize("resources,share", [
    ([fb.patient(pid="p1"), fb.temperature(39, fb.ago(hours=1))], PatientShare(2, 2)),
    ([fb.patient(pid="p2"), on(fb.temperature(39, fb.ago(hours=1)), {"reference": "Patient/p2"})], PatientShare(0, 2)),
    ([on(fb.temperature(39, fb.ago(hours=1)), {"reference": "https://fhir.example.org/r4/Patient/p1"})],
     PatientShare(1, 1)),
    ([on(fb.temperature(39, fb.ago(hours=1)), {"reference": "https://fhir.example.org/r4/Patient/p9/_history/2"})],
     PatientShare(0, 1)),
    ([on(fb.temperature(39, fb.ago(hours=1)), {"identifier": {"value": "MRN-1"}})], PatientShare(1, 1)),  # uncheckable
    ([on(fb.temperature(39, fb.ago(hours=1)), {"reference": "urn:uuid:0b5e3d5e"})], PatientShare(1, 1)),
    ([{"resourceType": "Medication", "id": "m1"}, {"resourceType": "OperationOutcome"}], PatientShare(0, 0)),
    ([{"resourceType": "Coverage", "patient": {"reference": "Patient/p2"}}], PatientShare(0, 1)),
    ([], PatientShare(0, 0)),
])
def test_resources_are_counted_for_the_patient_in_context(resources, share) -> None:
    assert patient_share(resources, "p1") == share


def test_a_mismatch_is_patient_data_none_of_it_the_patients() -> None:
    assert PatientShare(0, 57).mismatch
    assert not PatientShare(1, 57).mismatch
    assert not PatientShare(0, 0).mismatch  # no patient data at all is not a mismatch
    assert patient_share([fb.patient(pid="p1")], "Patient/p1") == PatientShare(1, 1)

"""State shared by the per-resource mappers during one ``map_resources`` call."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from clinical import BloodPressure, DrugAdministration, Exclusion, Measurement, OxygenSupport, SpO2, Temperature
from clinical.neuro import Attribution, NeuroFinding

from .codes import CodeLists
from .fhirjson import is_other_patient

# A value timed later than ``now`` + this is excluded as "future-dated". The
# slack absorbs clock skew between the EHR, the FHIR server and this service
# (a reading charted "now" on a device a minute ahead is not a future value).
FUTURE_TOLERANCE = timedelta(minutes=5)

# Exclusion reasons decided here (others come from units.py or are a FHIR status).
OTHER_PATIENT = "other-patient"
NO_TIME = "no-time"
FUTURE_DATED = "future-dated"
DATA_ABSENT = "data-absent"
UNKNOWN_DEVICE = "unknown-device"
NO_STATUS = "no-status"
OUT_OF_RANGE = "out-of-range"  # a score outside its instrument's range (ICE 0-10, CAPD 0-32)
UNKNOWN_ANSWER = "unknown-answer"  # a coded answer the answer map does not list


@dataclass(slots=True)
class MappingContext:
    codes: CodeLists
    patient_id: str
    latest: datetime  # now + FUTURE_TOLERANCE
    medications: dict[str, dict] = field(default_factory=dict)  # Medication id -> resource
    patients: list[tuple[str, dict]] = field(default_factory=list)  # (source, Patient) as read
    temperatures: list[Temperature] = field(default_factory=list)
    blood_pressures: list[BloodPressure] = field(default_factory=list)
    oxygen: list[OxygenSupport] = field(default_factory=list)
    spo2: list[SpO2] = field(default_factory=list)
    measurements: list[Measurement] = field(default_factory=list)
    administrations: list[DrugAdministration] = field(default_factory=list)
    neuro: list[NeuroFinding] = field(default_factory=list)
    attributions: dict[str, Attribution] = field(default_factory=dict)  # "Observation/x" -> charted attribution
    excluded: list[Exclusion] = field(default_factory=list)
    patient_reference: str = ""

    def __post_init__(self) -> None:
        self.patient_reference = f"Patient/{self.patient_id}"

    def exclude(self, source: str, reason: str) -> None:
        self.excluded.append(Exclusion(source, reason))

    def admissible(self, res: dict, source: str, time: datetime | None) -> bool:
        """This patient's, timed and not in the future; otherwise record why it is left out."""
        subject = res.get("subject")
        if (type(subject) is not dict or subject.get("reference") != self.patient_reference) and \
                is_other_patient(subject, self.patient_reference, self.patient_id):
            self.exclude(source, OTHER_PATIENT)
        elif time is None:
            self.exclude(source, NO_TIME)
        elif time > self.latest:
            self.exclude(source, FUTURE_DATED)
        else:
            return True
        return False

"""clinical: the domain values every layer shares (snapshot, administrations, draft orders,
evidence, assessments). Imports nothing else from the project, so that the FHIR adapter
produces these values and grading, protocols and cards consume them without knowing FHIR.
"""
from .assessment import Assessment, Status
from .evidence import Evidence, EvidenceRole, unique_evidence
from .orders import DraftMedication
from .snapshot import (
                       BloodPressure,
                       ClinicalSnapshot,
                       DrugAdministration,
                       DrugClass,
                       Exclusion,
                       MatchedBy,
                       Measurement,
                       OxygenDevice,
                       OxygenSupport,
                       SpO2,
                       Temperature,
)

__all__ = [
    "Assessment", "BloodPressure", "ClinicalSnapshot", "DraftMedication", "DrugAdministration", "DrugClass",
    "Evidence", "EvidenceRole", "Exclusion", "MatchedBy", "Measurement", "OxygenDevice", "OxygenSupport", "SpO2",
    "Status", "Temperature", "unique_evidence",
]

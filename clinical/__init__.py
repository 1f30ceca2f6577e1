"""clinical: the domain values every layer shares (snapshot, administrations, draft orders,
evidence, assessments). Imports nothing else from the project, so that the FHIR adapter
produces these values and grading, protocols and cards consume them without knowing FHIR.
"""
from .assessment import Assessment, IcansAssessment, Status
from .evidence import (
                       Administered,
                       CountedDose,
                       Evidence,
                       EvidenceRole,
                       Fact,
                       HypotensionThreshold,
                       MeasurementReading,
                       NeuroReading,
                       PressureReading,
                       SaturationReading,
                       SupportReading,
                       SupportRule,
                       SupportTier,
                       TemperatureReading,
                       unique_evidence,
)
from .findings import Driver, IcansDriver, Missing, Note
from .orders import DraftMedication
from .snapshot import (
                       BloodPressure,
                       ClinicalSnapshot,
                       DrugAdministration,
                       DrugClass,
                       Exclusion,
                       IndexClass,
                       MatchedBy,
                       Measurement,
                       OxygenDevice,
                       OxygenSupport,
                       SpO2,
                       Temperature,
)

__all__ = [
    "Administered", "Assessment", "BloodPressure", "ClinicalSnapshot", "CountedDose", "DraftMedication",
    "Driver", "DrugAdministration", "DrugClass", "Evidence", "EvidenceRole", "Exclusion", "Fact",
    "HypotensionThreshold", "IcansAssessment", "IcansDriver", "IndexClass", "MatchedBy", "Measurement",
    "MeasurementReading", "Missing", "NeuroReading", "Note", "OxygenDevice",
    "OxygenSupport", "PressureReading", "SaturationReading", "SpO2", "Status", "SupportReading", "SupportRule",
    "SupportTier", "Temperature", "TemperatureReading", "unique_evidence",
]

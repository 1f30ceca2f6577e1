"""fhir_mappings: FHIR R4 JSON (plain dicts) -> ClinicalSnapshot.

Public API::

    map_resources(resources, *, patient_id, now, unavailable=(), codes=None) -> ClinicalSnapshot
    load_code_lists(path=None) -> CodeLists   # validated data files, cached

Code lists (LOINC, SNOMED CT, RxNorm, UCUM, names) live in ``fhir_mappings/data``.
"""
from .codes import CodeListError, CodeLists, load_code_lists
from .context import FUTURE_TOLERANCE
from .model import (BloodPressure, ClinicalSnapshot, DrugAdministration, Exclusion, Measurement, OxygenSupport,
                    SpO2, Temperature)
from .snapshot import map_resources

__all__ = [
    "FUTURE_TOLERANCE",
    "BloodPressure",
    "ClinicalSnapshot",
    "CodeListError",
    "CodeLists",
    "DrugAdministration",
    "Exclusion",
    "Measurement",
    "OxygenSupport",
    "SpO2",
    "Temperature",
    "load_code_lists",
    "map_resources",
]

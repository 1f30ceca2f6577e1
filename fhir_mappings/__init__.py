"""fhir_mappings: FHIR R4 JSON (plain dicts) -> the clinical values of the ``clinical`` package.

Public API::

    map_resources(resources, *, patient_id, now, codes, unavailable=()) -> ClinicalSnapshot
    map_draft_orders(draft_orders, *, patient_id, now, codes, resources=()) -> list[DraftMedication]
    load_code_lists(path=None) -> CodeLists   # validated data files
    patient_share(resources, patient_id) -> PatientShare  # how many belong to the patient in context
    load_code_lists(path=None, local=()) -> CodeLists   # validated data files (+ a site's local codes)
    load_local_codes(path) -> tuple[LocalCode, ...]      # CRS_CDS_LOCAL_CODES_FILE, file:line errors

Code lists (LOINC, SNOMED CT, RxNorm, UCUM, names) live in ``fhir_mappings/data``.
"""
from .codes import CodeListError, CodeLists, LocalCode, load_code_lists
from .context import FUTURE_TOLERANCE
from .draft_orders import draft_order_resources, map_draft_orders
from .local_codes import load_local_codes
from .ownership import PatientShare, patient_share
from .snapshot import map_resources

__all__ = [
    "FUTURE_TOLERANCE",
    "CodeListError",
    "CodeLists",
    "LocalCode",
    "PatientShare",
    "draft_order_resources",
    "load_code_lists",
    "load_local_codes",
    "map_draft_orders",
    "map_resources",
    "patient_share",
]

"""The shipped clinical knowledge, loaded once for the unit tests (as the composition root does)."""
from __future__ import annotations

from fhir_mappings import load_code_lists
from grading import load_grading_config

CODES = load_code_lists()
GRADING = load_grading_config()

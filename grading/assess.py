"""CRS and ICANS graded together: what the service layer asks for one patient at one time."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from clinical import Assessment, ClinicalSnapshot

from .config import GradingConfig
from .crs import grade_crs
from .icans import grade_icans


def grade(snapshot: ClinicalSnapshot, now: datetime, config: GradingConfig) -> Assessment:
    """The ASTCT CRS assessment with the ICANS assessment of the same snapshot and ``now`` attached."""
    return replace(grade_crs(snapshot, now, config), icans=grade_icans(snapshot, now, config))

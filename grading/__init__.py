"""ASTCT CRS and ICANS grading: pure functions of a ClinicalSnapshot and ``now``.

Public API::

    grade(snapshot, now, config) -> Assessment          # CRS, with ``icans`` graded at the same time
    grade_crs(snapshot, now, config) -> Assessment      # CRS alone
    grade_icans(snapshot, now, config) -> IcansAssessment
    grade_series(snapshot, start, end, config) -> tuple[GradePoint, ...]  (the CRS grade over time)
    load_grading_config(path=None, **overrides) -> GradingConfig

Clinical thresholds and windows live in ``grading/data/astct.json``.
"""
from .assess import grade
from .config import GradingConfig, GradingConfigError, HypotensionBand, IcansConfig, load_grading_config
from .crs import grade_crs
from .icans import grade_icans
from .series import GradePoint, evaluation_times, grade_series

__all__ = ["GradePoint", "GradingConfig", "GradingConfigError", "HypotensionBand", "IcansConfig", "evaluation_times",
           "grade", "grade_crs", "grade_icans", "grade_series", "load_grading_config"]

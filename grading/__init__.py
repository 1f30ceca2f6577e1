"""ASTCT CRS grading: pure functions of a ClinicalSnapshot and ``now``.

Public API::

    grade_crs(snapshot, now, config) -> Assessment
    grade_series(snapshot, start, end, config) -> tuple[GradePoint, ...]  (the grade over time)
    load_grading_config(path=None, **overrides) -> GradingConfig

Clinical thresholds and windows live in ``grading/data/astct.json``.
"""
from .config import GradingConfig, GradingConfigError, HypotensionBand, load_grading_config
from .crs import grade_crs
from .series import GradePoint, evaluation_times, grade_series

__all__ = ["GradePoint", "GradingConfig", "GradingConfigError", "HypotensionBand", "evaluation_times", "grade_crs",
           "grade_series", "load_grading_config"]

"""ASTCT CRS grading: pure functions of a ClinicalSnapshot and ``now``.

Public API::

    grade_crs(snapshot, now, config) -> Assessment
    load_grading_config(path=None, **overrides) -> GradingConfig

Clinical thresholds and windows live in ``grading/data/astct.json``.
"""
from .config import GradingConfig, GradingConfigError, HypotensionBand, load_grading_config
from .crs import grade_crs

__all__ = ["GradingConfig", "GradingConfigError", "HypotensionBand", "grade_crs",
           "load_grading_config"]

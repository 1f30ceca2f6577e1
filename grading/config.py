"""Grading knowledge an institution may change, loaded from ``data/astct.json``.

Thresholds, windows, which drugs are vasopressors, which oxygen device means
which ASTCT tier: all of it is data, validated by ``data/astct.schema.json``
when it is loaded (once, at start-up, by the composition root), so that grading
itself does no I/O. A site points ``CRS_CDS_GRADING_FILE`` at its own copy.
A deployment overrides single values with keyword arguments, e.g.
``load_grading_config(eligibility_required=False)``.
"""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jsonschema

from clinical.neuro import IcansDomain

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_CONFIG_PATH = DATA_DIR / "astct.json"
SCHEMA_PATH = DATA_DIR / "astct.schema.json"


class GradingConfigError(ValueError):
    """The grading configuration is invalid; the message names the path and the problem."""


@dataclass(frozen=True, slots=True)
class HypotensionBand:
    """Systolic (and optionally MAP) threshold for ages ``[from_age_years, to_age_years)``.

    The systolic threshold is ``systolic_below + plus_per_year_of_age × age``
    (PALS: 70 + 2 × age for 1–10 years).
    """

    from_age_years: float
    to_age_years: float
    systolic_below: float
    plus_per_year_of_age: float = 0.0
    map_below: float | None = None


@dataclass(frozen=True, slots=True)
class ScoreBand:
    """Scores ``low``..``high`` (inclusive) mean ICANS grade ``tier``."""

    low: int
    high: int
    tier: int

    def holds(self, score: int) -> bool:
        return self.low <= score <= self.high


@dataclass(frozen=True, slots=True)
class IcansConfig:
    """ASTCT ICANS grading knowledge (``astct.json`` ``icans``): windows, score bands and domain tiers."""

    window_hours: float
    required_domains: frozenset[IcansDomain]  # "ice" stands for the cognitive score that applies (ICE or CAPD)
    ice_bands: tuple[ScoreBand, ...]
    ice_zero_unarousable_tier: int
    ice_zero_awake_tier: int
    ice_zero_consciousness_within_minutes: float
    capd_under_age_years: float
    capd_count_when_charted_from_age: bool
    capd_bands: tuple[ScoreBand, ...]
    capd_unarousable_tier: int
    consciousness_tiers: Mapping[str, int]
    seizure_tiers: Mapping[str, int]
    seizure_prolonged_after_minutes: float
    motor_tiers: Mapping[str, int]
    oedema_tiers: Mapping[str, int]

    def hours(self) -> str:
        return f"{self.window_hours:g} h"


@dataclass(frozen=True, slots=True)
class GradingConfig:
    """Everything grading reads besides the patient's data. Immutable.

    No field has a default on purpose: clinical values come from the data
    file (``load_grading_config``), never from Python.
    """

    system: str
    fever_threshold_c: float
    fever_window_hours: float
    current_window_hours: float
    eligibility_required: bool
    eligibility_window_days: float
    adult_age_years: float
    vasopressors: frozenset[str]
    not_counted_for_multiple: frozenset[str]
    inotropes: frozenset[str]
    excluded_infusion_routes: frozenset[str]  # a vasopressor given so is not an infusion (IM epinephrine)
    single_point_mass_dose_is_bolus: bool  # a single time point with a mass dose and no rate is a bolus
    point_unknown_hours: float  # a point-charted infusion may still be running this long afterwards
    oxygen_device_tiers: Mapping[str, int]
    low_flow_max_l_min: float
    low_flow_tier: int
    high_flow_tier: int
    flow_dependent_devices: frozenset[str]
    masking_drug_classes: frozenset[str]
    adult_systolic_below: float
    adult_map_below: float | None
    paediatric_bands: tuple[HypotensionBand, ...]
    icans: IcansConfig

    def __post_init__(self) -> None:
        # Accept lists/sets/dicts from overrides but store immutable values.
        for name in ("vasopressors", "not_counted_for_multiple", "inotropes", "flow_dependent_devices",
                     "masking_drug_classes", "excluded_infusion_routes"):
            object.__setattr__(self, name, frozenset(getattr(self, name)))
        object.__setattr__(self, "oxygen_device_tiers", MappingProxyType(dict(self.oxygen_device_tiers)))
        bands = tuple(b if isinstance(b, HypotensionBand) else HypotensionBand(**b) for b in self.paediatric_bands)
        object.__setattr__(self, "paediatric_bands", bands)
        problems = []
        for name in ("fever_window_hours", "current_window_hours", "eligibility_window_days", "low_flow_max_l_min"):
            if not isinstance(getattr(self, name), (int, float)) or getattr(self, name) <= 0:
                problems.append(f"{name}: must be a positive number, got {getattr(self, name)!r}")
        if not isinstance(self.eligibility_required, bool):
            problems.append(f"eligibility_required: must be true or false, got {self.eligibility_required!r}")
        if not self.not_counted_for_multiple <= self.vasopressors:
            problems.append("not_counted_for_multiple: "
                            f"{sorted(self.not_counted_for_multiple - self.vasopressors)} not listed as vasopressors")
        if not self.flow_dependent_devices <= set(self.oxygen_device_tiers):
            problems.append("flow_dependent_devices: "
                            f"{sorted(self.flow_dependent_devices - set(self.oxygen_device_tiers))} have no tier")
        for i, band in enumerate(bands):
            if band.to_age_years <= band.from_age_years:
                problems.append(f"paediatric_bands[{i}]: to_age_years must be greater than from_age_years")
            if band.to_age_years > self.adult_age_years:
                problems.append(f"paediatric_bands[{i}]: to_age_years must not exceed adult_age_years "
                                f"({self.adult_age_years:g})")
        for name, score_bands in (("icans.ice.bands", self.icans.ice_bands),
                                  ("icans.capd.bands", self.icans.capd_bands)):
            for i, score_band in enumerate(score_bands):
                if score_band.high < score_band.low:
                    problems.append(f"{name}[{i}]: max must not be below min")
        if problems:
            raise GradingConfigError("invalid grading config: " + "; ".join(problems))

    def hours(self, name: str) -> str:
        """A window as clinicians read it: ``"12 h"``."""
        return f"{getattr(self, name):g} h"


_VALIDATOR = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def _validate(document: Any, source: Path) -> None:
    errors = sorted(_VALIDATOR.iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"{e.json_path}: {e.message}" for e in errors]
        raise GradingConfigError(f"invalid grading config {source}: " + "; ".join(lines))


def _from_document(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Map the file's nested layout onto the flat GradingConfig fields."""
    oxygen, vaso, hypo = doc["oxygen"], doc["vasopressors"], doc["hypotension"]
    return {
        "system": doc["system"],
        "fever_threshold_c": float(doc["fever"]["threshold_celsius"]),
        "fever_window_hours": float(doc["fever"]["window_hours"]),
        "current_window_hours": float(doc["current_window_hours"]),
        "eligibility_required": doc["eligibility"]["required"],
        "eligibility_window_days": float(doc["eligibility"]["window_days"]),
        "adult_age_years": float(doc["adult_age_years"]),
        "vasopressors": vaso["drugs"],
        "not_counted_for_multiple": vaso["not_counted_for_multiple"],
        "inotropes": vaso["inotropes_not_counted"],
        "excluded_infusion_routes": vaso["infusions"]["excluded_routes"],
        "single_point_mass_dose_is_bolus": vaso["infusions"]["single_point_mass_dose_is_bolus"],
        "point_unknown_hours": float(vaso["infusions"]["point_unknown_hours"]),
        "oxygen_device_tiers": oxygen["device_tiers"],
        "low_flow_max_l_min": float(oxygen["low_flow_max_l_min"]),
        "low_flow_tier": oxygen["low_flow_tier"],
        "high_flow_tier": oxygen["high_flow_tier"],
        "flow_dependent_devices": oxygen["flow_dependent_devices"],
        "masking_drug_classes": doc["masking"]["drug_classes"],
        "adult_systolic_below": float(hypo["adult"]["systolic_below"]),
        "adult_map_below": hypo["adult"]["map_below"],
        "paediatric_bands": tuple(
            HypotensionBand(**{k: v for k, v in band.items() if k != "$comment"}) for band in hypo["paediatric"]),
        "icans": _icans(doc["icans"]),
    }


def _bands(raw: list[Mapping[str, Any]]) -> tuple[ScoreBand, ...]:
    return tuple(ScoreBand(b["min"], b["max"], b["tier"]) for b in raw)


def _icans(raw: Mapping[str, Any]) -> IcansConfig:
    ice, capd, seizure = raw["ice"], raw["capd"], raw["seizure"]
    frozen = MappingProxyType
    return IcansConfig(
        window_hours=float(raw["current_window_hours"]),
        required_domains=frozenset(raw["required_domains"]),
        ice_bands=_bands(ice["bands"]),
        ice_zero_unarousable_tier=ice["zero_unarousable_tier"],
        ice_zero_awake_tier=ice["zero_awake_tier"],
        ice_zero_consciousness_within_minutes=float(ice["consciousness_within_minutes"]),
        capd_under_age_years=float(capd["under_age_years"]),
        capd_count_when_charted_from_age=capd["count_when_charted_from_age"],
        capd_bands=_bands(capd["bands"]),
        capd_unarousable_tier=capd["unarousable_tier"],
        consciousness_tiers=frozen(dict(raw["consciousness_tiers"])),
        seizure_tiers=frozen(dict(seizure["tiers"])),
        seizure_prolonged_after_minutes=float(seizure["prolonged_after_minutes"]),
        motor_tiers=frozen(dict(raw["motor_tiers"])),
        oedema_tiers=frozen(dict(raw["oedema_tiers"])),
    )


def load_grading_config(path: Path | None = None, **overrides: Any) -> GradingConfig:
    """Read, validate and freeze the grading configuration.

    ``path`` defaults to the packaged ``data/astct.json``. ``overrides`` replace
    single fields by name (``eligibility_required=False``,
    ``current_window_hours=8``); an unknown name is an error.
    """
    source = Path(path) if path is not None else DEFAULT_CONFIG_PATH
    try:
        document = json.loads(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise GradingConfigError(f"cannot read grading config {source}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise GradingConfigError(f"invalid grading config {source}: not JSON ({exc})") from exc
    _validate(document, source)
    values = _from_document(document)
    known = {f.name for f in dataclasses.fields(GradingConfig)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise GradingConfigError(f"unknown grading config override(s): {', '.join(unknown)}")
    values.update(overrides)
    return GradingConfig(**values)

"""Readings, oxygen support and administrations in words (evidence values, drivers, notes)."""
from __future__ import annotations

from clinical import DrugAdministration, HypotensionThreshold, IndexClass, OxygenSupport, SupportTier, Temperature

from .numbers import amount, celsius, number, unit

DEVICE_LABELS = {
    "room-air": "room air",
    "nasal-cannula": "nasal cannula",
    "blow-by": "blow-by",
    "high-flow-nasal-cannula": "high-flow nasal cannula",
    "simple-facemask": "simple facemask",
    "non-rebreather": "non-rebreather mask",
    "partial-rebreather": "partial rebreather mask",
    "venturi": "Venturi mask",
    "cpap": "CPAP",
    "bipap": "BiPAP",
    "non-invasive-ventilation": "non-invasive ventilation",
    "mechanical-ventilation": "mechanical ventilation",
}


def temperature(t: Temperature) -> str:
    """``39.2 °C``, or ``100.4 °F (38.0 °C)`` when recorded in another unit."""
    value, _, code = (t.original or "").strip().partition(" ")
    shown = unit(code)
    if value and shown and shown != "°C":
        return f"{value} {shown} ({celsius(t.celsius)})"
    return celsius(t.celsius)


def device(name: str | None) -> str:
    return DEVICE_LABELS.get(name or "", (name or "").replace("-", " "))


def support(o: OxygenSupport, how: SupportTier) -> str:
    """``nasal cannula 8 L/min (high-flow)``: the support as recorded and the tier it means."""
    flow = f" {number(o.flow_l_min)} L/min" if o.flow_l_min is not None else ""
    fio2 = f", FiO2 {number(o.fio2_percent)} %" if o.fio2_percent is not None else ""
    rule = how.rule
    if rule == "room-air-with-flow":
        return f"oxygen{flow} with {device(o.device)} charted{fio2}" + _qualifier(how)
    if rule in ("device", "device-flow"):
        return device(o.device) + flow + fio2 + _qualifier(how)
    if rule == "no-flow":
        return "no oxygen flow (0 L/min)"
    if rule == "flow":
        return f"oxygen{flow}, no device recorded{fio2}" + _qualifier(how)
    if rule == "device-without-tier":
        return device(o.device)
    if rule == "unrecognised":
        return f"unrecognised oxygen support '{o.device_display}'"
    return "oxygen record without device or flow"


def _qualifier(how: SupportTier) -> str:
    if not how.tier:
        return ""
    if how.tier == how.low_flow_tier:
        return " (low-flow)"
    if how.tier == 4:
        return " (positive pressure)"
    return " (high-flow)" if how.flow_based else ""


def threshold_basis(thr: HypotensionThreshold, *, formula: bool = True) -> str:
    """``adult``, ``age 5 y`` or ``age 5 y: 70 + 2 × age``."""
    if thr.age_years is None:
        return "adult"
    basis = f"age {number(thr.age_years)} y"
    if formula and thr.per_year_of_age and thr.systolic_base is not None:
        basis += f": {number(thr.systolic_base)} + {number(thr.per_year_of_age)} × age"
    return basis


def threshold(thr: HypotensionThreshold, measure: str) -> str:
    """``threshold systolic < 90 mmHg (adult)``."""
    limit = thr.systolic_below if measure == "systolic" else thr.map_below
    return f"threshold {measure} < {number(limit or 0)} mmHg ({threshold_basis(thr)})"


def drug(key: str) -> str:
    """A drug's key as its name: ``axicabtagene-ciloleucel`` → ``axicabtagene ciloleucel``."""
    return key.replace("-", " ")


def dose(admin: DrugAdministration) -> str:
    """`` 0.08 µg/kg/min`` (with its leading space) or nothing."""
    return amount(admin.dose_value, admin.dose_unit)


def administration(admin: DrugAdministration, running: bool) -> str:
    """``norepinephrine 0.08 µg/kg/min, running`` / ``tocilizumab 560 mg, completed``."""
    state = "running" if running else admin.status
    return f"{drug(admin.drug)}{dose(admin)}, {state}"


def index_therapy(index_class: IndexClass | str | None) -> str:
    """``CAR-T cells`` or ``a T-cell engager``, as in "after CAR-T cells" (both when unknown)."""
    return {"car-t": "CAR-T cells", "t-cell-engager": "a T-cell engager"}.get(index_class or "",
                                                                              "CAR-T cells or a T-cell engager")

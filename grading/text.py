"""How grading words values for clinicians (drivers, evidence values, notes)."""
from __future__ import annotations

from datetime import datetime, timezone

from clinical import DrugAdministration, Temperature

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
_UNIT_LABELS = {"[degF]": "°F", "Cel": "°C", "[degC]": "°C"}
COUNT_WORDS = {2: "two", 3: "three", 4: "four", 5: "five"}


def number(value: float) -> str:
    """``4`` for 4.0, ``4.5`` for 4.5."""
    return f"{value:g}"


def celsius(value: float) -> str:
    return f"{value:.1f} °C"


def temperature(t: Temperature) -> str:
    """``39.2 °C``, or ``100.4 °F (38.0 °C)`` when recorded in another unit."""
    original = (t.original or "").strip()
    parts = original.split(maxsplit=1)
    if len(parts) == 2 and parts[1] in _UNIT_LABELS and _UNIT_LABELS[parts[1]] != "°C":
        return f"{parts[0]} {_UNIT_LABELS[parts[1]]} ({celsius(t.celsius)})"
    return celsius(t.celsius)


def device(name: str | None) -> str:
    return DEVICE_LABELS.get(name or "", (name or "").replace("-", " "))


def stamp(t: datetime) -> str:
    """Absolute time in UTC, as the cards print it."""
    return t.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def hours_ago(t: datetime, now: datetime) -> str:
    hours = (now - t).total_seconds() / 3600
    return f"{hours:.0f} h ago" if hours >= 1 else f"{hours * 60:.0f} min ago"


def dose(admin: DrugAdministration) -> str:
    if admin.dose_value is None:
        return ""
    return f" {number(admin.dose_value)} {admin.dose_unit or ''}".rstrip()


def administration(admin: DrugAdministration, running: bool) -> str:
    """``norepinephrine 0.08 ug/kg/min, running`` / ``tocilizumab 560 mg, completed``."""
    state = "running" if running else admin.status
    return f"{admin.drug}{dose(admin)}, {state}"


def join_drugs(drugs: list[str]) -> str:
    return ", ".join(drugs)

"""Numbers and units as clinicians read them (times: ``times.py``).

Units are shown as people write them (°C, µg/kg/min, × 10⁹/L), never as UCUM codes.
"""
from __future__ import annotations

from decimal import Decimal

# UCUM codes as a clinician writes the unit; anything else is shown through the token rules below.
_UNITS = {
    "Cel": "°C", "[degC]": "°C", "[degF]": "°F", "mm[Hg]": "mmHg", "[lb_av]": "lb", "[in_i]": "in",
    "10*9/L": "× 10⁹/L", "10*3/uL": "× 10³/µL", "%": "%", "/min": "/min", "{score}": "",
}
_TOKENS = {"ug": "µg", "[U]": "units", "[iU]": "IU", "d": "day", "h": "h", "min": "min", "uL": "µL"}


def number(value: float) -> str:
    """``4`` for 4.0, ``4.5`` for 4.5 (readings)."""
    return f"{value:g}"


def num(value: Decimal | float | int) -> str:
    """560, 358.8, 9.9 -- never 560.0, 8E+2 or 358.79999 (doses)."""
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    return f"{d.normalize():f}"


def celsius(value: float) -> str:
    return f"{value:.1f} °C"


def hours(value: float) -> str:
    """A window: ``12 h``."""
    return f"{value:g} h"


def unit(code: str | None) -> str:
    """A UCUM code as written on a chart: ``ug/kg/min`` → ``µg/kg/min``, ``Cel`` → ``°C``, ``ug/d`` →
    ``µg/day``; a code it does not know is shown with only its known parts rewritten."""
    if not code:
        return ""
    if code in _UNITS:
        return _UNITS[code]
    return "/".join(_TOKENS.get(part, part) for part in code.split("/"))


def amount(value: float | None, unit_code: str | None) -> str:
    """A dose as ordered, with its leading space (`` 250 µg``, `` 10 mg``), or nothing without a value."""
    if value is None:
        return ""
    return f" {num(value)} {unit(unit_code)}".rstrip()


def recorded(original: str) -> str:
    """A value as the EHR recorded it (``"39.2 Cel"``, made by the FHIR mapping as value, space, unit code)
    with its unit as people write it: ``39.2 °C``."""
    value, _, code = original.strip().partition(" ")
    return f"{value} {unit(code)}".rstrip() if code else value



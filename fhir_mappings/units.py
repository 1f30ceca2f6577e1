"""Reading a FHIR Quantity into a number in the target unit, by UCUM code.

The unit is taken from ``Quantity.code`` (UCUM); the human-readable
``Quantity.unit`` is consulted only when the code is absent, only for kinds
that allow it, and only through an explicit alias list. A unit that is not
listed is reported as unknown: a unit is never inferred from the size of the
number (39 could be °C, 102 °F, but 38 could be either).
"""
from __future__ import annotations

import math

from .codes import CodeLists, QuantityKind

# Reasons returned instead of a value (they become Exclusion.reason).
NO_VALUE = "no-value"
UNREADABLE = "unreadable"
UNKNOWN_UNIT = "unknown-unit"
IMPLAUSIBLE = "implausible-value"

def unit_code(quantity: dict, kind: QuantityKind, codes: CodeLists) -> str | None:
    """The UCUM code of ``quantity`` if ``kind`` accepts it, else None."""
    code = quantity.get("code")
    if type(code) is str and code:
        system = quantity.get("system")
        if system is None or (type(system) is str and system in codes.ucum_systems):
            return code if code in kind.units else None
        return None
    if kind.accept_unit_text:
        text = quantity.get("unit")
        if type(text) is str:
            alias = codes.unit_text_aliases.get(text.strip())
            if alias is not None and alias in kind.units:
                return alias
    return None


def read_quantity(quantity: object, kind: QuantityKind, codes: CodeLists) -> tuple[float, str] | str:
    """(value in ``kind.target``, original "value unit") or a reason string.

    Converted values are rounded to ``kind.decimals`` so that float noise never
    moves a value across a threshold (100.4 °F is 38.0 °C, not 37.99999).
    """
    if type(quantity) is not dict:
        return NO_VALUE if quantity is None else UNREADABLE
    value = quantity.get("value")
    value_type = type(value)
    if value_type is not float and value_type is not int:  # bool is excluded on purpose
        return NO_VALUE if value is None else UNREADABLE
    if value_type is float and not math.isfinite(value):
        return UNREADABLE
    given = quantity.get("code")
    system = quantity.get("system")
    if type(given) is str and given in kind.units and (system is None or system in codes.ucum_systems):
        code: str | None = given  # the common case: a UCUM code the kind accepts
    else:
        code = unit_code(quantity, kind, codes)
    if code is None:
        return UNKNOWN_UNIT
    conversion = kind.units[code]
    if conversion is None:
        result = float(value)
    else:
        result = round((value + conversion.add_before) * conversion.multiply / conversion.divide, kind.decimals)
    if not math.isfinite(result):
        return UNREADABLE
    bounds = kind.plausible
    if bounds is not None and not (bounds[0] <= result <= bounds[1]):
        return IMPLAUSIBLE
    if type(given) is not str or not given:
        given = quantity.get("unit") if type(quantity.get("unit")) is str else code
    return result, f"{value} {given}"


def dose_in_mg(quantity: dict, codes: CodeLists) -> float | None:
    """A dose Quantity in mg when its unit is a mass (mg, g, ug, ...), else None."""
    kind = codes.dose_mass
    code = unit_code(quantity, kind, codes)
    value = quantity.get("value")
    if code is None or (type(value) is not float and type(value) is not int):
        return None
    if type(value) is float and not math.isfinite(value):
        return None
    conversion = kind.units[code]
    if conversion is None:
        return float(value)
    return round((value + conversion.add_before) * conversion.multiply / conversion.divide, kind.decimals)

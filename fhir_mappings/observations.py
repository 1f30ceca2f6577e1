"""Observation -> Temperature, BloodPressure, SpO2, OxygenSupport or Measurement.

The LOINC code (via the code lists) decides the role; status, subject and
time are checked before any value is read, and every value that is left out
is recorded as an Exclusion with the reason, so a card can say why a reading
it might have expected did not count. Observations with codes the lists do
not know (heart rate, respiratory rate, ...) are ignored silently.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from clinical import BloodPressure, Measurement, OxygenSupport, SpO2, Temperature

from . import codes as roles
from .codes import NEURO_CONCEPT
from .context import DATA_ABSENT, NO_STATUS, UNKNOWN_DEVICE, MappingContext
from .fhirjson import codings, concept_texts, find_observation_code, text_of
from .fhirtime import parse_datetime
from .neuro import map_neuro_observation
from .units import NO_VALUE, read_quantity

_BP_FIELDS = {roles.SYSTOLIC: "systolic", roles.DIASTOLIC: "diastolic", roles.MEAN_ARTERIAL_PRESSURE: "mean"}


def map_observation(res: dict, source: str, ctx: MappingContext) -> None:
    codes = ctx.codes
    hit = find_observation_code(res.get("code"), codes.observation_index)
    if hit is None:
        return
    status = res.get("status")
    if type(status) is not str or status not in codes.observation_accept_status:
        ctx.exclude(source, status if type(status) is str and status else NO_STATUS)
        return
    time = observation_time(res, ctx.latest)
    if not ctx.admissible(res, source, time):
        return
    assert time is not None
    kind, value = hit[0], hit[1]
    if kind == NEURO_CONCEPT:
        map_neuro_observation(res, source, value, time, ctx)
        return
    role = str(value)
    handler = _HANDLERS.get(role, _measurement)
    handler(res, role, time, source, ctx)


def observation_time(res: dict, latest: datetime) -> datetime | None:
    """effectiveDateTime / effectiveInstant, or a period's end (its start while the end is in the future)."""
    value = res.get("effectiveDateTime")
    if value is None:
        value = res.get("effectiveInstant")
    if value is not None:
        return parse_datetime(value)
    period = res.get("effectivePeriod")
    if type(period) is dict:
        end = parse_datetime(period.get("end"))
        start = parse_datetime(period.get("start"))
        if end is not None and end <= latest:
            return end
        return start if start is not None else end
    return None


def _value(element: dict, role: str, ctx: MappingContext) -> tuple[float, str] | str:
    """The element's valueQuantity in the role's unit, or why not."""
    quantity = element.get("valueQuantity")
    if quantity is None:
        return DATA_ABSENT if element.get("dataAbsentReason") is not None else NO_VALUE
    return read_quantity(quantity, ctx.codes.quantities[role], ctx.codes)


def _components(res: dict, ctx: MappingContext) -> list[tuple[str, dict]]:
    """(role, component) for each component whose LOINC code the lists know."""
    items = res.get("component")
    if type(items) is not list:
        return []
    found = []
    codes = ctx.codes
    for component in items:
        if type(component) is dict:
            hit = find_observation_code(component.get("code"), codes.observation_index)
            found.append((str(hit[1]) if hit is not None and hit[0] != NEURO_CONCEPT else "", component))
    return found


def _temperature(res: dict, role: str, time: datetime, source: str, ctx: MappingContext) -> None:
    value = _value(res, role, ctx)
    if type(value) is str:
        ctx.exclude(source, value)
    else:
        ctx.temperatures.append(Temperature(value[0], time, source, value[1]))


def _single_pressure(res: dict, role: str, time: datetime, source: str, ctx: MappingContext) -> None:
    value = _value(res, role, ctx)
    if type(value) is str:
        ctx.exclude(source, value)
    else:
        field = _BP_FIELDS[role]
        ctx.blood_pressures.append(BloodPressure(time, source, value[0] if field == "systolic" else None,
                                                 value[0] if field == "mean" else None,
                                                 value[0] if field == "diastolic" else None))


def _bp_panel(res: dict, role: str, time: datetime, source: str, ctx: MappingContext) -> None:
    values: dict[str, float] = {}
    failures: list[str] = []
    for component_role, component in _components(res, ctx):
        field = _BP_FIELDS.get(component_role)
        if field is None or field in values:
            continue
        value = _value(component, component_role, ctx)
        if type(value) is str:
            if value not in (NO_VALUE, DATA_ABSENT):
                failures.append(value)
        else:
            values[field] = value[0]
    if values:
        ctx.blood_pressures.append(BloodPressure(time, source, values.get("systolic"), values.get("mean"),
                                                 values.get("diastolic")))
        for reason in failures:  # a component left out, e.g. an unknown unit
            ctx.exclude(source, reason)
    else:
        ctx.exclude(source, failures[0] if failures else
                    DATA_ABSENT if res.get("dataAbsentReason") is not None else NO_VALUE)


def _oxygen_components(res: dict, ctx: MappingContext) -> tuple[float | None, float | None, list[str], list[dict]]:
    """Flow and FiO2 components, reasons for the unusable ones, and the other components."""
    flow = fio2 = None
    failures: list[str] = []
    others: list[dict] = []
    for component_role, component in _components(res, ctx):
        if component_role == roles.OXYGEN_FLOW or component_role == roles.OXYGEN_CONCENTRATION:
            value = _value(component, component_role, ctx)
            if type(value) is str:
                if value not in (NO_VALUE, DATA_ABSENT):
                    failures.append(value)
            elif component_role == roles.OXYGEN_FLOW:
                flow = value[0] if flow is None else flow
            else:
                fio2 = value[0] if fio2 is None else fio2
        else:
            others.append(component)
    return flow, fio2, failures, others


def _spo2(res: dict, role: str, time: datetime, source: str, ctx: MappingContext) -> None:
    value = _value(res, role, ctx)
    flow, fio2, failures, _ = _oxygen_components(res, ctx)
    if type(value) is str:
        ctx.exclude(source, value)
    else:
        ctx.spo2.append(SpO2(value[0], time, source))
    if flow is not None or fio2 is not None:
        ctx.oxygen.append(OxygenSupport(time, source, flow_l_min=flow, fio2_percent=fio2))
    elif failures:
        _unreadable_support(time, source, failures[0], ctx)
    for reason in failures:
        ctx.exclude(source, reason)


def _unreadable_support(time: datetime, source: str, reason: str, ctx: MappingContext) -> None:
    """Oxygen flow/FiO2 charted but unusable (e.g. unknown unit): support of unknown tier, so that
    grading reports hypoxia as missing instead of assuming room air from an SpO2 reading."""
    ctx.oxygen.append(OxygenSupport(time, source, device_display=f"oxygen setting not readable: {reason}"))


def _oxygen_setting(res: dict, role: str, time: datetime, source: str, ctx: MappingContext) -> None:
    value = _value(res, role, ctx)
    if type(value) is str:
        if value not in (NO_VALUE, DATA_ABSENT):
            _unreadable_support(time, source, value, ctx)
        ctx.exclude(source, value)
    elif role == roles.OXYGEN_FLOW:
        ctx.oxygen.append(OxygenSupport(time, source, flow_l_min=value[0]))
    else:
        ctx.oxygen.append(OxygenSupport(time, source, fio2_percent=value[0]))


def _devices_in_concept(concept: object, ctx: MappingContext, found: list[tuple[int, str, str]]) -> bool:
    """Add (precedence, device, display) for a CodeableConcept; True if it carried any code or text."""
    codes = ctx.codes
    before = len(found)
    has_coding = False
    texts = concept_texts(concept)
    for system, code, coding in codings(concept):
        has_coding = True
        device = codes.device_by_code.get(code) if system in codes.device_systems else None
        device = device or codes.local_devices.get((system, code))
        if device is not None:
            display = text_of(coding.get("display")) or (texts[0] if texts else code)
            found.append((codes.device_precedence[device], device, display))
    if len(found) > before:
        return True
    if texts:  # no known code: fall back to the names in text and displays
        return _devices_in_text(" ; ".join(texts), texts[0], ctx, found)
    return has_coding


def _devices_in_text(text: str, display: str, ctx: MappingContext, found: list[tuple[int, str, str]]) -> bool:
    codes = ctx.codes
    for _, device in codes.device_names.find(text):
        found.append((codes.device_precedence[device], device, display))
    return True


def _delivery_method(res: dict, role: str, time: datetime, source: str, ctx: MappingContext) -> None:
    found: list[tuple[int, str, str]] = []
    named = _devices_in_concept(res.get("valueCodeableConcept"), ctx, found)
    value_string = text_of(res.get("valueString"))
    if value_string:
        named = _devices_in_text(value_string, value_string, ctx, found) or named
    flow, fio2, failures, others = _oxygen_components(res, ctx)
    for component in others:  # a component may name the device too
        named = _devices_in_concept(component.get("valueCodeableConcept"), ctx, found) or named
        component_string = text_of(component.get("valueString"))
        if component_string:
            named = _devices_in_text(component_string, component_string, ctx, found) or named
    for reason in failures:
        ctx.exclude(source, reason)
    if found:
        _, device, display = min(found)
        ctx.oxygen.append(OxygenSupport(time, source, device=device, device_display=display,
                                        flow_l_min=flow, fio2_percent=fio2))
        return
    if flow is not None or fio2 is not None:
        ctx.oxygen.append(OxygenSupport(time, source, flow_l_min=flow, fio2_percent=fio2))
    elif named:
        # An unrecognised delivery method (e.g. "trach collar") is still documented oxygen support
        # whose tier is unknown: kept without a device so grading reports hypoxia as missing
        # instead of assuming room air from an SpO2 reading.
        label = (concept_texts(res.get("valueCodeableConcept")) or [value_string or "unrecognised device"])[0]
        ctx.oxygen.append(OxygenSupport(time, source, device_display=label))
    elif failures:
        _unreadable_support(time, source, failures[0], ctx)
    if named:
        ctx.exclude(source, UNKNOWN_DEVICE)
    elif flow is None and fio2 is None:
        ctx.exclude(source, DATA_ABSENT if res.get("dataAbsentReason") is not None else NO_VALUE)


def _measurement(res: dict, role: str, time: datetime, source: str, ctx: MappingContext) -> None:
    value = _value(res, role, ctx)
    if type(value) is str:
        ctx.exclude(source, value)
    else:
        unit = ctx.codes.quantities[role].target
        ctx.measurements.append(Measurement(role, value[0], unit, time, source, value[1]))


_Handler = Callable[[dict, str, datetime, str, MappingContext], None]
_HANDLERS: dict[str, _Handler] = {
    roles.TEMPERATURE: _temperature,
    roles.BP_PANEL: _bp_panel,
    roles.SYSTOLIC: _single_pressure,
    roles.DIASTOLIC: _single_pressure,
    roles.MEAN_ARTERIAL_PRESSURE: _single_pressure,
    roles.SPO2: _spo2,
    roles.OXYGEN_FLOW: _oxygen_setting,
    roles.OXYGEN_CONCENTRATION: _oxygen_setting,
    roles.OXYGEN_DELIVERY_METHOD: _delivery_method,
}

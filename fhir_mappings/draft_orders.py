"""Draft MedicationRequests (order-select / order-sign ``context.draftOrders``) -> DraftMedication.

The drug is recognised exactly as for MedicationAdministration (same code
lists, same three tiers, contained or referenced Medication — Epic puts the
referenced Medications in the same ``draftOrders`` Bundle since February 2024, with
absolute references), so an order and the later administration of it are the same
drug to the protocol checks. Dose comes from ``dosageInstruction[0]``: the first
of ``doseAndRate[0].doseQuantity``, ``doseQuantity`` (Epic's examples put it there)
and Epic's ``ordered-dose`` extension that is a mass (mg, g, ug by UCUM code) —
Epic's ``admin-amount`` (2 tablets) is not a dose in mg — else the first given;
timing from ``timing.repeat`` as "every N hours" (``timing.code.text`` such as
"Q6H PRN" is Epic's label for it). Clients are loose (the sandbox omits
``Bundle.type``): only ``entry[].resource`` is read, and an order whose drug is not
in the lists is left out silently.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime

from clinical import DraftMedication

from .codes import CodeLists
from .context import MappingContext
from .fhirjson import text_of
from .medications import identify_drugs, route_of
from .units import dose_in_mg

# UCUM time units of Timing.repeat.periodUnit, in hours (definitions, not codes of a code system).
_HOURS_PER_UNIT = {"s": 1 / 3600, "min": 1 / 60, "h": 1.0, "d": 24.0, "wk": 168.0}
# Orders that will never be given: nothing to check.
_DEAD_STATUSES = frozenset({"entered-in-error", "cancelled", "revoked"})
EPIC_ORDERED_DOSE = "https://open.epic.com/fhir/extensions/ordered-dose"


def draft_order_resources(draft_orders: object) -> list[dict]:
    """The resources of a draftOrders Bundle (``Bundle.type`` not required), in entry order."""
    if type(draft_orders) is not dict:
        return []
    entries = draft_orders.get("entry")
    if type(entries) is not list:
        return []
    return [e["resource"] for e in entries if type(e) is dict and type(e.get("resource")) is dict]


def map_draft_orders(draft_orders: object, *, patient_id: str, now: datetime, codes: CodeLists,
                     resources: Iterable[dict] = ()) -> list[DraftMedication]:
    """Recognised drugs of the MedicationRequests in ``draft_orders``.

    ``resources`` (prefetch) may hold Medications the orders reference.
    Never raises on malformed input: an unreadable order is left out.
    """
    ctx = MappingContext(codes=codes, patient_id=patient_id.removeprefix("Patient/"), latest=now)
    items = draft_order_resources(draft_orders)
    for res in [*items, *resources]:
        if type(res) is dict and res.get("resourceType") == "Medication" and type(res.get("id")) is str:
            ctx.medications.setdefault(res["id"], res)
    out: list[DraftMedication] = []
    for position, res in enumerate(items):
        status = res.get("status")
        if res.get("resourceType") != "MedicationRequest" or (type(status) is str and status in _DEAD_STATUSES):
            continue
        try:
            out.extend(_map_request(res, position, ctx))
        except Exception:
            continue
    return out


def _map_request(res: dict, position: int, ctx: MappingContext) -> list[DraftMedication]:
    matches, display = identify_drugs(res, ctx)
    if not matches:
        return []
    rid = res.get("id")
    reference = f"MedicationRequest/{rid}" if type(rid) is str and rid else f"MedicationRequest[{position}]"
    dosage = _first(res.get("dosageInstruction"))
    dose = _dose_quantity(dosage, ctx.codes)
    dose_value = dose_unit = dose_mg = None
    if dose is not None:
        dose_value = float(dose["value"])
        dose_unit = text_of(dose.get("code")) or text_of(dose.get("unit"))
        dose_mg = dose_in_mg(dose, ctx.codes)
    every_hours, once = _timing(dosage.get("timing"))
    route = route_of(dosage.get("route"), ctx.codes)
    status = res.get("status") if type(res.get("status")) is str else None
    return [DraftMedication(reference=reference, position=position, drug=drug.key, drug_class=drug.drug_class,
                            display=display or drug.key, matched_by=matched_by, status=status,
                            dose_value=dose_value, dose_unit=dose_unit, dose_mg=dose_mg,
                            every_hours=every_hours, once=once, route=route)
            for drug, matched_by, _ in matches]


def _dose_quantity(dosage: dict, codes: CodeLists) -> dict | None:
    """The dose Quantity of a Dosage: the first candidate in mass units, else the first with a value."""
    candidates = [_first(dosage.get("doseAndRate")).get("doseQuantity"), dosage.get("doseQuantity")]
    extensions = dosage.get("extension")
    if type(extensions) is list:
        candidates += [e.get("valueQuantity") for e in extensions
                       if type(e) is dict and e.get("url") == EPIC_ORDERED_DOSE]
    usable = [q for q in candidates if type(q) is dict and type(q.get("value")) in (int, float)
              and math.isfinite(q["value"])]
    return next((q for q in usable if dose_in_mg(q, codes) is not None), usable[0] if usable else None)


def _first(items: object) -> dict:
    if type(items) is list and items and type(items[0]) is dict:
        return items[0]
    return {}


def _timing(timing: object) -> tuple[float | None, bool]:
    """(every N hours, single dose) from ``Timing.repeat``; (None, False) when unknown."""
    repeat = timing.get("repeat") if type(timing) is dict else None
    if type(repeat) is not dict:
        return None, False
    period, unit = repeat.get("period"), repeat.get("periodUnit")
    frequency = repeat.get("frequency", 1)
    if (type(period) in (int, float) and period > 0 and unit in _HOURS_PER_UNIT
            and type(frequency) is int and frequency > 0):
        return round(period * _HOURS_PER_UNIT[unit] / frequency, 4), False
    return None, repeat.get("count") == 1

"""What a client profile says in place of the generic text: whole orders to set by hand, and evidence
as short lines for a narrow sidebar.

Epic creates an order from its own order record and ignores the dose in ours, so the action's
description (Epic's main text) states the whole order — drug, dose with its arithmetic, route,
frequency, limits — for the clinician to check the EHR's defaults against. Oracle Health shows
cards in a sidebar about 40 characters wide: evidence as short bullet lines, not a table.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from clinical import Evidence
from protocols import MedicationRecommendation
from protocols.findings import OrderFinding

from . import doses, evidence
from .numbers import amount, num
from .protocol import frequency_text
from .recommendations import medication
from .times import ago

DEFAULTS_NOTICE = ("**The EHR opens each suggested order with its own defaults**: before signing, check its dose, "
                   "route and frequency against the order stated in the suggestion.")
CHECK_DEFAULTS = "Check the EHR's order defaults against this."


def regimen(rec: MedicationRecommendation) -> str:
    """``dexamethasone 10 mg IV every 6 h``: drug, dose, route and timing, without the arithmetic."""
    timing = frequency_text(rec.frequency, repeatable=rec.limits is not None)
    dose = f" {num(rec.dose)} mg" if rec.dose is not None else ""
    return f"{rec.drug.display.lower()}{dose} {rec.route}" + (f" {timing}" if timing else "")


def order_to_set(rec: MedicationRecommendation) -> str:
    """The whole order with its arithmetic and limits, and what to check: ``Tocilizumab 560 mg IV now
    (8 mg/kg × 70 kg, max 800 mg); may repeat every 8 h, ... Check the EHR's order defaults against this.``"""
    return f"{medication(rec)}. {CHECK_DEFAULTS}"


def with_priority(description: str, priority: str) -> str:
    """``Order Admission to intensive care unit, priority urgent``: the priority the resource sets."""
    return f"{description}, priority {priority}"


def instead_of(rec: MedicationRecommendation, chosen: MedicationRecommendation) -> str:
    """An exclusive option that is not the recommended one: it replaces it, never adds to it."""
    return f"Instead of the recommended {regimen(chosen)} (order only one): {order_to_set(rec)}"


def one_of(rec: MedicationRecommendation) -> str:
    """An exclusive option when the protocol recommends none of them."""
    return f"Alternative (order only one of this card's options): {order_to_set(rec)}"


def corrected_order(f: OrderFinding) -> str:
    """The protocol's correction of a draft as a whole order: ``Tocilizumab 560 mg IV every 8 h
    (8 mg/kg × 70 kg), replacing the draft of 900 mg. Check ...``."""
    assert f.dose_mg is not None
    o = f.order
    every = f.every_hours or o.every_hours
    text = f"{f.problem.drug} {num(f.dose_mg)} mg" + (f" {o.route}" if o.route else "")
    text += f" every {num(every)} h" if every else (" once" if o.once else "")
    calculation = doses.calculation(f.calculation)
    if calculation:
        text += f" ({calculation})"
    given = f" of{amount(o.dose_value, o.dose_unit)}" if o.dose_value is not None else ""
    given += f" every {num(o.every_hours)} h" if given and o.every_hours else ""
    return f"{text}, replacing the draft{given}. {CHECK_DEFAULTS}"


def cancel_replaced(f: OrderFinding) -> str:
    """The delete half of a correction the client cannot apply as an update."""
    given = amount(f.order.dose_value, f.order.dose_unit)
    return f"Cancel the draft {f.order.display}{given} order: the corrected order replaces it"


def evidence_lines(found: Iterable[Evidence], now: datetime) -> str:
    """Newest first, each reading on a short line and its source on the next, e.g.::

        - Temperature: 39.2 °C (1 h ago)
          Observation/temp-1
    """
    ordered = sorted(found, key=lambda e: e.time, reverse=True)
    return "\n".join(f"- {e.what}: {evidence.value(e)} ({ago(e.time, now)})\n  {e.source}" for e in ordered)

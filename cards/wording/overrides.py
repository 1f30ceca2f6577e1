"""Why a clinician dismisses a card, as CDS Hooks ``overrideReasons`` (Codings with displays).

Patient-view: the same four codes on every card with suggestions, so that an EHR maps them once (Epic maps each code to
an acknowledgement reason in its build) and the feedback report counts them per card kind; only the first
display names the syndrome the card is about.
"""
from __future__ import annotations

from typing import Any, Literal

OVERRIDE_SYSTEM = "urn:crs-cds:override-reason"

_REASONS = (
    ("other-cause", None),
    ("already-treated", "Already treated"),
    ("patient-specific", "Patient-specific reason"),
    ("protocol-disagreement", "Protocol disagreement"),
)


def override_reasons(syndrome: Literal["crs", "icans"] = "crs") -> list[dict[str, Any]]:
    """``[{"system": ..., "code": "other-cause", "display": "Not CRS / other cause"}, ...]``."""
    other = "Not ICANS / other cause" if syndrome == "icans" else "Not CRS / other cause"
    return [{"system": OVERRIDE_SYSTEM, "code": code, "display": display or other} for code, display in _REASONS]


_ORDER_CHECK_REASONS = (
    ("clinical-judgement", "Clinical judgement: dose intended"),
    ("consultant-decision", "Consultant decision"),
    ("already-discussed", "Already discussed with the team"),
    ("weight-outdated", "Recorded weight is outdated"),
)


def order_check_reasons() -> list[dict[str, Any]]:
    """Why a prescriber keeps a draft order an order check questioned (order-select, order-sign)."""
    return [{"system": OVERRIDE_SYSTEM, "code": code, "display": display} for code, display in _ORDER_CHECK_REASONS]

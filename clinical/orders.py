"""Draft orders the EHR is about to sign (order-select / order-sign), as recognised drugs."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DraftMedication:
    """One recognised drug of an unsigned (or re-signed) MedicationRequest."""

    reference: str  # "MedicationRequest/123" (or "MedicationRequest[2]" without an id)
    position: int  # index in draftOrders.entry, so checks can count earlier orders
    drug: str  # canonical key, e.g. "tocilizumab"
    drug_class: str
    display: str
    matched_by: str
    status: str | None
    dose_value: float | None = None
    dose_unit: str | None = None
    dose_mg: float | None = None  # None: no dose, or not a mass unit
    every_hours: float | None = None  # None: single dose or no timing
    once: bool = False  # timing says a single dose (repeat.count == 1, no period)
    route: str | None = None

    @property
    def has_id(self) -> bool:
        return "/" in self.reference

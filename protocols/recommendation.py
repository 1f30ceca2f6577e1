"""What the protocol layer hands to cards: recommendations with their dose, evidence and source.

Flat, frozen values: the card layer reads fields, it never re-derives a dose or
re-evaluates a condition. Every recommendation cites at least one source.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from clinical import Evidence

from .model import Citation, Code

Kind = Literal["medication", "service", "advice", "warning"]


@dataclass(frozen=True, slots=True)
class Recommendation:
    """One applicable protocol action (or warning) for this patient, now.

    ``recommended`` is the protocol's "do this" (CDS Hooks ``isRecommended``);
    options sharing an ``alternative_group`` are mutually exclusive and at most
    one of them is recommended. A medication can be ordered only when
    ``orderable``: it has a dose and is not ``blocked`` by a repeat limit.
    """

    kind: Kind
    action_id: str  # the action's id in the protocol file
    text: str  # one line for the card, e.g. "Tocilizumab 560 mg IV now (8 mg/kg × 70 kg, max 800 mg); ..."
    sources: tuple[Citation, ...]  # the rule's own source first, then regimen / repeat-limit sources
    recommended: bool = False
    alternative_group: str | None = None
    rationale: tuple[str, ...] = ()  # the conditions that made it apply, as checked facts
    evidence: tuple[Evidence, ...] = ()  # weight, prior doses, ANC, ... with FHIR references
    note: str | None = None  # the protocol's remark (e.g. "only if tocilizumab is not available")
    # medication
    drug: str | None = None
    drug_display: str | None = None
    drug_class: str | None = None
    rxnorm: str | None = None
    dose_mg: float | None = None
    dose_problem: str | None = None  # why there is no dose (no recent weight, no protocol dose, ...)
    dose_calculation: str | None = None  # "8 mg/kg × 70 kg, max 800 mg"
    route: str | None = None  # "IV" | "SC" | "PO"
    every_hours: float | None = None  # None with ``once`` or when the source gives no interval
    once: bool = False
    per_day_mg: float | None = None
    duration: str | None = None
    regimen: str | None = None  # the institutional regimen used (label)
    blocked: str | None = None  # why no dose now (repeat limits); None when allowed
    next_allowed: datetime | None = None  # when the next dose becomes allowed
    limit_reached: bool = False  # the total-dose limit is reached: escalate instead
    escalates: str | None = None  # action_id of the exhausted medication this replaces
    # service
    codes: tuple[Code, ...] = ()
    priority: str | None = None

    @property
    def source(self) -> Citation:
        return self.sources[0]

    @property
    def orderable(self) -> bool:
        if self.kind == "medication":
            return self.dose_mg is not None and self.blocked is None
        return self.kind == "service" and bool(self.codes)


@dataclass(frozen=True, slots=True)
class Recommendations:
    """Everything the protocol says for one patient at one time."""

    protocol_id: str
    protocol_title: str
    protocol_version: str
    grade: int | None
    items: tuple[Recommendation, ...] = ()  # medications, services and advice, in protocol order
    warnings: tuple[Recommendation, ...] = ()
    notes: tuple[str, ...] = ()  # e.g. "grade is a lower bound", "no ANC recorded"
    lower_bound: bool = False

    @property
    def medications(self) -> tuple[Recommendation, ...]:
        return tuple(r for r in self.items if r.kind == "medication")

    @property
    def services(self) -> tuple[Recommendation, ...]:
        return tuple(r for r in self.items if r.kind == "service")

    def for_drug(self, drug: str) -> tuple[Recommendation, ...]:
        return tuple(r for r in self.items if r.drug == drug)

    def alternatives(self, group: str) -> tuple[Recommendation, ...]:
        return tuple(r for r in self.items if r.alternative_group == group)

"""Protocol outputs as the cards word them, so tests keep asserting the sentences clinicians read.

``protocols`` hands over typed values (dose steps, condition reasons, repeat verdicts,
notes, order-check problems); ``cards.wording`` alone turns them into words. These
wrappers give a test both: ``said.text``, ``said.rationale``, ``said.blocked``,
``said.dose_problem`` and ``said.dose_calculation`` in words, everything else read
from the typed value (``said.typed``).
"""
from __future__ import annotations

from typing import Any

from cards.wording import doses, reasons, recommendations
from cards.wording import orders as finding_words
from protocols import MedicationRecommendation, Recommendations, WarningRecommendation
from protocols.findings import OrderFinding
from protocols.recommendation import Recommendation


class Said:
    """One recommendation (or warning) with its words."""

    def __init__(self, rec: Recommendation | WarningRecommendation) -> None:
        self.typed = rec
        self.text = recommendations.text(rec)
        self.rationale = tuple(reasons.reason(r) for r in rec.rationale)
        if isinstance(rec, MedicationRecommendation):
            self.blocked = reasons.refusal(rec.repeat) if rec.repeat is not None and rec.blocked else None
            self.dose_problem = doses.problem(rec.problem) if rec.problem is not None else None
            self.dose_calculation = doses.calculation(rec.calculation)
            self.awaiting = tuple(reasons.until(r) for r in rec.awaiting)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.typed, name)


class SaidRecommendations:
    """``Recommendations`` whose items, warnings and notes read as the card words them."""

    def __init__(self, recs: Recommendations) -> None:
        self.typed = recs
        self.items = tuple(Said(r) for r in recs.items)
        self.warnings = tuple(Said(w) for w in recs.warnings)
        self.notes = tuple(reasons.note(n) for n in recs.notes)

    @property
    def medications(self) -> tuple[Said, ...]:
        return tuple(r for r in self.items if r.kind == "medication")

    @property
    def services(self) -> tuple[Said, ...]:
        return tuple(r for r in self.items if r.kind == "service")

    def for_drug(self, drug: str) -> tuple[Said, ...]:
        return tuple(Said(r) for r in self.typed.for_drug(drug))

    def alternatives(self, group: str) -> tuple[Said, ...]:
        return tuple(Said(r) for r in self.typed.alternatives(group))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.typed, name)


def said(recs: Recommendations) -> SaidRecommendations:
    return SaidRecommendations(recs)


class SaidFinding:
    """An order-check finding with the card's summary and reasons in words."""

    def __init__(self, finding: OrderFinding) -> None:
        self.typed = finding
        self.summary = finding_words.summary(finding)
        self.reasons = finding_words.reasons(finding)
        self.calculation = doses.calculation(finding.calculation)
        self.reminders = tuple(w.text for w in finding.reminders)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.typed, name)

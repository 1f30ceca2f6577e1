"""What the protocol layer hands to cards: recommendations with their dose, evidence and source.

One frozen variant per kind of protocol action (medication, service, advice) and
one for warnings, mirroring the protocol model's action union: each carries only
what its kind needs, as typed values (dose steps, condition reasons, repeat-limit
verdict, notes). The card layer reads fields and words them (``cards.wording``);
it never re-derives a dose, re-evaluates a condition or parses a sentence.
Every recommendation cites at least one source.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

from clinical import Evidence, IndexClass, SpO2

from .calculation import DoseCalculation, DoseProblem
from .history import RepeatCheck
from .model import Citation, Code, DoseRule, Drug, Frequency, RepeatLimits, Route
from .reasons import Reason


@dataclass(frozen=True, slots=True)
class MedicationRecommendation:
    """A medication action that applies now, with its dose (or why there is none) and repeat verdict.

    ``recommended`` is the protocol's "do this" (CDS Hooks ``isRecommended``);
    options sharing an ``alternative_group`` are mutually exclusive and at most
    one of them is recommended. It can be ordered only when ``orderable``: it has
    a dose, is not ``blocked`` by a repeat limit and is not ``awaiting`` its own
    condition (e.g. grade 1 tocilizumab "if fever lasts > 24 h": until then the
    card says when it would apply instead of offering it).
    """

    action_id: str  # the action's id in the protocol file
    drug: Drug
    route: Route
    rule: DoseRule  # the protocol's dose rule (shown when no dose can be computed)
    sources: tuple[Citation, ...]  # the rule's own source first, then regimen / band / repeat-limit sources
    dose: Decimal | None = None  # one dose in mg; None when it cannot be computed
    per_day: Decimal | None = None  # the daily total in mg
    calculation: DoseCalculation | None = None
    problem: DoseProblem | None = None  # why there is no dose (no recent weight, no protocol dose, ...)
    frequency: Frequency | None = None
    alternative_routes: tuple[Route, ...] = ()
    duration: str | None = None
    regimen: str | None = None  # the institutional regimen used (label)
    recommended: bool = False
    alternative_group: str | None = None
    rationale: tuple[Reason, ...] = ()  # the conditions that made it apply (and any demotion)
    evidence: tuple[Evidence, ...] = ()  # weight, prior doses, ANC, ... with FHIR references
    note: str | None = None  # the protocol's remark (e.g. "only if tocilizumab is not available")
    limits: RepeatLimits | None = None  # the drug's repeat limits, when the protocol sets them
    repeat: RepeatCheck | None = None  # the verdict on a dose now under ``limits``
    escalation: str | None = None  # the protocol's escalation text, once the total-dose limit is reached
    escalates: str | None = None  # action_id of the exhausted medication this replaces
    awaiting: tuple[Reason, ...] = ()  # the order's own conditions (recommendedWhen) that do not hold yet
    kind: Literal["medication"] = field(default="medication")

    @property
    def source(self) -> Citation:
        return self.sources[0]

    @property
    def dose_mg(self) -> float | None:
        return float(self.dose) if self.dose is not None else None

    @property
    def per_day_mg(self) -> float | None:
        return float(self.per_day) if self.per_day is not None else None

    @property
    def every_hours(self) -> float | None:
        """None with ``once`` or when the source gives no interval."""
        freq = self.frequency
        return float(freq.every_hours) if freq and freq.every_hours is not None else None

    @property
    def once(self) -> bool:
        return bool(self.frequency and self.frequency.once)

    @property
    def blocked(self) -> bool:
        """No dose now: a repeat limit refuses it (``repeat.reasons`` say which)."""
        return self.repeat is not None and not self.repeat.allowed

    @property
    def next_allowed(self) -> datetime | None:
        return self.repeat.next_allowed if self.repeat else None

    @property
    def limit_reached(self) -> bool:
        """The total-dose limit is reached: escalate instead."""
        return bool(self.repeat and self.repeat.exhausted)

    @property
    def orderable(self) -> bool:
        return self.dose is not None and not self.blocked and not self.awaiting


@dataclass(frozen=True, slots=True)
class ServiceRecommendation:
    """A service to order (ICU transfer, echocardiogram, labs) or, without codes, to arrange."""

    action_id: str
    text: str
    sources: tuple[Citation, ...]
    recommended: bool = True
    codes: tuple[Code, ...] = ()
    priority: str | None = None  # FHIR ServiceRequest.priority
    rationale: tuple[Reason, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    escalates: str | None = None
    kind: Literal["service"] = field(default="service")

    @property
    def source(self) -> Citation:
        return self.sources[0]

    @property
    def orderable(self) -> bool:
        return bool(self.codes)


@dataclass(frozen=True, slots=True)
class AdviceRecommendation:
    """Care the service can only describe (fluids, antipyretics, call the ICU team); ``first``: stated
    before anything else on the card (pause the T-cell engager infusion)."""

    action_id: str
    text: str
    sources: tuple[Citation, ...]
    rationale: tuple[Reason, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    escalates: str | None = None
    first: bool = False
    kind: Literal["advice"] = field(default="advice")

    @property
    def source(self) -> Citation:
        return self.sources[0]

    @property
    def orderable(self) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class WarningRecommendation:
    """A protocol safety warning whose conditions hold now."""

    warning_id: str
    text: str
    sources: tuple[Citation, ...]
    rationale: tuple[Reason, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    names_index_therapy: bool = False  # the card adds "not recommended after <index_class>"
    index_class: IndexClass | None = None  # the patient's index therapy class (None: unknown)
    short: str | None = None  # the protocol's words for it in a card's one-line list of warnings
    kind: Literal["warning"] = field(default="warning")

    @property
    def source(self) -> Citation:
        return self.sources[0]

    @property
    def orderable(self) -> bool:
        return False


Recommendation = MedicationRecommendation | ServiceRecommendation | AdviceRecommendation

# -------------------------------------------------------------------------- notes


@dataclass(frozen=True, slots=True)
class OxygenCheck:
    """An SpO2 below the protocol's target with no oxygen support charted: check the oxygen support (ASTCT
    grades hypoxia by the support the patient is on, so none is counted)."""

    spo2: SpO2
    target_percent: Decimal
    source: Citation


@dataclass(frozen=True, slots=True)
class NoCrs:
    """No CRS grade 1-4: the protocol proposes no treatment."""

    status: str  # the assessment's status


@dataclass(frozen=True, slots=True)
class NoIcans:
    """No ICANS grade 1-4 (or no ICANS section in the protocol): no ICANS actions."""

    status: str | None  # the ICANS assessment's status (None: not assessed)
    section: bool = True  # the protocol has an ICANS section


@dataclass(frozen=True, slots=True)
class LowerBoundActions:
    """The grade is a lower bound: these are the actions of ``grade``, the true grade may be higher."""

    grade: int


@dataclass(frozen=True, slots=True)
class IndexTherapyUnknown:
    """The index therapy's start is unknown: every recorded dose counts towards total-dose limits."""


@dataclass(frozen=True, slots=True)
class WarningNotEvaluated:
    """A warning whose conditions could not be decided on the data, and why (``text``: the warning's own)."""

    warning_id: str
    reasons: tuple[Reason, ...]
    text: str = ""


ProtocolNote = NoCrs | NoIcans | LowerBoundActions | IndexTherapyUnknown | WarningNotEvaluated


@dataclass(frozen=True, slots=True)
class Recommendations:
    """Everything the protocol says for one patient at one time, for one syndrome.

    ``syndrome`` says which grade the items answer (CRS, or ICANS from the protocol's ICANS section);
    ``pathway`` names the index-therapy pathway whose CRS actions these are (e.g. ``t-cell-engager``);
    ``concurrent`` is the ICANS section's rule for concurrent CRS (corticosteroid first) when CRS is
    present too.
    """

    protocol_id: str
    protocol_title: str
    protocol_version: str
    grade: int | None
    items: tuple[Recommendation, ...] = ()  # medications, services and advice, in protocol order
    warnings: tuple[WarningRecommendation, ...] = ()
    notes: tuple[ProtocolNote, ...] = ()  # e.g. the grade is a lower bound, a warning not evaluated
    lower_bound: bool = False
    syndrome: Literal["crs", "icans"] = "crs"
    pathway: str | None = None
    concurrent: WarningRecommendation | None = None
    oxygen_check: OxygenCheck | None = None  # CRS recommendations: SpO2 below target, no oxygen support charted
    section_source: Citation | None = None  # the source section the protocol names for this grade
    protocol_url: str | None = None  # where to read the protocol (the cards' source link)

    @property
    def medications(self) -> tuple[MedicationRecommendation, ...]:
        return tuple(r for r in self.items if isinstance(r, MedicationRecommendation))

    @property
    def services(self) -> tuple[ServiceRecommendation, ...]:
        return tuple(r for r in self.items if isinstance(r, ServiceRecommendation))

    def for_drug(self, drug: str) -> tuple[MedicationRecommendation, ...]:
        return tuple(r for r in self.medications if r.drug.key == drug)

    def alternatives(self, group: str) -> tuple[MedicationRecommendation, ...]:
        return tuple(r for r in self.medications if r.alternative_group == group)

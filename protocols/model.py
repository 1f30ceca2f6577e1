"""A treatment protocol as typed, immutable values.

Protocol files (YAML/JSON, validated by ``data/protocol.schema.json``) are
turned into these dataclasses by :mod:`protocols.loader`. Nothing here knows
about a particular institution: every number, condition and citation comes
from the file, so adding a protocol is a data change, not a code change.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Literal, TypeVar, Union

Route = Literal["IV", "SC", "PO"]
RoundingMode = Literal["nearest", "down", "up"]


K = TypeVar("K")
V = TypeVar("V")


def frozen_map(values: Mapping[K, V] | None = None) -> Mapping[K, V]:
    """A read-only mapping, so a shared (cached) Protocol cannot be mutated."""
    return MappingProxyType(dict(values or {}))


@dataclass(frozen=True, slots=True)
class Citation:
    """Where a rule comes from: a source document (its key in the protocol's sources) and a section of it."""

    document: str  # the key of one of the protocol's sources, e.g. "002_3ba164531ae4c869.txt" or "ASTCT consensus"
    section: str  # e.g. "§7.1 Tocilizumab"
    title: str | None = None  # the document's title, from the protocol's sources
    url: str | None = None  # the document's address, from the protocol's sources

    @property
    def label(self) -> str:
        return f"{self.title or self.document}, {self.section}"


@dataclass(frozen=True, slots=True)
class SourceDocument:
    document: str
    title: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Code:
    """A coding for an orderable service (SNOMED CT procedure, LOINC test)."""

    system: str
    code: str
    display: str
    label: str | None = None  # what clinicians call it ("CBC"), where the display is a long official name

    @property
    def name(self) -> str:
        """The words for an order's text and its button: the label, else the display."""
        return self.label or self.display


@dataclass(frozen=True, slots=True)
class Drug:
    key: str  # canonical key shared with fhir_mappings (e.g. "tocilizumab")
    display: str
    drug_class: str  # fhir_mappings.model.DrugClass
    rxnorm: str | None = None  # ingredient RxCUI; None when not verified


# ---------------------------------------------------------------- conditions

@dataclass(frozen=True, slots=True)
class DoseCount:
    """``{"drug": "tocilizumab", "count": 2}`` or ``{"drugClass": "corticosteroid", "count": 1}``."""

    count: int
    drug: str | None = None
    drug_class: str | None = None


ConditionValue = Union[bool, Decimal, str, DoseCount, tuple["Condition", ...]]  # noqa: UP007 - recursive alias


@dataclass(frozen=True, slots=True)
class Condition:
    """One term of the declarative condition vocabulary (see the schema's ``condition``)."""

    name: str  # e.g. "min_prior_doses", "hypotension_persisting", "fever_duration_hours_gt"
    value: ConditionValue


# --------------------------------------------------------------------- doses

@dataclass(frozen=True, slots=True)
class WeightBand:
    """Below ``below_kg`` the dose is ``mg_per_kg`` instead of the rule's default."""

    below_kg: Decimal
    mg_per_kg: Decimal
    source: Citation | None = None


@dataclass(frozen=True, slots=True)
class Rounding:
    """Round the dose to a step (a vial, a syringe graduation) -- only where the protocol says so."""

    step_mg: Decimal
    mode: RoundingMode = "nearest"
    label: str | None = None  # e.g. "nearest vial"
    # Refuse to round when it would change the dose by more than this (small children).
    max_change_percent: Decimal | None = None


DoseBasis = Literal["mg", "mg/kg", "mg/kg/day", "mg/m2", "unspecified"]


@dataclass(frozen=True, slots=True)
class DoseRule:
    basis: DoseBasis
    amount: Decimal | None  # in the unit of ``basis``; None when unspecified
    max_mg_per_dose: Decimal | None = None
    max_mg_per_day: Decimal | None = None
    weight_bands: tuple[WeightBand, ...] = ()  # ascending below_kg
    rounding: Rounding | None = None
    unspecified_reason: str | None = None  # why the protocol gives no dose
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Frequency:
    """Every N hours, or a single dose (``once``)."""

    every_hours: Decimal | None = None
    once: bool = False

    @property
    def doses_per_day(self) -> Decimal | None:
        if self.once or self.every_hours is None:
            return None
        return Decimal(24) / self.every_hours


@dataclass(frozen=True, slots=True)
class RepeatLimits:
    """Repeat rules for one drug (tocilizumab): interval, per-24-h and total caps."""

    drug: str
    min_interval_hours: Decimal | None
    max_doses_per_24h: int | None
    max_doses_since_index_therapy: int | None
    source: Citation


@dataclass(frozen=True, slots=True)
class RegimenOption:
    """One institution's way of giving a drug (e.g. anakinra at CHOP)."""

    key: str
    label: str
    dose: DoseRule
    route: Route
    source: Citation
    frequency: Frequency | None = None
    alternative_routes: tuple[Route, ...] = ()
    duration: str | None = None
    indication: str | None = None


@dataclass(frozen=True, slots=True)
class RegimenChoice:
    """Named set of regimens for one drug; ``selected`` is the one the protocol uses."""

    name: str
    selected: str
    options: Mapping[str, RegimenOption]

    @property
    def chosen(self) -> RegimenOption:
        return self.options[self.selected]


# ------------------------------------------------------------------- actions

@dataclass(frozen=True, slots=True)
class Escalation:
    """What the protocol does instead once a drug's total-dose limit is reached."""

    text: str
    actions: tuple[Action, ...] = ()


@dataclass(frozen=True, slots=True)
class MedicationAction:
    id: str
    drug: Drug
    dose: DoseRule
    route: Route
    source: Citation
    frequency: Frequency | None = None
    alternative_routes: tuple[Route, ...] = ()
    duration: str | None = None
    when: tuple[Condition, ...] = ()  # all must hold for the action to apply
    recommended: bool = False
    recommended_when: tuple[Condition, ...] = ()  # suggested, upgraded to recommended when all hold
    alternative_group: str | None = None  # mutually exclusive options, at most one recommended
    note: str | None = None
    regimen: RegimenOption | None = None  # set when the dose comes from a regimen choice
    if_exhausted: Escalation | None = None
    kind: Literal["medication"] = field(default="medication")


@dataclass(frozen=True, slots=True)
class ServiceAction:
    id: str
    text: str
    source: Citation
    codes: tuple[Code, ...] = ()  # empty: shown as text, nothing to order
    priority: str | None = None  # FHIR ServiceRequest.priority
    when: tuple[Condition, ...] = ()
    recommended: bool = True
    kind: Literal["service"] = field(default="service")


@dataclass(frozen=True, slots=True)
class AdviceAction:
    """Care the service can only describe (fluids, antipyretics, call the ICU team); ``first``: the card
    states it before anything else (pause the T-cell engager infusion)."""

    id: str
    text: str
    source: Citation
    when: tuple[Condition, ...] = ()
    first: bool = False
    kind: Literal["advice"] = field(default="advice")


@dataclass(frozen=True, slots=True)
class WarningRule:
    """A safety warning; ``names_index_therapy``: the card adds the patient's index therapy class
    ("not recommended after CAR-T cells" / "after a T-cell engager")."""

    id: str
    text: str
    source: Citation
    when: tuple[Condition, ...] = ()
    names_index_therapy: bool = False
    short: str | None = None  # the card's words for it in its one-line list of warnings
    kind: Literal["warning"] = field(default="warning")


Action = MedicationAction | ServiceAction | AdviceAction


@dataclass(frozen=True, slots=True)
class GradeRules:
    grade: int
    title: str
    actions: tuple[Action, ...]
    source: Citation | None = None  # the section of the source covering this grade (the card names it)


@dataclass(frozen=True, slots=True)
class Section:
    """Per-grade actions: the protocol's CRS management, a pathway's, or its ICANS section."""

    all_grades: tuple[Action, ...]
    grades: Mapping[int, GradeRules]

    def actions_for(self, grade: int) -> tuple[Action, ...]:
        """Actions for every grade, then the grade's own, in file order."""
        rules = self.grades.get(grade)
        return self.all_grades + (rules.actions if rules else ())

    def source_for(self, grade: int) -> Citation | None:
        """The source section the protocol names for this grade, if it names one."""
        rules = self.grades.get(grade)
        return rules.source if rules else None


@dataclass(frozen=True, slots=True)
class Pathway:
    """CRS managed differently after one class of index therapy (a T-cell engager: pause the infusion,
    steroids first), for the listed drugs of the class (all of them when ``drugs`` is empty)."""

    index_class: str  # "t-cell-engager" (clinical.IndexClass)
    source: Citation
    section: Section
    drugs: frozenset[str] = frozenset()
    description: str | None = None

    def applies_to(self, drug: str, index_class: str | None) -> bool:
        return index_class == self.index_class and (not self.drugs or drug in self.drugs)


@dataclass(frozen=True, slots=True)
class IcansSection:
    """ICANS management: per-grade actions, their source, and the rule for concurrent CRS (corticosteroid
    first) with its own text and source, which the card states."""

    source: Citation
    concurrent_crs: WarningRule
    section: Section
    description: str | None = None


# -------------------------------------------------------------- order checks

@dataclass(frozen=True, slots=True)
class OrderTarget:
    """The drug (key) or the drug class an order check applies to."""

    drug: str | None = None
    drug_class: str | None = None

    def matches(self, drug: str, drug_class: str | None) -> bool:
        return drug == self.drug if self.drug is not None else drug_class == self.drug_class


@dataclass(frozen=True, slots=True)
class RepeatLimitsCheck:
    """Refuse a dose the drug's ``settings.repeatLimits`` do not allow now (critical: cancel the order)."""

    target: OrderTarget
    finding: str  # the card kind its findings report, e.g. "tocilizumab-limit"
    check: Literal["repeat-limits"] = field(default="repeat-limits")


@dataclass(frozen=True, slots=True)
class DoseCheck:
    """The draft dose against the protocol's dose for the drug, within ``tolerance_percent``, and its
    per-dose cap; a weight-based dose without a recent weight is reported as ``no-weight``."""

    target: OrderTarget
    finding: str
    tolerance_percent: Decimal
    check: Literal["dose"] = field(default="dose")


@dataclass(frozen=True, slots=True)
class MaximumDoseCheck:
    """The draft dose against the protocol's per-dose and per-day maximum for the drug (``no-weight``
    when the protocol dose is weight-based and there is no recent weight)."""

    target: OrderTarget
    finding: str
    check: Literal["maximum-dose"] = field(default="maximum-dose")


@dataclass(frozen=True, slots=True)
class NeverGiveCheck:
    """A drug that must not be given (critical: cancel), citing the text and source of ``warning``."""

    target: OrderTarget
    finding: str
    warning: WarningRule
    label: str  # what must not be given, as the card names it (e.g. "GM-CSF")
    check: Literal["never-give"] = field(default="never-give")


@dataclass(frozen=True, slots=True)
class RegimenCheck:
    """The draft against the protocol's regimens of that drug at the current grade (dose within
    ``tolerance_percent``, same interval); ``reminders`` are warnings to attach to a finding."""

    target: OrderTarget
    finding: str
    tolerance_percent: Decimal
    reminders: tuple[WarningRule, ...] = ()
    check: Literal["regimen-for-grade"] = field(default="regimen-for-grade")


OrderCheck = RepeatLimitsCheck | DoseCheck | MaximumDoseCheck | NeverGiveCheck | RegimenCheck


@dataclass(frozen=True, slots=True)
class OxygenTarget:
    """The SpO2 the protocol keeps the patient above (e.g. 92 %), with its source."""

    spo2_percent: Decimal
    source: Citation


@dataclass(frozen=True, slots=True)
class Settings:
    """How the protocol reads the patient's data: how old a weight, height or ANC may be, how long a
    given drug counts as "running", when a weight is implausible, whether a stopped dose counts towards
    repeat limits, the SpO2 target (a site's choice, so data, never Python)."""

    weight_max_age_days: int
    height_max_age_days: int
    running_window: timedelta  # a drug given this recently counts as running (drug_class_planned_or_running)
    anc_max_age: timedelta  # an older ANC is stale: neutropenia cannot be assessed from it
    repeat_limits: Mapping[str, RepeatLimits] = field(default_factory=frozen_map)
    # A weight differing from the previous one by more than this, within ``weight_change_within``, is suspect.
    weight_max_change_percent: Decimal = Decimal(20)
    weight_change_within: timedelta = timedelta(days=7)
    count_stopped_doses: bool = True  # a "stopped" administration counts towards repeat limits (the safe reading)
    oxygen_target: OxygenTarget | None = None


@dataclass(frozen=True, slots=True)
class Protocol:
    id: str
    title: str
    version: str
    sources: tuple[SourceDocument, ...]
    settings: Settings
    drugs: Mapping[str, Drug]
    all_grades: tuple[Action, ...]
    grades: Mapping[int, GradeRules]
    warnings: tuple[WarningRule, ...]
    regimens: Mapping[str, RegimenChoice] = field(default_factory=frozen_map)
    order_checks: tuple[OrderCheck, ...] = ()  # in file order: for one draft, the first finding decides
    description: str | None = None
    url: str | None = None  # where to read the protocol (or about its institution): the cards' source link
    path: str | None = None  # the file it was loaded from
    pathways: Mapping[str, Pathway] = field(default_factory=frozen_map)  # by index-therapy class
    icans: IcansSection | None = None

    def actions_for(self, grade: int) -> tuple[Action, ...]:
        """Actions for every grade, then the grade's own, in file order."""
        return Section(self.all_grades, self.grades).actions_for(grade)

    def pathway_for(self, drug: str | None, index_class: str | None) -> Pathway | None:
        """The pathway for an index therapy (``drug`` of ``index_class``), if the protocol has one."""
        pathway = self.pathways.get(index_class or "")
        return pathway if pathway is not None and drug is not None and pathway.applies_to(drug, index_class) else None

    def crs_section(self, pathway: Pathway | None) -> Section:
        """The CRS actions: the pathway's when one applies, else the protocol's own."""
        return pathway.section if pathway is not None else Section(self.all_grades, self.grades)

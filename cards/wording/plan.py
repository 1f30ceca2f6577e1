"""The protocol's part of the patient-view cards in words, one line each.

What to do first, orders the protocol names that are not offered now (and when they would apply, or why
not), the choice that follows on its own card, the safety warnings, what could not be assessed, and the
protocol section the orders come from. The suggestions carry the orders themselves (``order_label``,
``order_description``); the protocol's full list of actions with every source stays in ``crs-cds grade``.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from clinical import Evidence
from protocols import (
    AdviceRecommendation,
    MedicationRecommendation,
    Recommendations,
    ServiceRecommendation,
    WarningRecommendation,
)
from protocols.model import Citation
from protocols.reasons import AnotherOptionRecommended, CrsNow, IcansNow, Reason
from protocols.recommendation import IndexTherapyUnknown, WarningNotEvaluated

from . import doses, reasons, recommendations
from .assessment import dated
from .numbers import num
from .readings import index_therapy
from .times import when


def first(rec: AdviceRecommendation, now: datetime) -> str:
    """``**First: Pause the blinatumomab infusion** — 28 µg/day, running, started 2 d ago`` (the infusion the
    protocol's text names)."""
    shown = "; ".join(dated(e, now, named=len(rec.evidence) > 1) for e in rec.evidence)
    return f"**First: {rec.text}**" + (f" — {shown}" if shown else "")


def not_offered(rec: MedicationRecommendation, now: datetime) -> str:
    """An order the protocol names that is not a suggestion now, and when it would apply or why not:
    ``Not yet: Tocilizumab 560 mg IV now (8 mg/kg × 70 kg) — if fever lasts > 24 h: from 2026-11-22 06:00 UTC
    (in 18 h) if still febrile``, ``Not now: Tocilizumab 560 mg IV — 3 doses in 24 h, max 3; next dose ...``."""
    if rec.awaiting:  # with the protocol's note, which says the exceptions (e.g. "or in high-risk patients")
        until = "; ".join(reasons.until(r, now) for r in rec.awaiting)
        line = f"Not yet: {recommendations.order(rec, duration=False)} — {until}"
        return line + (f". {rec.note}" if rec.note else "")
    name = rec.drug.display
    check = rec.repeat
    if check is not None and check.exhausted:
        return f"{name}: no further doses — limit reached ({reasons.limited(check, now)})." + (
            f" {rec.escalation}" if rec.escalation else "")
    if check is not None and not check.allowed:
        dose = f" {num(rec.dose)} mg {rec.route}" if rec.dose is not None else ""
        nxt = f"; next dose allowed from {when(check.next_allowed, now)}" if check.next_allowed else ""
        return f"Not now: {name}{dose} — {reasons.limited(check, now)}{nxt}"
    return f"{name} {rec.route}: no order — {doses.problem(rec.problem, drug=name.lower())}"


def choice(options: Sequence[Sequence[MedicationRecommendation]], *, corticosteroid_first: bool) -> str:
    """The one line saying that a choice follows on its own card (the options are offered there, once):
    ``Next card: choose dexamethasone or anakinra.``"""
    names = [_choice_names(group) for group in options]
    cards = "Next card" if len(names) == 1 else f"Next {len(names)} cards"
    if corticosteroid_first:
        return f"{cards}: corticosteroid first — {'; then '.join(names)}."
    return f"{cards}: choose {'; then '.join(names)}."


def _choice_names(group: Sequence[MedicationRecommendation]) -> str:
    names = list(dict.fromkeys(r.drug.display.lower() for r in group))
    return " or ".join(names) if len(names) > 1 else f"the {names[0]} dose"


def warnings(found: Sequence[WarningRecommendation], now: datetime) -> str:
    """The safety warnings that apply, in one line by the protocol's short words, each with the reading it
    holds on: ``Warnings: no GM-CSF (sargramostim) after CAR-T cells; neutropenic: start empiric broad-spectrum
    antibiotics (absolute neutrophil count 0.3 × 10⁹/L, 3 h ago).`` (full texts: ``crs-cds grade``)."""
    return "Warnings: " + "; ".join(_warning(w, now) for w in found) + "."


def _warning(w: WarningRecommendation, now: datetime) -> str:
    text = w.short or w.text
    if w.names_index_therapy:
        text += f" after {index_therapy(w.index_class)}"
    shown = "; ".join(dated(e, now) for e in _latest_each(w.evidence))
    return text + (f" ({shown})" if shown else "")


def _latest_each(found: Sequence[Evidence]) -> list[Evidence]:
    """One line per administration or reading, and of each drug or measurement only the latest: what makes
    the warning hold now."""
    latest: dict[str, Evidence] = {}
    for e in found:
        if e.what not in latest or e.time > latest[e.what].time:
            latest[e.what] = e
    return sorted(latest.values(), key=lambda e: e.time, reverse=True)


def unassessed(note: WarningNotEvaluated | IndexTherapyUnknown) -> str:
    """``Neutropenia not assessed: no neutrophil count in 48 h``."""
    return reasons.not_assessed(note) if isinstance(note, WarningNotEvaluated) else reasons.note(note)


def section(active: Sequence[Recommendations]) -> str:
    """The protocol and the section the card's orders come from, in one line: ``Protocol: ASTCT consensus CRS
    management (generic) — Treatment of CRS (guideline summary), Grade 3 CRS Management``; the grade when the
    protocol names no section for it."""
    title = active[0].protocol_title
    if len(active) == 1:
        return f"Protocol: {title} — {_cited(active[0]) or _label(active[0])}"
    return f"Protocol: {title} — " + "; ".join(
        f"{'ICANS' if recs.syndrome == 'icans' else 'CRS'}: {_cited(recs) or _label(recs)}" for recs in active)


def _label(recs: Recommendations) -> str:
    label = f"{'ICANS ' if recs.syndrome == 'icans' else ''}grade {recs.grade}"
    return label + (f" after {index_therapy(recs.pathway)}" if recs.pathway else "")


def _cited(recs: Recommendations) -> str | None:
    """``<document title>, <section>`` (the section alone when the document is the protocol itself)."""
    source = recs.section_source
    if source is None:
        return None
    return source.section if source.title == recs.protocol_title else source.label


# ------------------------------------------------------------------------------------- suggestions

def order_label(rec: MedicationRecommendation | ServiceRecommendation) -> str:
    """The complete order in one line: ``Tocilizumab 560 mg IV now (8 mg/kg × 70 kg)``,
    ``Transfer to the intensive care unit``."""
    if isinstance(rec, ServiceRecommendation):
        return rec.text
    return recommendations.order(rec)


def order_description(rec: MedicationRecommendation) -> str:
    """What the clinician signs, with its limits and its source: the order's action text."""
    return f"{recommendations.medication(rec)}. Source: {sources(rec.sources)}"


def service_description(display: str, rec: ServiceRecommendation) -> str:
    return f"{display}. Source: {sources(rec.sources)}"


def sources(cited: Sequence[Citation]) -> str:
    return "; ".join(c.label for c in cited)


# ---------------------------------------------------------------------------------- choose-one card

def option(rec: MedicationRecommendation, *, by_dose: bool = False, shared: Sequence[Reason] = ()) -> str:
    """One option of a choice, by drug (by dose when the options are doses of one drug; its suggestion states
    the whole order and cites its source): whether the protocol recommends it, why it applies (the grades are
    on the assessment card) and, for an alternative, when to choose it (its note)."""
    name = _short(rec) if by_dose else rec.drug.display
    line = f"**{name[:1].upper()}{name[1:]}**" + (" (recommended)" if rec.recommended else "")
    why = [reasons.reason(r) for r in rec.rationale if not isinstance(r, _UNSAID) and r not in shared]
    if rec.note and not rec.recommended:  # when to choose the alternative; the recommended order's note is in it
        why.append(rec.note)
    return line + (": " + "; ".join(why) if why else "")


def choice_summary(options: Sequence[MedicationRecommendation]) -> str:
    """``Choose one: dexamethasone 10 mg IV every 6 h or anakinra 100 mg IV every 6 h``."""
    return "Choose one: " + " or ".join(_short(r) for r in options)


def _short(rec: MedicationRecommendation) -> str:
    if rec.dose is None:
        return rec.drug.display.lower()
    return f"{rec.drug.display.lower()} {num(rec.dose)} mg {rec.route} {recommendations.timing(rec)}"


def choice_head(options: Sequence[MedicationRecommendation]) -> str:
    """``Order at most one.``, with the reasons every option shares (said once, not per option)."""
    shared = shared_reasons(options)
    return "Order at most one" + (": " + "; ".join(reasons.reason(r) for r in shared) if shared else "") + "."


def shared_reasons(options: Sequence[MedicationRecommendation]) -> list[Reason]:
    """The reasons every option of a choice applies for."""
    first, *rest = [[r for r in o.rationale if not isinstance(r, _UNSAID)] for o in options]
    return [r for r in first if all(r in other for other in rest)]


# Reasons an option's line leaves out: the grades are on the assessment card, "another option is recommended"
# is what "(recommended)" on the other option says.
_UNSAID = (AnotherOptionRecommended, CrsNow, IcansNow)

"""ICANS assessments -> NeuroFindings: ICE and CAPD scores, level of consciousness, seizures,
motor weakness and cerebral oedema, from Observations (flowsheet rows) and Conditions.

Which code is which concept, and which charted answer means which value, comes
from the code lists (``neuro.json`` and the site-local codes file). Bad input is
left out with a recorded reason, never graded: a score outside its instrument's
range (``out-of-range``), an answer the map does not know (``unknown-answer``), a
finding without a time (``no-time``). A clinician's charted attribution of a
finding to another cause (an ``icans-attribution`` component, or an attribution
Observation whose ``focus``/``derivedFrom`` names the finding) travels with the
finding, so grading can leave it out and say so.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from clinical.neuro import (
    Attribution,
    CapdScore,
    CerebralOedema,
    Consciousness,
    IceScore,
    MotorWeakness,
    NeuroFinding,
    Seizure,
)

from . import codes as concepts
from .codes import Answer, NeuroCode
from .context import OUT_OF_RANGE, UNKNOWN_ANSWER, MappingContext
from .fhirjson import codings, concept_texts, find_pair, reference_target, text_of
from .fhirtime import parse_datetime
from .units import NO_VALUE, UNREADABLE, read_quantity

# Condition.verificationStatus values that mean the finding is not there.
_NOT_A_FINDING = frozenset({"entered-in-error", "refuted"})
_RESOLVED = frozenset({"resolved", "inactive", "remission"})


def map_neuro_observation(res: dict, source: str, code: NeuroCode, time: datetime, ctx: MappingContext) -> None:
    """One Observation of an ICANS concept (its status, subject and time already checked)."""
    if code.concept == concepts.ATTRIBUTION:
        _attribution_observation(res, source, code, ctx)
        return
    if code.concept in concepts.ICE_ITEMS or code.concept == concepts.SEIZURE_DURATION:
        return  # read as components of the assessment they belong to
    value = _answer(res, code, ctx)
    if type(value) is str and value.startswith("!"):
        ctx.exclude(source, value[1:])
        return
    original = _original(res, code)
    attribution = _own_attribution(res, source, ctx)
    finding = _finding(code.concept, value, res, time, source, original, ctx)
    if isinstance(finding, str):
        ctx.exclude(source, finding)
    else:
        ctx.neuro.append(replace(finding, attribution=attribution) if attribution else finding)


def map_condition(res: dict, source: str, ctx: MappingContext) -> None:
    """A Condition coded as a seizure, a motor deficit or cerebral oedema (the code carries the finding)."""
    hit = find_pair(res.get("code"), ctx.codes.neuro_codes)
    if hit is None:
        return
    code: NeuroCode = hit[0]  # type: ignore[assignment]
    verification = _status_code(res.get("verificationStatus"))
    if verification in _NOT_A_FINDING:
        ctx.exclude(source, verification)
        return
    onset = _condition_time(res)
    if not ctx.admissible(res, source, onset):
        return
    assert onset is not None
    if code.value is None or code.concept not in (concepts.SEIZURE, concepts.MOTOR, concepts.OEDEMA):
        ctx.exclude(source, NO_VALUE)
        return
    original = (concept_texts(res.get("code")) or [code.display or hit[1]])[0]
    finding = _finding(code.concept, code.value, res, onset, source, original, ctx)
    if isinstance(finding, str):
        ctx.exclude(source, finding)
        return
    if isinstance(finding, Seizure):
        abated = parse_datetime(res.get("abatementDateTime"))
        resolved = abated is not None or _status_code(res.get("clinicalStatus")) in _RESOLVED
        minutes = (abated - onset).total_seconds() / 60 if abated is not None and abated >= onset else None
        finding = replace(finding, resolved=resolved or None,
                          duration_minutes=minutes if finding.duration_minutes is None else finding.duration_minutes)
    ctx.neuro.append(finding)


def attach_attributions(ctx: MappingContext) -> list[NeuroFinding]:
    """The findings, each with the attribution an attribution Observation charted for it (if any)."""
    if not ctx.attributions:
        return ctx.neuro
    return [replace(f, attribution=ctx.attributions[f.source])
            if f.attribution is None and f.source in ctx.attributions else f for f in ctx.neuro]


# ------------------------------------------------------------------------------------------ findings

def _finding(concept: str, value: Answer, res: dict, time: datetime, source: str, original: str,
             ctx: MappingContext) -> NeuroFinding | str:
    """The finding for ``value`` of ``concept``, or why it is left out."""
    spec = ctx.codes.neuro_concepts[concept]
    if not spec.allows(value):
        return OUT_OF_RANGE if isinstance(value, int) else UNKNOWN_ANSWER
    if concept == concepts.ICE_SCORE:
        items = _ice_items(res, ctx)
        if isinstance(items, str):
            return items
        if isinstance(value, str):
            return IceScore(None, time, source, original, unarousable=True, items=items)
        return IceScore(value, time, source, original, items=items)
    if concept == concepts.CAPD_SCORE:
        if isinstance(value, str):
            return CapdScore(None, time, source, original, unarousable=True)
        return CapdScore(value, time, source, original)
    if concept == concepts.CONSCIOUSNESS:
        return Consciousness(value, time, source, original)  # type: ignore[arg-type]
    if concept == concepts.SEIZURE:
        return Seizure(value, time, source, original, duration_minutes=_seizure_minutes(res, ctx))  # type: ignore[arg-type]
    if concept == concepts.MOTOR:
        return MotorWeakness(value, time, source, original)  # type: ignore[arg-type]
    return CerebralOedema(value, time, source, original)  # type: ignore[arg-type]


def _ice_items(res: dict, ctx: MappingContext) -> tuple[tuple[Any, int], ...] | str:
    """The ICE items charted as components (orientation 0-4, naming 0-3, the others 0-1)."""
    items: list[tuple[Any, int]] = []
    for code, component in _neuro_components(res, ctx):
        if code.concept in concepts.ICE_ITEMS:
            value = _answer(component, code, ctx)
            if not isinstance(value, int) or not ctx.codes.neuro_concepts[code.concept].allows(value):
                return OUT_OF_RANGE if isinstance(value, int) else UNKNOWN_ANSWER
            items.append((concepts.ICE_ITEMS[code.concept], value))
    return tuple(items)


def _seizure_minutes(res: dict, ctx: MappingContext) -> float | None:
    for code, component in _neuro_components(res, ctx):
        if code.concept == concepts.SEIZURE_DURATION:
            value = read_quantity(component.get("valueQuantity"), ctx.codes.quantities["seizure-duration"],
                                  ctx.codes)
            if not isinstance(value, str):
                return value[0]
    return None


def _own_attribution(res: dict, source: str, ctx: MappingContext) -> Attribution | None:
    """An ``icans-attribution`` component answered "other cause" on the finding itself."""
    for code, component in _neuro_components(res, ctx):
        if code.concept == concepts.ATTRIBUTION and _answer(component, code, ctx) == "other-cause":
            return Attribution(source, _cause(component))
    return None


def _attribution_observation(res: dict, source: str, code: NeuroCode, ctx: MappingContext) -> None:
    """An attribution charted on its own row, naming its finding by ``focus`` or ``derivedFrom``."""
    value = _answer(res, code, ctx)
    if value != "other-cause":
        if type(value) is str and value.startswith("!"):
            ctx.exclude(source, value[1:])
        return
    targets = [ref.get("reference") for key in ("focus", "derivedFrom") if type(res.get(key)) is list
               for ref in res[key] if type(ref) is dict]
    named = [t for t in (reference_target(r) for r in targets) if t is not None and t[0] != "#"]
    if not named:
        ctx.exclude(source, NO_VALUE)
        return
    for kind, rid in named:
        ctx.attributions[f"{kind}/{rid}"] = Attribution(source, _cause(res))


def _cause(element: dict) -> str | None:
    texts = concept_texts(element.get("valueCodeableConcept"))
    return texts[0] if texts else text_of(element.get("valueString"))


# ------------------------------------------------------------------------------------------- values

def _answer(element: dict, code: NeuroCode, ctx: MappingContext) -> Answer:
    """The element's value as the service's value (``"!reason"`` when it cannot be read).

    A score is the integer charted unless the answer map says otherwise; a coded concept needs its
    answer in the map (a coding's code, a string's text, an integer or true/false); with no value at
    all, the code's own meaning (``value``) applies.
    """
    answers = code.answers
    number = _integer(element)
    if number is not None:
        mapped = answers.get(str(number))
        if mapped is not None:
            return mapped
        return number if ctx.codes.neuro_concepts[code.concept].kind == "score" else "!" + UNKNOWN_ANSWER
    if type(element.get("valueBoolean")) is bool:
        mapped = answers.get("true" if element["valueBoolean"] else "false")
        return mapped if mapped is not None else "!" + UNKNOWN_ANSWER
    concept = element.get("valueCodeableConcept")
    if concept is not None:
        for _, value_code, _coding in codings(concept):
            if value_code in answers:
                return answers[value_code]
        return _by_text(concept_texts(concept), answers)
    text = text_of(element.get("valueString"))
    if text is not None:
        if text.lstrip("-").isdigit() and ctx.codes.neuro_concepts[code.concept].kind == "score":
            return answers.get(text, int(text))
        return _by_text([text], answers)
    if element.get("valueQuantity") is not None:
        return "!" + UNREADABLE  # a score that is not a whole number
    if code.value is not None:
        return code.value
    return "!" + ("data-absent" if element.get("dataAbsentReason") is not None else NO_VALUE)


def _by_text(texts: list[str], answers: Any) -> Answer:
    folded = {str(k).casefold(): v for k, v in answers.items()}
    for text in texts:
        if text.casefold() in folded:
            return folded[text.casefold()]  # type: ignore[no-any-return]
    return "!" + UNKNOWN_ANSWER


def _integer(element: dict) -> int | None:
    """valueInteger, or a valueQuantity whose value is a whole number (scores charted as quantities)."""
    value = element.get("valueInteger")
    if type(value) is int:
        return value
    quantity = element.get("valueQuantity")
    if type(quantity) is dict:
        number = quantity.get("value")
        if (type(number) is int or type(number) is float) and float(number).is_integer():
            return int(number)
    return None


def _original(res: dict, code: NeuroCode) -> str:
    """What was charted, as the card shows it: ``ICE score 5``, ``RASS ... -4``, ``Seizure: generalised``."""
    label = (concept_texts(res.get("code")) or [code.display or code.concept])[0]
    number = _integer(res)
    if number is not None:
        return f"{label} {number}"
    if type(res.get("valueBoolean")) is bool:
        return f"{label}: {'yes' if res['valueBoolean'] else 'no'}"
    texts = concept_texts(res.get("valueCodeableConcept"))
    if texts:
        return f"{label}: {texts[0]}"
    for _, value_code, _coding in codings(res.get("valueCodeableConcept")):
        return f"{label}: {value_code}"
    text = text_of(res.get("valueString"))
    return f"{label}: {text}" if text else label


def _neuro_components(res: dict, ctx: MappingContext) -> list[tuple[NeuroCode, dict]]:
    items = res.get("component")
    if type(items) is not list:
        return []
    found = []
    for component in items:
        if type(component) is dict:
            hit = find_pair(component.get("code"), ctx.codes.neuro_codes)
            if hit is not None:
                found.append((hit[0], component))
    return found  # type: ignore[return-value]


def _status_code(concept: object) -> str | None:
    for _, code, _coding in codings(concept):
        return code
    return None


def _condition_time(res: dict) -> datetime | None:
    """onsetDateTime, the start of onsetPeriod, or when it was recorded."""
    onset = parse_datetime(res.get("onsetDateTime"))
    if onset is None and type(res.get("onsetPeriod")) is dict:
        onset = parse_datetime(res["onsetPeriod"].get("start"))
    return onset if onset is not None else parse_datetime(res.get("recordedDate"))


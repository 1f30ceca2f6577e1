"""MedicationAdministration -> DrugAdministration for the drugs in medications.json.

The drug is looked for in three tiers, strongest first, and the first tier
that finds anything decides (``matched_by``):

1. ``code``: an RxNorm ingredient code on ``medicationCodeableConcept`` or on
   the ``code`` of the referenced Medication (contained ``#id``, or
   ``Medication/id`` among the resources);
2. ``ingredient-code``: an RxNorm code of ``Medication.ingredient[].item``
   (a CodeableConcept, or a reference to another Medication);
3. ``name``: an ingredient, synonym or brand name as a whole word in the
   texts and displays of all of the above (product-level SCD/SBD codes carry
   the names, e.g. "Actemra 400 mg/20 mL").

A combination product yields one DrugAdministration per recognised drug.
Administrations of drugs the lists do not know are ignored silently.
"""
from __future__ import annotations

import math
from datetime import datetime

from clinical import DrugAdministration

from .codes import CodeLists, Drug
from .context import MappingContext
from .fhirjson import codings, concept_texts, find_code, find_pair, reference_target, text_of
from .fhirtime import parse_datetime
from .names import normalise
from .units import dose_in_mg

_UNKNOWN_STATUS = "unknown"

Match = tuple[Drug, str, str]  # drug, matched_by, matched_on


def map_administration(res: dict, source: str, ctx: MappingContext) -> None:
    matches, display = identify_drugs(res, ctx)
    if not matches:
        return
    status = res.get("status")
    if type(status) is not str or not status:
        status = _UNKNOWN_STATUS  # a documented dose without a status still happened
    if status in ctx.codes.administration_exclude_status:
        ctx.exclude(source, status)
        return
    start, end = administration_times(res)
    if not ctx.admissible(res, source, start):
        return
    dose_value, dose_unit, dose_mg, route = _dosage(res.get("dosage"), ctx.codes)
    for drug, matched_by, matched_on in matches:
        ctx.administrations.append(DrugAdministration(
            drug=drug.key, drug_class=drug.drug_class, start=start, end=end, status=status, source=source,
            matched_by=matched_by, matched_on=matched_on, display=display or drug.key,
            dose_value=dose_value, dose_unit=dose_unit, dose_mg=dose_mg, route=route, index_class=drug.index_class))


def administration_times(res: dict) -> tuple[datetime | None, datetime | None]:
    """(start, end): a dateTime gives start == end; an open period gives end None.

    R5's ``occurence[x]`` spelling is read as well. A period with only an end
    is taken as a point at that end; an end before the start is clamped to it.
    """
    for point_key, period_key in (("effectiveDateTime", "effectivePeriod"), ("occurenceDateTime", "occurencePeriod")):
        point = res.get(point_key)
        if point is not None:
            moment = parse_datetime(point)
            return moment, moment
        period = res.get(period_key)
        if type(period) is dict:
            start, end = parse_datetime(period.get("start")), parse_datetime(period.get("end"))
            if start is None:
                return end, end
            if end is not None and end < start:
                end = start
            return start, end
    return None, None


def identify_drugs(res: dict, ctx: MappingContext) -> tuple[list[Match], str | None]:
    """The recognised drugs of an administration, and what the EHR called it."""
    codes = ctx.codes
    concept = res.get("medicationCodeableConcept")
    reference = res.get("medicationReference")
    medication = None
    if type(reference) is dict:
        medication = _resolve(reference.get("reference"), res, None, ctx)
    med_code = medication.get("code") if medication is not None else None
    display = _display(concept, med_code, reference)

    matches = _by_code(concept, codes, "code") + _by_code(med_code, codes, "code")
    if matches:
        return _unique(matches), display
    ingredients = _ingredients(medication, res, ctx)
    matches = [m for item in ingredients for m in _by_code(item, codes, "ingredient-code")]
    if matches:
        return _unique(matches), display

    texts = concept_texts(concept) + concept_texts(med_code)
    for item in ingredients:
        texts += concept_texts(item)
    if type(reference) is dict and text_of(reference.get("display")):
        texts.append(reference["display"].strip())
    return _unique(_by_name(texts, codes)), display


def _by_code(concept: object, codes: CodeLists, matched_by: str) -> list[Match]:
    found = []
    for system, code, _ in codings(concept):
        hit = codes.drug_by_code.get(code) if system in codes.rxnorm_systems else None
        hit = hit or codes.local_drugs.get((system, code))
        if hit is not None:
            found.append((hit[0], matched_by, code))
    return found


def _by_name(texts: list[str], codes: CodeLists) -> list[Match]:
    if not texts:
        return []
    text = " ; ".join(texts)
    found = codes.drug_names.find(text)
    if not found:
        return []
    normalised = normalise(text)
    return [(drug, "name", name) for name, drug in found
            if drug.unless is None or not drug.unless.contains_any(normalised)]


def _unique(matches: list[Match]) -> list[Match]:
    seen: set[str] = set()
    unique = []
    for match in matches:
        if match[0].key not in seen:
            seen.add(match[0].key)
            unique.append(match)
    return unique


def _resolve(reference: object, admin: dict, holder: dict | None, ctx: MappingContext) -> dict | None:
    """The Medication a reference points to: contained in ``holder`` or the administration, or a resource."""
    target = reference_target(reference)
    if target is None:
        return None
    kind, rid = target
    if kind == "#":
        for container in (holder, admin):
            found = _contained(container, rid)
            if found is not None:
                return found
        return None
    if kind == "Medication":
        return ctx.medications.get(rid)
    return None


def _contained(container: dict | None, rid: str) -> dict | None:
    if container is None:
        return None
    items = container.get("contained")
    if type(items) is not list:
        return None
    for item in items:
        if type(item) is dict and item.get("id") == rid and item.get("resourceType", "Medication") == "Medication":
            return item
    return None


def _ingredients(medication: dict | None, admin: dict, ctx: MappingContext) -> list[object]:
    """CodeableConcepts of a Medication's ingredients (referenced ones resolved to their code)."""
    if medication is None:
        return []
    items = medication.get("ingredient")
    if type(items) is not list:
        return []
    concepts: list[object] = []
    for item in items:
        if type(item) is not dict:
            continue
        concept = item.get("itemCodeableConcept")
        if concept is None:  # R5 spells it item.concept / item.reference
            nested = item.get("item")
            concept = nested.get("concept") if type(nested) is dict else None
        if concept is not None:
            concepts.append(concept)
            continue
        reference = item.get("itemReference")
        if type(reference) is dict:
            target = _resolve(reference.get("reference"), admin, medication, ctx)
            if target is not None:
                concepts.append(target.get("code"))
            elif text_of(reference.get("display")):
                concepts.append({"text": reference["display"]})
    return concepts


def _display(concept: object, med_code: object, reference: object) -> str | None:
    for candidate in (concept, med_code):
        texts = concept_texts(candidate)
        if texts:
            return texts[0]
    if type(reference) is dict:
        return text_of(reference.get("display"))
    return None


def _dosage(dosage: object, codes: CodeLists) -> tuple[float | None, str | None, float | None, str | None]:
    """(dose value, dose unit as given, dose in mg if a mass, route) from MedicationAdministration.dosage."""
    if type(dosage) is not dict:
        return None, None, None, None
    dose_value = dose_unit = dose_mg = None
    dose = dosage.get("dose")
    if type(dose) is dict:
        value = dose.get("value")
        if (type(value) is int or type(value) is float) and math.isfinite(value):
            dose_value = float(value)
            dose_unit = text_of(dose.get("code")) or text_of(dose.get("unit"))
            dose_mg = dose_in_mg(dose, codes)
    return dose_value, dose_unit, dose_mg, route_of(dosage.get("route"), codes)


def route_of(concept: object, codes: CodeLists) -> str | None:
    hit = find_code(concept, codes.snomed_systems, codes.route_by_code) or find_pair(concept, codes.local_routes)
    if hit is not None:
        return hit[0]
    texts = concept_texts(concept)
    if texts:
        found = codes.route_names.find(" ; ".join(texts))
        if found:
            return found[0][1]
    return None

"""Defensive accessors for FHIR JSON held as plain dicts.

Inputs come from EHRs and are never trusted to match the spec: a field may be
missing, null, or of the wrong JSON type. These helpers check types with
``type(x) is ...`` (cheap, and rejects ``bool`` posing as ``int``) and return
None/empty instead of raising, so one malformed element costs one value, not
the request.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def codings(concept: object) -> Iterator[tuple[str, str, dict]]:
    """(system, code, coding) for each well-formed coding of a CodeableConcept."""
    if type(concept) is not dict:
        return
    items = concept.get("coding")
    if type(items) is not list:
        return
    for coding in items:
        if type(coding) is dict:
            system, code = coding.get("system"), coding.get("code")
            if type(system) is str and type(code) is str:
                yield system, code, coding


def find_code(concept: object, systems: frozenset[str], table: dict) -> tuple[object, str, dict] | None:
    """The first coding whose code is in ``table`` and system in ``systems``: (value, code, coding).

    Written out rather than built on ``codings()``: it runs for every
    Observation and component, and most codes miss the table.
    """
    if type(concept) is not dict:
        return None
    items = concept.get("coding")
    if type(items) is not list:
        return None
    for coding in items:
        if type(coding) is dict:
            code = coding.get("code")
            if type(code) is str:
                value = table.get(code)
                if value is not None:
                    system = coding.get("system")
                    if type(system) is str and system in systems:
                        return value, code, coding
    return None


def find_observation_code(concept: object, index: dict) -> tuple[int, Any, str, dict] | None:
    """(kind, value, code, coding) of what a CodeableConcept names in ``CodeLists.observation_index``:
    the kind of lowest number wins (a LOINC role before a site-local role before an ICANS concept),
    then the first coding, exactly as searching the tables one after another would; but each
    coding is looked up once, on the path every Observation and component takes."""
    if type(concept) is not dict:
        return None
    items = concept.get("coding")
    if type(items) is not list:
        return None
    best: tuple[int, Any, str, dict] | None = None
    for coding in items:
        if type(coding) is not dict:
            continue
        code = coding.get("code")
        if type(code) is not str:
            continue
        candidates = index.get(code)
        if candidates is None:
            continue
        system = coding.get("system")
        for candidate_system, kind, value in candidates:
            if candidate_system == system and (best is None or kind < best[0]):
                best = (kind, value, code, coding)
                if kind == 0:
                    return best
    return best


def find_pair(concept: object, table: dict) -> tuple[object, str, dict] | None:
    """The first coding whose (system, code) is in ``table`` (site-local and ICANS codes): (value, code, coding)."""
    for system, code, coding in codings(concept):
        value = table.get((system, code))
        if value is not None:
            return value, code, coding
    return None


def concept_texts(concept: object) -> list[str]:
    """Human-readable strings of a CodeableConcept: its text, then coding displays."""
    if type(concept) is not dict:
        return []
    texts = []
    text = concept.get("text")
    if type(text) is str and text.strip():
        texts.append(text.strip())
    items = concept.get("coding")
    if type(items) is list:
        for coding in items:
            if type(coding) is dict:
                display = coding.get("display")
                if type(display) is str and display.strip():
                    texts.append(display.strip())
    return texts


def reference_target(reference: object) -> tuple[str, str] | None:
    """("Type", "id") of a literal reference, ignoring base URL and _history.

    "#id" gives ("#", "id") for contained resources; "urn:uuid:..." and other
    forms that name no type give None.
    """
    if type(reference) is not str or not reference:
        return None
    if reference[0] == "#":
        return "#", reference[1:]
    if reference.startswith("urn:"):
        return None
    parts = reference.rstrip("/").split("/")
    if len(parts) >= 4 and parts[-2] == "_history":
        parts = parts[:-2]
    if len(parts) < 2 or not parts[-1] or not parts[-2]:
        return None
    return parts[-2], parts[-1]


def is_other_patient(subject: object, expected_reference: str, patient_id: str) -> bool:
    """True when ``subject`` clearly points at someone other than the patient.

    A missing subject, an identifier-only or display-only reference, a
    contained or urn: reference cannot be checked and is accepted: the
    transport already asked the server for this patient's data.
    """
    if type(subject) is not dict or not patient_id:
        return False
    reference = subject.get("reference")
    if reference == expected_reference:
        return False
    target = reference_target(reference)
    if target is None or target[0] == "#":
        return False
    return target != ("Patient", patient_id)


def text_of(value: object) -> str | None:
    """A non-blank string, stripped, else None."""
    if type(value) is str:
        value = value.strip()
        return value or None
    return None

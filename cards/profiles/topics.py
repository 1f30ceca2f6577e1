"""Stable, alphanumeric topic codes: what Epic remembers a clinician's override against.

Epic accepts only letters and digits in ``source.topic.code`` (at most 100) and associates an
acknowledgement with it, so that the same card is not shown again to someone who overrode it.
The code must therefore stay the same for the same card content — the same card kind and grades,
from the same protocol version — and change when the content changes: ``CrsAssessmentC3I2`` plus
a digest of the protocol id, version and (for a choice of orders) the group.
"""
from __future__ import annotations

import hashlib
import re

from clinical import Assessment, IcansAssessment

from ..card import Card
from .subjects import CardSubjects, alternatives_group

TOPIC_LIMIT = 100
_WORD = re.compile(r"[A-Za-z0-9]+")


def grading_part(letter: str, grading: Assessment | IcansAssessment) -> str:
    """``C3``, ``C2L`` (a lower bound), ``CN`` (not graded), ``CX`` (cannot be assessed); ICANS with ``I``."""
    if grading.status == "graded" and grading.grade is not None:
        return f"{letter}{grading.grade}" + ("L" if grading.lower_bound else "")
    return {"not-graded": f"{letter}N", "insufficient-data": f"{letter}X"}.get(grading.status, "")


def content_key(card: Card, subjects: CardSubjects) -> tuple[str, str]:
    """(the grades the card's content depends on, anything else that tells its content apart)."""
    a = subjects.assessment
    if card.kind == "crs-assessment" and a is not None:
        grades = grading_part("C", a)
        if a.icans is not None and a.icans.status != "not-eligible":
            grades += grading_part("I", a.icans)
        prompts = "oxygen-check" if any(r.oxygen_check is not None for r in subjects.sections) else ""
        return grades, prompts
    group = alternatives_group(card.body)
    if group is not None:
        section = subjects.section_of(group)
        grade = section.grade if section is not None else None
        return (f"G{grade}" if grade is not None else "", f"{group}|{section.syndrome if section else ''}")
    return (f"G{card.grade}" if card.grade is not None else "", "")


def topic_code(card: Card, subjects: CardSubjects) -> str:
    """``CrsAssessmentC3I2P0f4c2a9e17`` — readable head, digest of protocol id, version and content."""
    grades, other = content_key(card, subjects)
    head = "".join(w.capitalize() for w in _WORD.findall(card.kind)) + grades
    digest = hashlib.sha256(f"{card.protocol}|{subjects.protocol_version}|{card.kind}|{grades}|{other}"
                            .encode()).hexdigest()[:12]
    return (head[:TOPIC_LIMIT - 13] + "P" + digest)[:TOPIC_LIMIT]

"""Cards for a narrow sidebar (Oracle Health): no tables, critical only where it must pop up, plain links.

Oracle Health shows non-critical cards in a sidebar about an eighth of the screen wide, wrapping
the text, and pops critical ones up. A markdown table is unreadable there, so each evidence table
becomes short bullet lines worded from the same typed evidence (``wording.ehr.evidence_lines``);
``critical`` is kept for grade 3 and above; ``appContext`` on links is not supported and is
dropped.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from clinical import Evidence

from ..card import Card
from ..wording import ehr
from .clients import ClientProfile
from .subjects import CardSubjects, alternatives_group


def evidence_groups(card: Card, subjects: CardSubjects) -> tuple[list[Sequence[Evidence]], datetime | None]:
    """The evidence of each table the generic card has, in order, and the time it was graded at."""
    a = subjects.assessment
    if card.kind == "crs-assessment" and a is not None:
        groups: list[Sequence[Evidence]] = [a.evidence] if a.evidence else []
        if a.icans is not None and a.icans.status != "not-eligible" and a.icans.evidence:
            groups.append(a.icans.evidence)
        return groups, a.now
    finding = subjects.finding(card.body)
    now = a.now if a is not None else None
    return ([finding.evidence] if finding is not None and finding.evidence else []), now


def without_tables(detail: str, groups: list[Sequence[Evidence]], now: datetime | None) -> str:
    """Each table paragraph replaced by the bullet lines of its evidence group (all of them in the first
    table's place, should the two not pair up: nothing is lost)."""
    paragraphs = detail.split("\n\n")
    tables = [i for i, p in enumerate(paragraphs) if p.strip() and all(line.startswith("|") for line in
                                                                         p.strip().splitlines())]
    if not tables:
        return detail
    if len(tables) != len(groups):
        groups = [[e for g in groups for e in g]]
    for n, i in enumerate(tables):
        paragraphs[i] = ehr.evidence_lines(groups[n], now) if n < len(groups) and now is not None else ""
    return "\n\n".join(p for p in paragraphs if p)


def severity(card: Card, subjects: CardSubjects) -> int:
    """The grade a card is about: the worse of CRS and ICANS on the assessment card."""
    a = subjects.assessment
    if card.kind == "crs-assessment" and a is not None:
        grades = [a.grade if a.has_crs else None, a.icans.grade if a.icans is not None and a.has_icans else None]
        return max((g for g in grades if g is not None), default=0)
    group = alternatives_group(card.body)
    section = subjects.section_of(group) if group is not None else None
    grade = section.grade if section is not None else card.grade
    return grade or 0


def narrow(card: Card, profile: ClientProfile, subjects: CardSubjects) -> None:
    """Shape ``card`` for a sidebar client."""
    body: dict[str, Any] = card.body
    if not profile.markdown_tables and isinstance(body.get("detail"), str):
        groups, now = evidence_groups(card, subjects)
        body["detail"] = without_tables(body["detail"], groups, now)
    if profile.critical_from_grade is not None and body.get("indicator") == "critical" \
            and severity(card, subjects) < profile.critical_from_grade:
        body["indicator"] = "warning"
    if not profile.link_app_context:
        for link in body.get("links", ()):
            link.pop("appContext", None)

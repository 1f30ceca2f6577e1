"""What the feedback store keeps about each card a service issues (no Flask).

Only what joins feedback to a card and groups the report: the card uuid, the
service, the card kind, the grade and the protocol. Never a patient
identifier, a summary or a detail (they may name the patient).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from .feedback_store import IssuedCard

# Card extensions that carry grade and protocol, most specific first.
_EXTENSIONS = ("crs-cds.order-check", "crs-cds.assessment", "crs-cds.alternatives")


def issued_cards(service_id: str, cards: Iterable[Any], now: datetime) -> list[IssuedCard]:
    """One ``IssuedCard`` per card with a uuid; the kind is the explicit one, else ``source.topic.code``."""
    out: list[IssuedCard] = []
    for card in cards:
        if not isinstance(card, dict) or not isinstance(card.get("uuid"), str):
            continue
        extension = card.get("extension") if isinstance(card.get("extension"), dict) else {}
        facts = next((extension[k] for k in _EXTENSIONS if isinstance(extension.get(k), dict)), {})
        grade = facts.get("grade")
        protocol = facts.get("protocol")
        out.append(IssuedCard(card_uuid=card["uuid"], service_id=service_id, card_kind=_kind(card, facts),
                              grade=grade if isinstance(grade, int) and not isinstance(grade, bool) else None,
                              protocol=protocol if isinstance(protocol, str) else None, issued_at=now))
    return out


def _kind(card: dict[str, Any], facts: dict[str, Any]) -> str:
    if isinstance(facts.get("kind"), str):
        return facts["kind"]
    source = card.get("source") if isinstance(card.get("source"), dict) else {}
    topic = source.get("topic") if isinstance(source.get("topic"), dict) else {}
    code = topic.get("code")
    return code if isinstance(code, str) and code else "unknown"

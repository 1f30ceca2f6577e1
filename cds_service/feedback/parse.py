"""CDS Hooks feedback: validate the body and turn it into store rows (no Flask).

Two shapes are accepted per item. The spec's: ``overrideReason`` ``{reason: Coding, userComment}``.
Epic's: ``overrideReasons`` (an object, not a list) holding either ``reason`` (a Coding the service
sent, mapped by the site to an Epic acknowledgement reason) or the reason built in Epic as the
extensions ``com.epic.cdshooks.feedback.overrideReason.reasonCategory``, ``...reasonDisplay`` and
``...reasonTitle``. Both keep the reason; the free-text ``userComment`` is never kept (it may name
the patient). An item in neither shape is a 400 naming the field, and nothing of the body is stored.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..instants import parse_instant
from ..schemas import Problem, schema_problems
from .store import Feedback

EPIC_REASON = "com.epic.cdshooks.feedback.overrideReason."
EPIC_REASON_FIELDS = ("reasonCategory", "reasonDisplay", "reasonTitle")


class InvalidFeedback(ValueError):
    """The feedback body is not CDS Hooks feedback; ``problems`` names each bad field."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.path}: {p.problem}" for p in problems))
        self.problems = problems


def parse_feedback(body: Any) -> list[Feedback]:
    """The feedback items of a valid body; ``InvalidFeedback`` naming each bad field otherwise."""
    problems = schema_problems("feedback", body)
    items: list[Feedback] = []
    if not problems:
        for i, item in enumerate(body["feedback"]):
            when = _instant(item["outcomeTimestamp"])
            if when is None:
                problems.append(Problem(f"feedback[{i}].outcomeTimestamp", "is not a valid date-time"))
                continue
            reason = _reason(item, f"feedback[{i}]", problems)
            items.append(Feedback(
                card_uuid=item["card"], outcome=item["outcome"], outcome_at=when,
                accepted_suggestions=tuple(s["id"] for s in item.get("acceptedSuggestions") or ()), **reason))
    if problems:
        raise InvalidFeedback(problems)
    return items


def _reason(item: Mapping[str, Any], where: str, problems: list[Problem]) -> dict[str, str | None]:
    """The override reason of an item in the spec's shape or Epic's, as the store's fields."""
    if "overrideReason" in item and "overrideReasons" in item:
        problems.append(Problem(where, "has both overrideReason (CDS Hooks) and overrideReasons (Epic): send one"))
        return {}
    held = item.get("overrideReasons")
    if held is None:
        coding = (item.get("overrideReason") or {}).get("reason") or {}
        return _coded(coding)
    if "reason" in held:
        return _coded(held["reason"])
    extension = _extensions(held.get("extension"))
    fields = {name: extension.get(EPIC_REASON + name) for name in EPIC_REASON_FIELDS}
    if not any(v is not None for v in fields.values()):
        if "extension" in held or "userComment" not in held:
            problems.append(Problem(f"{where}.overrideReasons", "holds neither a reason (a Coding) nor Epic's "
                                                                f"{EPIC_REASON}* extensions"))
        return {}
    return {"override_category": _text(fields["reasonCategory"]), "override_display": _text(fields["reasonDisplay"]),
            "override_title": _text(fields["reasonTitle"])}


def _extensions(value: object) -> Mapping[str, Any]:
    """Epic's extension object, or a FHIR-style list of ``{url, value[x]}`` read as one."""
    if isinstance(value, list):
        return {e["url"]: next((v for k, v in e.items() if k.startswith("value")), None) for e in value}
    return value if isinstance(value, Mapping) else {}


def _coded(coding: Mapping[str, Any]) -> dict[str, str | None]:
    return {"override_system": coding.get("system"), "override_code": coding.get("code"),
            "override_display": coding.get("display")}


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _instant(text: str) -> datetime | None:
    try:
        return parse_instant(text)
    except ValueError:
        return None

"""CDS Hooks feedback: validate the body and turn it into store rows (no Flask)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from ..instants import parse_instant
from ..schemas import Problem, schema_problems
from .store import Feedback


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
            reason = (item.get("overrideReason") or {}).get("reason") or {}
            items.append(Feedback(
                card_uuid=item["card"], outcome=item["outcome"], outcome_at=when,
                accepted_suggestions=tuple(s["id"] for s in item.get("acceptedSuggestions") or ()),
                override_system=reason.get("system"), override_code=reason.get("code"),
                override_display=reason.get("display")))
    if problems:
        raise InvalidFeedback(problems)
    return items


def _instant(text: str) -> datetime | None:
    try:
        return parse_instant(text)
    except ValueError:
        return None

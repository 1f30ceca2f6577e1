"""CDS Hooks feedback: validate the body and turn it into store rows (no Flask)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from .errors import Problem, invalid_request
from .feedback_store import Feedback
from .instants import parse_instant
from .validation import feedback_problems


def parse_feedback(body: Any) -> list[Feedback]:
    """The feedback items of a valid body; ``ApiError`` 400 naming each bad field otherwise."""
    problems = feedback_problems(body)
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
        raise invalid_request(problems)
    return items


def _instant(text: str) -> datetime | None:
    try:
        return parse_instant(text)
    except ValueError:
        return None

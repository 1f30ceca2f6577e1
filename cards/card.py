"""A card ready to send, with what the feedback store needs to know about it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# CDS Hooks: a card's summary is "<140 characters"; every card kind keeps to it.
SUMMARY_LIMIT = 140


@dataclass(frozen=True, slots=True)
class Card:
    """One CDS Hooks card: its JSON ``body`` and, as typed values, what it is about.

    The service layer records ``kind``, ``grade`` and ``protocol`` for the feedback
    report (never patient data) and the HTTP layer serialises ``body`` once; nothing
    reads them back out of the JSON.
    """

    body: dict[str, Any]
    kind: str  # e.g. "crs-assessment", "crs-protocol-options", "tocilizumab-limit"
    grade: int | None = None
    protocol: str | None = None

    @property
    def uuid(self) -> str:
        return str(self.body["uuid"])

"""What a composer is given and what the service layer answers with."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cards import Card
from cards.profiles import ClientShaping
from clinical import Assessment
from fhir_mappings import PatientShare


@dataclass(frozen=True, slots=True)
class HookCall:
    """One validated, data-complete call: the hook context, the resources gathered, ``now``, and how its
    cards are finished for the client that called (its profile and the site's orderables)."""

    context: Mapping[str, Any]
    resources: Sequence[dict[str, Any]]
    now: datetime
    unavailable: Sequence[str] = field(default=())
    timeline_url: str | None = None  # the SMART launch URL of the timeline page (None: no link on the card)
    shaping: ClientShaping = field(default_factory=ClientShaping)


@dataclass(frozen=True, slots=True)
class HookResult:
    """The cards of one call, complete: serialised once by the HTTP layer."""

    cards: tuple[Card, ...]
    resources: int  # how many FHIR resources were read (for the request log)
    share: PatientShare | None = None  # how many of them are the context patient's (for the request log)
    silent: Assessment | None = None  # silent mode: what was graded and recorded instead of cards

    @property
    def mismatch(self) -> str | None:
        """"0 of 57 resources for this patient" when none of the patient data is the context patient's."""
        if self.share is None or not self.share.mismatch:
            return None
        return f"{self.share.for_patient} of {self.share.scoped} resources for this patient"

    def body(self) -> dict[str, Any]:
        """The CDS Hooks response."""
        return {"cards": [card.body for card in self.cards]}

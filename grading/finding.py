"""What each rule (fever, hypotension, hypoxia) hands back to the grade assembly."""
from __future__ import annotations

from dataclasses import dataclass, field

from clinical import Evidence
from clinical.findings import Driver, MissingInput, Note


@dataclass(slots=True)
class Finding:
    """One component of the ASTCT grade at one time.

    ``tier`` is the component's grade contribution (hypotension/hypoxia: 0, 2,
    3, 4; fever: 0 or 1) or None when it cannot be assessed, in which case
    ``missing`` says why. ``driver`` is set when ``tier`` > 0.
    """

    tier: int | None
    driver: Driver | None = None
    evidence: list[Evidence] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    missing: list[MissingInput] = field(default_factory=list)

"""The result of grading: what a card shows and what protocols act on."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from .evidence import Evidence
from .findings import Driver, Missing, Note
from .snapshot import DrugAdministration

Status = Literal["graded", "not-graded", "insufficient-data", "not-eligible"]

@dataclass(frozen=True, slots=True)
class Assessment:
    """ASTCT CRS assessment at ``now``.

    ``grade`` is the current grade (drives recommendations); ``worst_grade``
    is the highest since onset (documentation). When inputs are missing the
    grade is a lower bound: ``lower_bound`` is True and ``missing`` says what
    could not be assessed. ``status``:

    - ``graded``: a CRS grade (0-4) was computed; 0 means fever-free, no signs.
    - ``not-graded``: hypotension/hypoxia without documented fever (no onset).
    - ``insufficient-data``: eligible, but nothing gradable (e.g. no
      temperature in the fever window and no other sign).
    - ``not-eligible``: no index therapy in the eligibility window.
    """

    status: Status
    now: datetime
    grade: int | None = None
    worst_grade: int | None = None
    lower_bound: bool = False
    hypotension_grade: int | None = None  # 0, 2, 3, 4 (None = cannot assess)
    hypoxia_grade: int | None = None  # 0, 2, 3, 4 (None = cannot assess)
    fever_present: bool = False  # fever within the fever window
    masked: bool = False  # masking rule applied (anticytokine/antipyretic after onset)
    onset: datetime | None = None
    fever_threshold_c: float | None = None  # the threshold onset was judged by (the grading data's)
    index_therapy: DrugAdministration | None = None
    drivers: tuple[Driver, ...] = ()  # main driver first, e.g. a VasopressorDriver, then the fever
    evidence: tuple[Evidence, ...] = ()
    missing: tuple[Missing, ...] = ()  # e.g. MissingInput("hypoxia", "no-spo2-or-support", 12)
    notes: tuple[Note, ...] = field(default=())  # e.g. InotropeNotCounted("dobutamine", True, 12)
    system: str = "ASTCT-2019"

    @property
    def has_crs(self) -> bool:
        return self.status == "graded" and (self.grade or 0) >= 1

"""The result of grading: what a card shows and what protocols act on."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from .evidence import Evidence
from .findings import Driver, IcansDriver, Missing, Note
from .snapshot import DrugAdministration, IndexClass

Status = Literal["graded", "not-graded", "insufficient-data", "not-eligible"]


@dataclass(frozen=True, slots=True)
class IcansAssessment:
    """ASTCT ICANS assessment at ``now``: the grade is the most severe domain in the window.

    ``status``: ``graded`` (0-4), ``insufficient-data`` (nothing charted in the window; ``missing``
    names what) or ``not-eligible``. Missing domains make the grade a lower bound (``lower_bound``).
    ``worst_grade`` is the highest since the index therapy; ``onset`` the first finding of grade >= 1.
    ``paediatric``: graded with the CAPD score instead of the ICE score.
    """

    status: Status
    now: datetime
    grade: int | None = None
    worst_grade: int | None = None
    lower_bound: bool = False
    onset: datetime | None = None
    paediatric: bool = False
    drivers: tuple[IcansDriver, ...] = ()  # the most severe domain first
    evidence: tuple[Evidence, ...] = ()
    missing: tuple[Missing, ...] = ()
    notes: tuple[Note, ...] = ()
    system: str = "ASTCT-2019"

    @property
    def has_icans(self) -> bool:
        return self.status == "graded" and (self.grade or 0) >= 1

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
    icans: IcansAssessment | None = None  # ICANS graded at the same time (None: not assessed)
    latest_index_therapy: DrugAdministration | None = None  # the most recent index therapy in the window

    @property
    def has_crs(self) -> bool:
        return self.status == "graded" and (self.grade or 0) >= 1

    @property
    def has_icans(self) -> bool:
        return self.icans is not None and self.icans.has_icans

    @property
    def index_class(self) -> IndexClass | None:
        """CAR-T cells or a T-cell engager: the class of the most recent index therapy in the window."""
        latest = self.latest_index_therapy or self.index_therapy
        return latest.index_class if latest is not None else None

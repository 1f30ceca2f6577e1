"""Doses already given, and whether the protocol's repeat limits allow another now.

Counted: MedicationAdministrations of the drug that are ``completed`` or
``in-progress`` (an infusion running counts from its start) and, for repeat
limits where the protocol says so (``countStoppedDoses``, the safe reading of a
partly given dose), ``stopped``; plus doses the caller passes as pending (the
orders being signed on order-sign), so a second order in the same signing
session cannot slip past the limits.

Windows: "max N in 24 h" counts doses with ``time >= now - 24 h`` (a dose
exactly 24 h old still counts); "max N in total" counts doses since the index
therapy started. When the next dose is not allowed yet, ``next_allowed`` is the
later of ``last dose + minimum interval`` and the moment the oldest dose that
must leave the 24-h window reaches 24 h of age (``oldest + 24 h``).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from clinical import ClinicalSnapshot, DrugAdministration

from .model import RepeatLimits

COUNTED_STATUSES = frozenset({"completed", "in-progress"})
STOPPED = "stopped"
WINDOW = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class PendingDose:
    """A dose not yet recorded as given: an order being signed."""

    drug: str
    time: datetime
    source: str = "pending order"
    dose_mg: float | None = None
    drug_class: str | None = None


@dataclass(frozen=True, slots=True)
class GivenDose:
    drug: str
    drug_class: str | None
    time: datetime
    source: str
    dose_mg: float | None = None
    pending: bool = False
    stopped: bool = False  # a "stopped" administration, counted as given


@dataclass(frozen=True, slots=True)
class TotalLimitReached:
    """``given`` doses counted against a total of ``maximum`` (since the index therapy when its start
    is known, else every recorded dose)."""

    given: int
    maximum: int
    index_known: bool


@dataclass(frozen=True, slots=True)
class IntervalNotElapsed:
    """The last dose was less than the minimum interval ago."""

    last: datetime
    min_interval_hours: Decimal


@dataclass(frozen=True, slots=True)
class DailyLimitReached:
    """``given`` doses in the last 24 h against a maximum; ``leaving`` is the dose that must leave the
    window (at ``leaves_at``) before another is allowed."""

    given: int
    maximum: int
    leaving: datetime
    leaves_at: datetime


RepeatReason = TotalLimitReached | IntervalNotElapsed | DailyLimitReached


@dataclass(frozen=True, slots=True)
class RepeatCheck:
    """The verdict on one more dose now, with the limits it broke and the doses that decided it."""

    allowed: bool
    exhausted: bool = False  # the total limit is reached: no further dose at all
    next_allowed: datetime | None = None
    reasons: tuple[RepeatReason, ...] = ()
    last: GivenDose | None = None
    in_24h: tuple[GivenDose, ...] = ()
    since_index: tuple[GivenDose, ...] = ()


def given_doses(snapshot: ClinicalSnapshot, pending: Iterable[PendingDose | DrugAdministration] = (), *,
                drug: str | None = None, drug_class: str | None = None,
                since: datetime | None = None, include_stopped: bool = False) -> tuple[GivenDose, ...]:
    """Counted doses of a drug (or of a drug class), oldest first, optionally since a time; ``include_stopped``
    counts stopped administrations too (repeat limits)."""
    found: list[GivenDose] = []
    for a in snapshot.administrations:
        if a.status in COUNTED_STATUSES or (include_stopped and a.status == STOPPED):
            found.append(GivenDose(a.drug, a.drug_class, a.start, a.source, a.dose_mg, stopped=a.status == STOPPED))
    for p in pending:
        if isinstance(p, DrugAdministration):
            found.append(GivenDose(p.drug, p.drug_class, p.start, p.source, p.dose_mg, pending=True))
        else:
            found.append(GivenDose(p.drug, p.drug_class, p.time, p.source, p.dose_mg, pending=True))
    return tuple(sorted(
        (d for d in found
         if (drug is None or d.drug == drug) and (drug_class is None or d.drug_class == drug_class)
         and (since is None or d.time >= since)),
        key=lambda d: d.time))


def check_repeat(doses: tuple[GivenDose, ...], limits: RepeatLimits, now: datetime,
                 index_start: datetime | None) -> RepeatCheck:
    """Whether one more dose is allowed at ``now`` under ``limits``.

    ``doses`` are all counted doses of the drug (see :func:`given_doses`);
    ``index_start`` is when the index therapy started (None: every dose counts
    towards the total, which errs on the side of fewer doses).
    """
    last = doses[-1] if doses else None
    in_24h = tuple(d for d in doses if d.time >= now - WINDOW)
    since_index = tuple(d for d in doses if index_start is None or d.time >= index_start)
    reasons: list[RepeatReason] = []

    total_max = limits.max_doses_since_index_therapy
    if total_max is not None and len(since_index) >= total_max:
        reasons.append(TotalLimitReached(len(since_index), total_max, index_start is not None))
        return RepeatCheck(False, True, None, tuple(reasons), last, in_24h, since_index)

    waits: list[datetime] = []
    if limits.min_interval_hours is not None and last is not None:
        earliest = last.time + timedelta(hours=float(limits.min_interval_hours))
        if now < earliest:
            reasons.append(IntervalNotElapsed(last.time, limits.min_interval_hours))
            waits.append(earliest)
    per_day = limits.max_doses_per_24h
    if per_day is not None and len(in_24h) >= per_day:
        # The dose that must leave the window so that fewer than ``per_day`` remain.
        leaving = in_24h[len(in_24h) - per_day]
        reasons.append(DailyLimitReached(len(in_24h), per_day, leaving.time, leaving.time + WINDOW))
        waits.append(leaving.time + WINDOW)
    if waits:
        return RepeatCheck(False, False, max(waits), tuple(reasons), last, in_24h, since_index)
    return RepeatCheck(True, False, None, (), last, in_24h, since_index)

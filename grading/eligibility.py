"""Eligibility: CRS is assessed only after an index therapy (CAR-T, T-cell engager).

Decisions:
- An index therapy counts when its effective period overlaps the eligibility
  window ``[now - 30 days, now]``: a single infusion 29 days ago counts, 31
  days ago does not, and a continuous infusion (blinatumomab) started earlier
  but still running counts. Administrations after ``now`` never count.
- With several index-therapy administrations in the window (step-up doses,
  repeated bags) the *earliest* one starts the episode: onset is searched
  from it, so a fever after the first dose is not lost.
- With eligibility switched off (a unit that scopes the hook itself) and no
  index therapy in the window, the episode starts at the beginning of the
  eligibility window: onset is the first fever in the last 30 days.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from clinical import Administered, DrugAdministration, Evidence
from clinical.findings import Eligibility as EligibilityNote

from .config import GradingConfig
from .windows import period_of

INDEX_CLASS = "index-therapy"


@dataclass(frozen=True, slots=True)
class Eligibility:
    eligible: bool
    episode_start: datetime  # onset is searched from here
    index_therapy: DrugAdministration | None = None  # earliest index therapy in the window
    latest_index_therapy: DrugAdministration | None = None
    notes: tuple[EligibilityNote, ...] = field(default=())


def assess_eligibility(admins: list[DrugAdministration], now: datetime, config: GradingConfig) -> Eligibility:
    window_start = now - timedelta(days=config.eligibility_window_days)
    in_window = sorted((a for a in admins if a.drug_class == INDEX_CLASS
                        and (p := period_of(a, now)) is not None and p.overlaps(window_start, now)),
                       key=lambda a: a.start)
    if in_window:
        return Eligibility(True, in_window[0].start, in_window[0], in_window[-1])
    reason: Literal["no-index-therapy", "switched-off"] = (
        "no-index-therapy" if config.eligibility_required else "switched-off")
    return Eligibility(False, window_start, notes=(EligibilityNote(reason, config.eligibility_window_days),))


def day_number(admin: DrugAdministration, now: datetime) -> int:
    """Days since the index therapy (infusion day = day 0)."""
    return (now - admin.start) // timedelta(days=1)


def index_evidence(elig: Eligibility, now: datetime) -> list[Evidence]:
    return [Evidence("index-therapy", admin.drug, Administered(admin, "index-therapy", day=day_number(admin, now)),
                     admin.start, admin.source)
            for admin in dict.fromkeys(a for a in (elig.index_therapy, elig.latest_index_therapy) if a is not None)]

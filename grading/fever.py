"""Fever, CRS onset and masking.

- Fever is a temperature ≥ the threshold (38.0 °C; 38.0 exactly is fever, as
  ASTCT says "≥ 38.0").
- Onset is the first fever at or after the start of the episode (the index
  therapy; see ``eligibility.episode_start``). Fevers before the index therapy
  are not CRS and never count.
- Masking: once CRS has started, antipyretics and anticytokine therapy
  (classes in the config: antipyretic, anti-IL-6, IL-1 antagonist,
  corticosteroid) can suppress fever, so ASTCT no longer requires it. Only
  drugs given at or after onset mask; a drug given before onset does not.
"""
from __future__ import annotations

from datetime import datetime

from clinical import Administered, DrugAdministration, Evidence, EvidenceRole, Temperature, TemperatureReading
from clinical.findings import FeverBeforeIndexTherapy, FeverDriver, MissingInput, StaleTemperature

from .config import GradingConfig
from .finding import Finding
from .windows import NOT_GIVEN, TimeIndexed, window


def is_fever(t: Temperature, config: GradingConfig) -> bool:
    return t.celsius >= config.fever_threshold_c


def find_onset(fevers: TimeIndexed[Temperature], episode_start: datetime) -> Temperature | None:
    """The first fever at or after ``episode_start`` (None: no documented fever).

    ``fevers`` holds only the temperatures at or above the threshold (sorted once per record, so
    that grading at many instants does not scan the afebrile days before onset each time)."""
    return fevers.first_from(episode_start)


def _evidence(t: Temperature, config: GradingConfig, episode_start: datetime,
              reading: TemperatureReading | None = None) -> Evidence:
    role: EvidenceRole = "fever" if is_fever(t, config) and t.time >= episode_start else "context"
    return Evidence(role, "temperature", reading or TemperatureReading(t), t.time, t.source)


def onset_evidence(onset: Temperature) -> Evidence:
    return Evidence("fever", "temperature", TemperatureReading(onset, "onset"), onset.time, onset.source)


def assess_fever(temps: TimeIndexed[Temperature], episode_start: datetime, now: datetime,
                 config: GradingConfig) -> Finding:
    """Fever in the fever window (tier 1) or not (0), or cannot assess (None)."""
    start, end = window(now, config.fever_window_hours)
    recent = temps.between(start, end)
    if not recent:
        finding = Finding(tier=None, missing=[MissingInput("fever", "no-temperature", config.fever_window_hours)])
        last = temps.latest_at(now)
        if last is not None:
            finding.notes.append(StaleTemperature(last))
        return finding
    counted = [t for t in recent if t.time >= episode_start]
    fevers = [t for t in counted if is_fever(t, config)]
    finding = Finding(tier=1 if fevers else 0)
    before = [t for t in recent if t.time < episode_start and is_fever(t, config)]
    if before:
        finding.notes.append(FeverBeforeIndexTherapy(before[-1]))
    latest = recent[-1]
    highest = max(fevers, key=lambda t: (t.celsius, t.time)) if fevers else None
    if highest is not None:
        finding.driver = FeverDriver(highest)
        mark = TemperatureReading(highest, "highest", config.fever_window_hours) if highest is not latest else None
        finding.evidence.append(_evidence(highest, config, episode_start, mark))
    if latest is not highest:
        finding.evidence.append(_evidence(latest, config, episode_start, TemperatureReading(latest, "latest")))
    return finding


def masking_administrations(admins: list[DrugAdministration], onset: datetime | None, now: datetime,
                            config: GradingConfig) -> list[DrugAdministration]:
    """Antipyretic/anticytokine administrations given at or after onset, up to ``now``."""
    if onset is None:
        return []
    return sorted((a for a in admins
                   if a.drug_class in config.masking_drug_classes and a.status not in NOT_GIVEN
                   and onset <= a.start <= now), key=lambda a: a.start)


def masking_evidence(masking: list[DrugAdministration]) -> list[Evidence]:
    """One line per drug: its most recent administration since onset."""
    latest: dict[str, DrugAdministration] = {}
    for admin in masking:
        latest[admin.drug] = admin
    return [Evidence("masking", a.drug, Administered(a, "after-onset"), a.start, a.source)
            for a in sorted(latest.values(), key=lambda a: a.start)]

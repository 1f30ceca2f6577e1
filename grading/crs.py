"""ASTCT CRS grade: puts fever, hypotension and hypoxia together into an Assessment.

Grade = the more severe of the hypotension and hypoxia tiers when they count
towards CRS, 1 for fever alone. They count when there was fever in the last
24 h, or when fever may be masked (CRS onset exists and an antipyretic or
anticytokine was given after it). Decisions beyond the reference:

- Onset exists, fever has gone, no masking drug, but hypotension/hypoxia now:
  "not-graded" (like no fever ever) with a note, never a silent grade 0.
- Onset exists, no temperature at all in the fever window and no masking
  drug since onset: fever is unknown, not absent, and ASTCT counts
  hypotension/hypoxia only with fever or when fever may be masked, so the CRS
  grade cannot be established: "insufficient-data", the missing temperature
  named, the signs still shown as drivers (a vasopressor is never hidden),
  never "grade >= 3" read off the signs alone (clinical review, 2026).
- Masking with no current fever and no sign: grade 0 ("CRS resolved or
  masked"), ``masked`` True.
- Any missing input makes the grade a lower bound, except grade 4 (nothing is
  higher).
- Not eligible: status "not-eligible"; what could not be obtained is still
  listed in ``missing`` because an index therapy may be among it.
- Organ toxicities (creatinine, transaminases) are never read.
"""
from __future__ import annotations

from datetime import datetime

from clinical import Assessment, ClinicalSnapshot, Evidence, unique_evidence
from clinical.findings import (
    Driver,
    Eligibility,
    LowerBound,
    Masked,
    Missing,
    Note,
    NoTemperatureAfterOnset,
    NotGraded,
    Unavailable,
)

from .config import GradingConfig
from .eligibility import assess_eligibility, index_evidence
from .fever import assess_fever, find_onset, masking_administrations, masking_evidence, onset_evidence
from .finding import Finding
from .hypotension import (
    assess_hypotension,
    inotrope_periods,
    not_an_infusion,
    overlaps,
    threshold_for,
    vasopressor_periods,
)
from .hypoxia import assess_hypoxia
from .indexed import IndexedSnapshot
from .timeline import worst_grade_since


def grade_crs(snapshot: ClinicalSnapshot, now: datetime, config: GradingConfig) -> Assessment:
    """Grade CRS (ASTCT 2019) for ``snapshot`` as of ``now``. Pure: no I/O, no clock."""
    return assess_at(IndexedSnapshot.of(snapshot, config), now, config)


def assess_at(record: IndexedSnapshot, now: datetime, config: GradingConfig, *,
              worst_grade: bool = True) -> Assessment:
    """``grade_crs`` on a snapshot already sorted by time: the one implementation of the grade, which
    the grade series (``series.py``) evaluates at each observation time. ``worst_grade`` False skips the
    scan since onset, which nothing in the series reads (the assessment then has no worst grade)."""
    snapshot = record.snapshot
    admins = list(snapshot.administrations)
    elig = assess_eligibility(admins, now, config)
    unavailable = tuple(Unavailable(u) for u in snapshot.unavailable)
    if config.eligibility_required and not elig.eligible:
        notes: list[Note] = list(elig.notes)
        if snapshot.unavailable:
            notes.append(Eligibility("may-be-missed"))
        return Assessment(status="not-eligible", now=now, fever_threshold_c=config.fever_threshold_c,
                          missing=unavailable, notes=tuple(notes), system=config.system)

    temps = record.temperatures.upto(now)
    bps = record.blood_pressures.upto(now)
    oxygen = record.oxygen.upto(now)
    spo2 = record.spo2.upto(now)
    threshold, age_note = threshold_for(snapshot.age_years(now), config)

    onset_temp = find_onset(record.fevers.upto(now), elig.episode_start)
    onset = onset_temp.time if onset_temp is not None else None
    vaso = vasopressor_periods(admins, now, config)
    multiple = overlaps(vaso, config)
    fever = assess_fever(temps, elig.episode_start, now, config)
    not_infusions = [n for n in (not_an_infusion(a, config) for a in admins if a.drug in config.vasopressors)
                     if n is not None]
    hypo = assess_hypotension(bps, vaso, multiple, inotrope_periods(admins, now, config), threshold, now, config,
                              possible=overlaps(vaso, config, possibly=True), not_infusions=not_infusions)
    hypox = assess_hypoxia(oxygen, spo2, now, config)
    masking = masking_administrations(admins, onset, now, config)

    signs = max(hypo.tier or 0, hypox.tier or 0)
    febrile = fever.tier == 1
    masked = onset is not None and bool(masking) and not febrile
    window = config.fever_window_hours
    masking_drugs = tuple(dict.fromkeys(a.drug for a in masking))
    status_notes: list[Note] = []
    if onset is None:
        if signs:
            status, grade = "not-graded", None
            status_notes.append(NotGraded(since_onset=False, window_hours=window))
        elif fever.tier is None:
            status, grade = "insufficient-data", None
        else:
            status, grade = "graded", 0
    elif febrile:
        status, grade = "graded", max(1, signs)
    elif masked:
        status, grade = "graded", signs
        status_notes.append(Masked(masking_drugs, resolved=not signs))
    elif fever.tier is None:
        status, grade = "insufficient-data", None
        if signs:
            status_notes.append(NoTemperatureAfterOnset(window))
    elif signs:
        status, grade = "not-graded", None
        status_notes.append(NotGraded(since_onset=True, window_hours=window))
    else:
        status, grade = "graded", 0

    missing: list[Missing] = [*fever.missing, *hypo.missing, *hypox.missing, *unavailable]
    worst = None
    if onset is not None and worst_grade:
        w = worst_grade_since(onset, now, temperatures=temps.items, blood_pressures=bps.items, oxygen=oxygen.items,
                              vasopressors=vaso, multiple=multiple,
                              masking_start=masking[0].start if masking else None,
                              threshold=threshold, config=config)
        worst = max(w.grade, grade or 0)
        if grade is None or w.grade > grade:
            status_notes.append(w)
    lower_bound = status == "graded" and bool(missing) and (grade or 0) < 4
    if lower_bound:
        status_notes.append(LowerBound(grade or 0))

    evidence: list[Evidence] = [*index_evidence(elig, now), *fever.evidence]
    if onset_temp is not None and all(e.source != onset_temp.source for e in evidence):
        evidence.append(onset_evidence(onset_temp))
    evidence += [*hypo.evidence, *hypox.evidence]
    if masking:
        evidence += masking_evidence(masking)

    return Assessment(
        status=status,  # type: ignore[arg-type]
        now=now,
        grade=grade,
        worst_grade=worst,
        lower_bound=lower_bound,
        hypotension_grade=hypo.tier,
        hypoxia_grade=hypox.tier,
        fever_present=febrile,
        masked=masked,
        onset=onset,
        fever_threshold_c=config.fever_threshold_c,
        index_therapy=elig.index_therapy,
        latest_index_therapy=elig.latest_index_therapy,
        drivers=_drivers(fever, hypo, hypox, febrile),
        evidence=unique_evidence(evidence),
        missing=tuple(dict.fromkeys(missing)),
        notes=tuple(dict.fromkeys([*status_notes, *elig.notes, *([age_note] if age_note is not None else []),
                                   *fever.notes, *hypo.notes, *hypox.notes])),
        system=config.system,
    )


def _drivers(fever: Finding, hypo: Finding, hypox: Finding, febrile: bool) -> tuple[Driver, ...]:
    """Main driver first: signs by tier (hypotension before hypoxia on a tie), then fever."""
    signs = sorted((f for f in (hypo, hypox) if f.tier and f.driver), key=lambda f: -(f.tier or 0))
    out = [f.driver for f in signs]
    if febrile and fever.driver:
        out.append(fever.driver)
    return tuple(d for d in out if d is not None)

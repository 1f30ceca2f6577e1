"""ASTCT ICANS grade: the most severe domain in the current window.

Domains and their grades come from the grading data (``icans`` in astct.json):
ICE 7-9 grade 1, 3-6 grade 2, 0-2 grade 3; ICE 0 grade 4 when unarousable and
grade 3 when awake with global aphasia; CAPD (children under 12) 1-8 grade 1,
>= 9 grade 3, not performable grade 4; depressed consciousness awakening
spontaneously 1, to voice 2, only to touch 3, unarousable 4; a seizure that
resolves rapidly 3, prolonged (> 5 min) or repetitive 4; deep focal motor
weakness 4; focal oedema 3, diffuse oedema or its clinical signs 4.

Decisions (clinical-reference.md section 2, all data):

- The current window is 12 h, as for CRS, and the most severe finding of each
  domain in it counts (an ICE score of 2 six hours ago is not undone by a 7
  now; the card says the latest is less severe), as for oxygen support.
- Required domains (ICE or CAPD score, level of consciousness) not charted in
  the window are named and make the grade a lower bound. Seizures, motor
  deficits and oedema count when charted; their absence is rarely charted, so
  it is not "missing".
- ICE 0 is read with the level of consciousness charted nearest it (within
  60 min): unarousable is grade 4, awake grade 3; none charted: grade 3 as a
  lower bound, with the reason.
- A finding a clinician charted as due to another cause is left out, and the
  card says so; nothing is attributed by the service itself.
- Only findings from the start of the episode (the index therapy) count.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from clinical import ClinicalSnapshot, Evidence, IcansAssessment, NeuroReading
from clinical.findings import (
    AttributedToOtherCause,
    CapdUsed,
    Eligibility,
    IcansDriver,
    IcansLatestLess,
    LowerBound,
    Missing,
    MissingIcansInput,
    Note,
    ScoreNotUsed,
    Unavailable,
    WorstGrade,
)
from clinical.neuro import (
    CapdScore,
    CerebralOedema,
    Consciousness,
    IcansDomain,
    IceScore,
    MotorWeakness,
    NeuroFinding,
    Seizure,
)

from .config import GradingConfig, IcansConfig, ScoreBand
from .eligibility import assess_eligibility

# What the evidence table calls each domain's finding.
DOMAIN_LABELS: dict[IcansDomain, str] = {
    "ice": "ICE score", "capd": "CAPD score", "consciousness": "level of consciousness", "seizure": "seizure",
    "motor": "motor findings", "oedema": "cerebral oedema",
}


@dataclass(frozen=True, slots=True)
class _Graded:
    """One finding's grade and, when its reading is incomplete, what is missing."""

    tier: int
    driver: IcansDriver
    missing: MissingIcansInput | None = None


def grade_icans(snapshot: ClinicalSnapshot, now: datetime, config: GradingConfig) -> IcansAssessment:
    """Grade ICANS (ASTCT 2019) for ``snapshot`` as of ``now``. Pure: no I/O, no clock."""
    cfg = config.icans
    elig = assess_eligibility(list(snapshot.administrations), now, config)
    unavailable: tuple[Missing, ...] = tuple(Unavailable(u) for u in snapshot.unavailable)
    if config.eligibility_required and not elig.eligible:
        notes: list[Note] = list(elig.notes)
        if snapshot.unavailable:
            notes.append(Eligibility("may-be-missed"))
        return IcansAssessment("not-eligible", now, missing=unavailable, notes=tuple(notes), system=config.system)

    age = snapshot.age_years(now)
    episode = [f for f in snapshot.neuro if elig.episode_start <= f.time <= now]
    counted = [f for f in episode if f.attribution is None]
    # Children under 12 are graded with the CAPD, not the ICE; from 12 a charted CAPD counts only where the
    # site says so (developmental delay), beside the ICE.
    paediatric = age is not None and age < cfg.capd_under_age_years
    capd_counts = paediatric or (cfg.capd_count_when_charted_from_age and any(isinstance(f, CapdScore)
                                                                              for f in counted))
    unused = [f for f in counted if (isinstance(f, IceScore) and paediatric)
              or (isinstance(f, CapdScore) and not capd_counts)]
    score_notes: list[Note] = [CapdUsed(age, cfg.capd_under_age_years, charted=not paediatric)] if capd_counts else []
    score_notes += [ScoreNotUsed(f, age) for f in unused]
    counted = [f for f in counted if f not in unused]

    start = now - timedelta(hours=cfg.window_hours)
    window = [f for f in counted if f.time >= start]
    consciousness = [f for f in counted if isinstance(f, Consciousness)]
    graded = [g for g in (_grade(f, consciousness, cfg) for f in window) if g is not None]

    drivers: list[IcansDriver] = []
    notes_out: list[Note] = []
    missing: list[Missing] = []
    by_domain: dict[IcansDomain, list[_Graded]] = {}
    for g in graded:
        by_domain.setdefault(g.driver.domain, []).append(g)
    for found in by_domain.values():
        worst = max(found, key=lambda g: (g.tier, g.driver.finding.time))
        latest = max(found, key=lambda g: g.driver.finding.time)
        if worst.tier > 0:
            drivers.append(worst.driver)
            if worst.missing is not None:
                missing.append(worst.missing)
        if latest.tier < worst.tier:
            notes_out.append(IcansLatestLess(worst.driver.finding, latest.driver.finding, cfg.window_hours))
    present: set[IcansDomain] = {"ice" if d == "capd" else d for d in by_domain}
    for domain in sorted(cfg.required_domains - present):
        missing.append(MissingIcansInput("capd" if domain == "ice" and paediatric else domain, "none-in-window",
                                         cfg.window_hours))
    missing += unavailable

    drivers.sort(key=lambda d: -d.tier)
    grade = drivers[0].tier if drivers else 0
    if not window and missing:
        status, current = "insufficient-data", None
    else:
        status, current = "graded", grade
    lower_bound = status == "graded" and bool(missing) and grade < 4

    history = [g for g in (_grade(f, consciousness, cfg) for f in counted) if g is not None and g.tier > 0]
    onset = min((g.driver.finding.time for g in history), default=None)
    worst_grade = max((g.tier for g in history), default=0)
    status_notes: list[Note] = []
    if history and worst_grade > (current or 0):
        first = min((g for g in history if g.tier == worst_grade), key=lambda g: g.driver.finding.time)
        status_notes.append(WorstGrade(worst_grade, first.driver.finding.time))
    if lower_bound:
        status_notes.append(LowerBound(grade))
    attributed = [f for f in episode if f.attribution is not None and f.time >= start]

    return IcansAssessment(
        status=status,  # type: ignore[arg-type]
        now=now,
        grade=current,
        worst_grade=max(worst_grade, current or 0) if (history or current is not None) else None,
        lower_bound=lower_bound,
        onset=onset,
        paediatric=paediatric,
        drivers=tuple(drivers),
        evidence=tuple(_evidence(drivers, window, attributed)),
        missing=tuple(dict.fromkeys(missing)),
        notes=tuple(dict.fromkeys([*status_notes, *score_notes, *notes_out,
                                   *(AttributedToOtherCause(f) for f in attributed)])),
        system=config.system,
    )


def _band(score: int, bands: Iterable[ScoreBand]) -> int:
    return next((b.tier for b in bands if b.holds(score)), 0)


def _grade(f: NeuroFinding, consciousness: Sequence[Consciousness], cfg: IcansConfig) -> _Graded | None:
    """The grade of one finding on its own (an ICE 0 read with the nearest level of consciousness)."""
    window = cfg.window_hours
    if isinstance(f, IceScore):
        if f.unarousable:
            return _Graded(cfg.ice_zero_unarousable_tier, IcansDriver("ice", cfg.ice_zero_unarousable_tier, f,
                                                                      ice_zero="unarousable"))
        assert f.score is not None
        if f.score == 0:
            near = _nearest(f.time, consciousness, timedelta(minutes=cfg.ice_zero_consciousness_within_minutes))
            if near is not None and near.level == "unarousable":
                tier = cfg.ice_zero_unarousable_tier
                return _Graded(tier, IcansDriver("ice", tier, f, ice_zero="unarousable", awake=near))
            tier = cfg.ice_zero_awake_tier
            if near is not None:
                return _Graded(tier, IcansDriver("ice", tier, f, ice_zero="awake", awake=near))
            return _Graded(tier, IcansDriver("ice", tier, f, ice_zero="unknown"),
                           MissingIcansInput("consciousness", "ice-zero-consciousness", window, f))
        tier = _band(f.score, cfg.ice_bands)
        return _Graded(tier, IcansDriver("ice", tier, f))
    if isinstance(f, CapdScore):
        tier = cfg.capd_unarousable_tier if f.unarousable or f.score is None else _band(f.score, cfg.capd_bands)
        return _Graded(tier, IcansDriver("capd", tier, f))
    if isinstance(f, Consciousness):
        tier = cfg.consciousness_tiers[f.level]
        return _Graded(tier, IcansDriver("consciousness", tier, f))
    if isinstance(f, Seizure):
        return _seizure(f, cfg)
    if isinstance(f, MotorWeakness):
        tier = cfg.motor_tiers[f.character]
        return _Graded(tier, IcansDriver("motor", tier, f))
    if isinstance(f, CerebralOedema):
        tier = cfg.oedema_tiers[f.character]
        gap = MissingIcansInput("oedema", "oedema-extent", window, f) if f.character == "unspecified" else None
        return _Graded(tier, IcansDriver("oedema", tier, f), gap)
    return None


def _seizure(f: Seizure, cfg: IcansConfig) -> _Graded:
    """Resolved rapidly 3, prolonged (> 5 min) or repetitive 4; neither resolved nor timed: 3, lower bound."""
    tiers = cfg.seizure_tiers
    character = f.character
    if f.duration_minutes is not None and f.duration_minutes > cfg.seizure_prolonged_after_minutes \
            and character in ("seizure", "resolved"):
        character = "prolonged"
    tier = tiers[character]
    unknown = character == "seizure" and f.duration_minutes is None and not f.resolved
    gap = MissingIcansInput("seizure", "seizure-duration", cfg.window_hours, f) if unknown else None
    return _Graded(tier, IcansDriver("seizure", tier, f), gap)


def _nearest(t: datetime, levels: Sequence[Consciousness], within: timedelta) -> Consciousness | None:
    close = [c for c in levels if abs(c.time - t) <= within]
    return min(close, key=lambda c: (abs(c.time - t), -c.time.timestamp())) if close else None


def _evidence(drivers: Sequence[IcansDriver], window: Sequence[NeuroFinding],
              attributed: Sequence[NeuroFinding]) -> list[Evidence]:
    """Each driver's finding, the latest cognitive score and level of consciousness if not already shown,
    then the findings left out as due to another cause."""
    shown = [d.finding for d in drivers] + [d.awake for d in drivers if d.awake is not None]
    out = [Evidence("icans", DOMAIN_LABELS[f.domain], NeuroReading(f), f.time, f.source)
           for f in dict.fromkeys(shown)]
    for kind in (IceScore, CapdScore, Consciousness):
        latest = max((f for f in window if isinstance(f, kind)), key=lambda f: f.time, default=None)
        if latest is not None and latest not in shown:
            out.append(Evidence("context", DOMAIN_LABELS[latest.domain], NeuroReading(latest, "latest"),
                                latest.time, latest.source))
    out += [Evidence("context", DOMAIN_LABELS[f.domain], NeuroReading(f, "attributed"), f.time, f.source)
            for f in attributed]
    return out

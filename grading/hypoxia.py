"""Hypoxia tier (ASTCT) from the oxygen support the patient is on, never from SpO2.

Tier of one oxygen-support record:
- a device in the config's ``device_tiers`` has that tier, except that a
  flow-dependent device (nasal cannula) with a recorded flow is low-flow
  (2) at ≤ 6 L/min and high-flow (3) above; for masks and positive pressure
  the device wins over the flow (facemask at 2 L/min is still 3);
- a flow with no device: 0 L/min is room air, ≤ 6 L/min low-flow (2),
  > 6 L/min high-flow (3);
- neither device nor flow: unusable (FiO2 alone does not say which support).

Current support — decision: the *most severe* support recorded in the current
window (12 h) sets the tier, because ASTCT counts support that is "recorded
or running in the last 12 h" and weaning within the window should not hide a
recent requirement. When the latest record is less severe, a note says so.

No oxygen-support record in the window but an SpO2 reading: the patient is
taken to be on room air (tier 0) and a note says so — unless the last
support record before the window shows oxygen, in which case the support is
unknown (stale data is missing, not normal). Neither: hypoxia is missing.
A record in the window that shows oxygen but not which support (FiO2 above
21 % with no device or flow) makes hypoxia missing, never room air.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from clinical import Evidence, OxygenSupport, SaturationReading, SpO2, SupportReading, SupportRule, SupportTier
from clinical.findings import (
    GradedByMostSevere,
    HypoxiaDriver,
    MissingInput,
    RoomAirAssumed,
    StaleSupport,
    SupportNotUsed,
)

from .config import GradingConfig
from .finding import Finding
from .windows import TimeIndexed, window


def support_tier(o: OxygenSupport, config: GradingConfig) -> SupportTier:
    """The ASTCT tier of one record (``tier`` None: unusable) and the rule that decided it."""
    oxygen_flowing = o.flow_l_min is not None and o.flow_l_min > 0

    def tiered(tier: int | None, rule: SupportRule) -> SupportTier:
        return SupportTier(tier, rule, config.low_flow_tier)

    def by_flow(flow: float) -> int:
        return config.high_flow_tier if flow > config.low_flow_max_l_min else config.low_flow_tier

    if o.device is not None and o.device in config.oxygen_device_tiers:
        tier = config.oxygen_device_tiers[o.device]
        if oxygen_flowing and tier == 0:
            # "Room air" charted with an oxygen flow: the device wins only for masks and positive
            # pressure (clinical-reference.md §1), so the flow decides, as for a flow with no device.
            return tiered(by_flow(o.flow_l_min), "room-air-with-flow")  # type: ignore[arg-type]
        if o.device in config.flow_dependent_devices and o.flow_l_min is not None:
            return tiered(by_flow(o.flow_l_min), "device-flow")
        return tiered(tier, "device")
    if o.flow_l_min is not None:
        return tiered(0, "no-flow") if o.flow_l_min <= 0 else tiered(by_flow(o.flow_l_min), "flow")
    if o.device:
        return tiered(None, "device-without-tier")
    if o.device_display:
        return tiered(None, "unrecognised")
    return tiered(None, "nothing")


def assess_hypoxia(oxygen: TimeIndexed[OxygenSupport], spo2: TimeIndexed[SpO2], now: datetime,
                   config: GradingConfig) -> Finding:
    """The hypoxia tier at ``now`` with its driver, evidence, notes and missing data."""
    span = config.current_window_hours
    start, end = window(now, span)
    finding = Finding(tier=None)
    tiered: list[tuple[int, SupportTier, OxygenSupport]] = []
    untiered: list[tuple[SupportTier, OxygenSupport]] = []
    for record in one_support_per_instant(oxygen.between(start, end)):
        how = support_tier(record, config)
        if how.tier is None:
            finding.notes.append(SupportNotUsed(record, how))
            if record.fio2_percent is None or record.fio2_percent > 21:  # FiO2 21 % is room air
                untiered.append((how, record))
        else:
            tiered.append((how.tier, how, record))
    sats = spo2.between(start, end)

    # "Room air" alongside a record showing oxygen of unknown tier (FiO2 40 %) is not room air.
    if tiered and (max(t[0] for t in tiered) > 0 or not untiered):
        tier, how, record = max(tiered, key=lambda x: (x[0], x[2].time))
        finding.tier = tier
        if tier > 0:
            finding.driver = HypoxiaDriver(record, how, tier)
        finding.evidence.append(Evidence("hypoxia" if tier > 0 else "context", "oxygen support",
                                         SupportReading(record, how), record.time, record.source))
        l_tier, l_how, l_record = tiered[-1]
        if l_record is not record:
            finding.evidence.append(Evidence("context", "oxygen support", SupportReading(l_record, l_how, latest=True),
                                             l_record.time, l_record.source))
            if l_tier < tier:
                finding.notes.append(GradedByMostSevere(record, how, l_record, l_how, span))
    elif untiered:
        # Oxygen support is documented (e.g. FiO2 only) but not which: unknown, never room air.
        u_how, u_record = untiered[-1]
        finding.missing.append(MissingInput("hypoxia", "support-without-tier", span, u_record, u_how))
    elif sats:
        stale = _last_support_before(oxygen, start, config)
        if stale is not None:
            s_how, s_record = stale
            finding.missing.append(MissingInput("hypoxia", "no-oxygen-support", span))
            finding.notes.append(StaleSupport(s_record, s_how, span, since=sats[-1]))
        else:
            finding.tier = 0
            finding.notes.append(RoomAirAssumed(sats[-1]))
    else:
        finding.missing.append(MissingInput("hypoxia", "no-spo2-or-support", span))
        stale = _last_support_before(oxygen, start, config, any_tier=True)
        if stale is not None:
            finding.notes.append(StaleSupport(stale[1], stale[0], span))

    if sats:
        lowest = min(sats, key=lambda s: (s.percent, s.time))
        lowest_is_latest = lowest is sats[-1]
        finding.evidence.append(Evidence("context", "SpO2",
                                         SaturationReading(lowest, None if lowest_is_latest else span),
                                         lowest.time, lowest.source))
        if not lowest_is_latest:
            finding.evidence.append(Evidence("context", "SpO2", SaturationReading(sats[-1], latest=True),
                                             sats[-1].time, sats[-1].source))
    return finding


def one_support_per_instant(records: Sequence[OxygenSupport]) -> list[OxygenSupport]:
    """Give a flow-only record the device charted at the same instant.

    EHRs chart the flow (often as an SpO2 component) and the delivery method
    as separate observations; together they describe one support, e.g.
    nasal cannula at 4 L/min. The device record itself stays in the list.
    """
    devices = {r.time: r.device for r in records if r.device is not None and r.flow_l_min is None}
    if not devices:
        return list(records)
    return [replace(r, device=devices[r.time]) if r.device is None and r.flow_l_min is not None
            and r.time in devices else r for r in records]


def _last_support_before(oxygen: TimeIndexed[OxygenSupport], start: datetime, config: GradingConfig,
                         any_tier: bool = False) -> tuple[SupportTier, OxygenSupport] | None:
    """The last usable record before ``start`` if it showed oxygen (or any tier when ``any_tier``)."""
    for record in reversed(oxygen.before(start)):
        how = support_tier(record, config)
        if how.tier is None:
            continue
        return (how, record) if (how.tier > 0 or any_tier) else None
    return None

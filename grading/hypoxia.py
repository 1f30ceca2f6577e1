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

from dataclasses import replace
from datetime import datetime

from clinical import Evidence, OxygenSupport, SpO2

from . import text
from .config import GradingConfig
from .finding import Finding
from .windows import TimeIndexed, window


def support_tier(o: OxygenSupport, config: GradingConfig) -> tuple[int | None, str]:
    """The ASTCT tier of one record (None: unusable) and its label, e.g. ``nasal cannula 8 L/min (high-flow)``."""
    flow = f" {text.number(o.flow_l_min)} L/min" if o.flow_l_min is not None else ""
    fio2 = f", FiO2 {text.number(o.fio2_percent)} %" if o.fio2_percent is not None else ""
    oxygen_flowing = o.flow_l_min is not None and o.flow_l_min > 0
    if o.device is not None and o.device in config.oxygen_device_tiers and oxygen_flowing \
            and config.oxygen_device_tiers[o.device] == 0:
        # "Room air" charted with an oxygen flow: the device wins only for masks and positive
        # pressure (clinical-reference.md §1), so the flow decides, as for a flow with no device.
        tier = config.high_flow_tier if o.flow_l_min > config.low_flow_max_l_min else config.low_flow_tier  # type: ignore[operator]
        return tier, f"oxygen{flow} with {text.device(o.device)} charted{fio2}" + _qualifier(tier, True, config)
    if o.device is not None and o.device in config.oxygen_device_tiers:
        tier = config.oxygen_device_tiers[o.device]
        flow_based = o.device in config.flow_dependent_devices and o.flow_l_min is not None
        if flow_based:
            tier = config.high_flow_tier if o.flow_l_min > config.low_flow_max_l_min else config.low_flow_tier  # type: ignore[operator]
        return tier, text.device(o.device) + flow + fio2 + _qualifier(tier, flow_based, config)
    if o.flow_l_min is not None:
        if o.flow_l_min <= 0:
            return 0, "no oxygen flow (0 L/min)"
        tier = config.high_flow_tier if o.flow_l_min > config.low_flow_max_l_min else config.low_flow_tier
        return tier, f"oxygen{flow}, no device recorded{fio2}" + _qualifier(tier, True, config)
    if o.device:
        return None, text.device(o.device)
    if o.device_display:
        return None, f"unrecognised oxygen support '{o.device_display}'"
    return None, "oxygen record without device or flow"


def _qualifier(tier: int, flow_based: bool, config: GradingConfig) -> str:
    if tier == 0:
        return ""
    if tier == config.low_flow_tier:
        return " (low-flow)"
    if tier == 4:
        return " (positive pressure)"
    return " (high-flow)" if flow_based else ""


def assess_hypoxia(oxygen: TimeIndexed[OxygenSupport], spo2: TimeIndexed[SpO2], now: datetime,
                   config: GradingConfig) -> Finding:
    """The hypoxia tier at ``now`` with its driver, evidence, notes and missing data."""
    start, end = window(now, config.current_window_hours)
    span = config.hours("current_window_hours")
    finding = Finding(tier=None)
    tiered: list[tuple[int, str, OxygenSupport]] = []
    untiered: list[tuple[str, OxygenSupport]] = []
    for record in _with_device_charted_alongside(oxygen.between(start, end)):
        tier, label = support_tier(record, config)
        if tier is None:
            finding.notes.append(f"oxygen record {record.source} ({label}) has no device tier or flow: not used")
            if record.fio2_percent is None or record.fio2_percent > 21:  # FiO2 21 % is room air
                untiered.append((label, record))
        else:
            tiered.append((tier, label, record))
    sats = spo2.between(start, end)

    # "Room air" alongside a record showing oxygen of unknown tier (FiO2 40 %) is not room air.
    if tiered and (max(t[0] for t in tiered) > 0 or not untiered):
        tier, label, record = max(tiered, key=lambda x: (x[0], x[2].time))
        finding.tier = tier
        if tier > 0:
            finding.driver = f"hypoxia: {label}"
        finding.evidence.append(Evidence("hypoxia" if tier > 0 else "context", "oxygen support", label,
                                         record.time, record.source))
        l_tier, l_label, l_record = tiered[-1]
        if l_record is not record:
            finding.evidence.append(Evidence("context", "oxygen support", f"{l_label} (latest)",
                                             l_record.time, l_record.source))
            if l_tier < tier:
                finding.notes.append(f"graded by the most severe oxygen support in the last {span} ({label}); "
                                     f"latest record: {l_label} at {text.stamp(l_record.time)}")
    elif untiered:
        # Oxygen support is documented (e.g. FiO2 only) but not which: unknown, never room air.
        u_label, u_record = untiered[-1]
        what = (f"FiO2 {text.number(u_record.fio2_percent)} %" if u_record.fio2_percent is not None
                else u_label)
        finding.missing.append(f"cannot grade hypoxia: oxygen support recorded in the last {span} without a "
                               f"device tier or flow ({what}, {u_record.source})")
    elif sats:
        stale = _last_support_before(oxygen, start, config)
        latest_sat = sats[-1]
        if stale is not None:
            s_tier, s_label, s_record = stale
            finding.missing.append(f"cannot grade hypoxia: no oxygen support recorded in the last {span}")
            finding.notes.append(f"last oxygen support record ({s_label}, {text.hours_ago(s_record.time, now)}, "
                                 f"{s_record.source}) is older than {span}: not used; SpO2 "
                                 f"{text.number(latest_sat.percent)}% recorded since without oxygen-support "
                                 "information")
        else:
            finding.tier = 0
            finding.notes.append(f"no oxygen support recorded; SpO2 {text.number(latest_sat.percent)}% "
                                 "assumed on room air")
    else:
        finding.missing.append(f"cannot grade hypoxia: no SpO2 or oxygen support recorded in the last {span}")
        stale = _last_support_before(oxygen, start, config, any_tier=True)
        if stale is not None:
            finding.notes.append(f"last oxygen support record ({stale[1]}, {text.hours_ago(stale[2].time, now)}, "
                                 f"{stale[2].source}) is older than {span}: not used")

    if sats:
        lowest = min(sats, key=lambda s: (s.percent, s.time))
        finding.evidence.append(Evidence("context", "SpO2", f"SpO2 {text.number(lowest.percent)} %"
                                         + (f", lowest in {span}" if lowest is not sats[-1] else ""),
                                         lowest.time, lowest.source))
        if lowest is not sats[-1]:
            finding.evidence.append(Evidence("context", "SpO2", f"SpO2 {text.number(sats[-1].percent)} % (latest)",
                                             sats[-1].time, sats[-1].source))
    return finding


def _with_device_charted_alongside(records: list[OxygenSupport]) -> list[OxygenSupport]:
    """Give a flow-only record the device charted at the same instant.

    EHRs chart the flow (often as an SpO2 component) and the delivery method
    as separate observations; together they describe one support, e.g.
    nasal cannula at 4 L/min. The device record itself stays in the list.
    """
    devices = {r.time: r.device for r in records if r.device is not None and r.flow_l_min is None}
    if not devices:
        return records
    return [replace(r, device=devices[r.time]) if r.device is None and r.flow_l_min is not None
            and r.time in devices else r for r in records]


def _last_support_before(oxygen: TimeIndexed[OxygenSupport], start: datetime, config: GradingConfig,
                         any_tier: bool = False) -> tuple[int, str, OxygenSupport] | None:
    """The last usable record before ``start`` if it showed oxygen (or any tier when ``any_tier``)."""
    for record in reversed(oxygen.before(start)):
        tier, label = support_tier(record, config)
        if tier is None:
            continue
        return (tier, label, record) if (tier > 0 or any_tier) else None
    return None

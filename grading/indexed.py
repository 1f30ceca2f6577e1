"""A snapshot sorted by time once, so that it can be graded at many instants.

Grading at ``now`` reads only the data up to ``now``. The grade series (``series.py``)
asks that at every observation time of a record, thousands of times for a 14-day ICU
record: sorting the readings once and cutting them at each instant with a binary search
(``TimeIndexed.upto``) keeps every evaluation to a few bisections instead of a sort.
"""
from __future__ import annotations

from dataclasses import dataclass

from clinical import BloodPressure, ClinicalSnapshot, OxygenSupport, SpO2, Temperature

from .config import GradingConfig
from .fever import is_fever
from .windows import TimeIndexed


@dataclass(frozen=True, slots=True)
class IndexedSnapshot:
    """``snapshot`` with each kind of reading sorted by time (future data included: cut per instant)."""

    snapshot: ClinicalSnapshot
    temperatures: TimeIndexed[Temperature]
    blood_pressures: TimeIndexed[BloodPressure]
    oxygen: TimeIndexed[OxygenSupport]
    spo2: TimeIndexed[SpO2]
    fevers: TimeIndexed[Temperature]  # the temperatures at or above the fever threshold (onset search)

    @classmethod
    def of(cls, snapshot: ClinicalSnapshot, config: GradingConfig) -> IndexedSnapshot:
        return cls(snapshot, TimeIndexed(snapshot.temperatures, None), TimeIndexed(snapshot.blood_pressures, None),
                   TimeIndexed(snapshot.oxygen, None), TimeIndexed(snapshot.spo2, None),
                   TimeIndexed((t for t in snapshot.temperatures if is_fever(t, config)), None))

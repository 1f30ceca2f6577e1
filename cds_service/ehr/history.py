"""Queries the service issues itself, beyond the discovery templates.

CDS Hooks templates cannot carry relative dates, so the prefetch is "newest
first, up to ``_count``". Grading needs more than the newest page: the fever
history since the index therapy (onset, masking) and the tocilizumab doses
given since it (dose counts). When the prefetched page may not reach back
that far, these queries fetch that history with an explicit date filter.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

MEDICATION_BATCH = 100  # ids per Medication?_id= read, to keep URLs short


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    key: str  # the prefetch key whose data it extends
    label: str  # what it reads, for "unavailable" notes
    query: str


@dataclass(frozen=True, slots=True)
class HistoryPlan:
    """What to read back beyond the prefetch, built once from the clinical configuration.

    ``days`` is the grading's eligibility window (an index therapy older than that is
    not assessed, so nothing older matters); ``temperature_codes`` are the mapping's
    temperature codes as search tokens (``http://loinc.org|8310-5``).
    """

    temperature_codes: tuple[str, ...]
    days: float

    def queries(self, patient_id: str, now: datetime) -> list[HistoryQuery]:
        """Temperatures and MedicationAdministrations of the last ``days`` days."""
        since = (now - timedelta(days=self.days)).strftime("%Y-%m-%dT%H:%M:%SZ")
        pid = quote(patient_id, safe="")
        codes = ",".join(self.temperature_codes)
        return [
            HistoryQuery("observations", f"temperatures since {since}",
                         f"Observation?patient={pid}&code={codes}&date=ge{since}&_sort=-date&_count=1000"),
            HistoryQuery("medicationAdministrations", f"medication administrations since {since}",
                         f"MedicationAdministration?patient={pid}&effective-time=ge{since}"
                         "&_sort=-effective-time&_count=500"),
        ]


def template_count(template: str) -> int | None:
    """The ``_count`` a search template asks for, if any."""
    values = parse_qs(urlsplit(template).query).get("_count")
    try:
        return int(values[-1]) if values else None
    except ValueError:
        return None


def may_be_cut(value: Any, count: int | None) -> bool:
    """A prefetched Bundle without a next link that still looks truncated: exactly
    ``_count`` entries (some EHRs drop the link; one that sent more ignored ``_count``
    and sent everything), or fewer than its ``total``."""
    if not isinstance(value, Mapping) or value.get("resourceType") != "Bundle":
        return False
    entries = value.get("entry")
    n = len(entries) if isinstance(entries, list) else 0
    total = value.get("total")
    return bool((count and n == count) or (isinstance(total, int) and total > n))


def missing_medications(resources: Iterable[Mapping[str, Any]]) -> list[str]:
    """Ids of ``Medication/x`` referenced by administrations but not among ``resources``
    (contained ``#x`` Medications travel with the administration and need nothing)."""
    have = {r.get("id") for r in resources if r.get("resourceType") == "Medication"}
    wanted: list[str] = []
    for r in resources:
        if r.get("resourceType") != "MedicationAdministration":
            continue
        ref = r.get("medicationReference")
        target = ref.get("reference") if isinstance(ref, Mapping) else None
        if isinstance(target, str) and target.startswith("Medication/"):
            rid = target.removeprefix("Medication/").split("/", 1)[0]
            if rid and rid not in have and rid not in wanted:
                wanted.append(rid)
    return wanted


def medication_queries(ids: list[str]) -> list[str]:
    """``Medication?_id=a,b,c`` reads, batched."""
    return [f"Medication?_id={','.join(quote(i, safe='') for i in ids[n:n + MEDICATION_BATCH])}"
            f"&_count={MEDICATION_BATCH}" for n in range(0, len(ids), MEDICATION_BATCH)]

"""Queries the service issues itself, beyond the discovery templates.

CDS Hooks templates cannot carry relative dates, so the prefetch is "newest first,
up to ``_count``", and a long record arrives in pages that can only be read one
after another. Grading needs the whole eligibility window (the fever history since
the index therapy, the doses given since it, the worst grade since onset). So when a
search key is missing, paginated or cut, the service reads that window itself in
time slices queried concurrently (date filters the CDS Hooks spec allows on the
server): a call costs a constant number of round trips, however long the record.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

MEDICATION_BATCH = 100  # ids per Medication?_id= read, to keep URLs short
# The date search parameter of each resource type the templates search (FHIR R4).
DATE_PARAMETER = {"Observation": "date", "MedicationAdministration": "effective-time"}


@dataclass(frozen=True, slots=True)
class SliceQuery:
    query: str
    follow_pages: bool = True  # False for the one page older than the window


@dataclass(frozen=True, slots=True)
class HistoryPlan:
    """How far back the service reads a record itself, and in how many concurrent slices.

    ``days`` is the grading's eligibility window: an index therapy older than that is
    not assessed, so nothing older is needed for grading. ``slices`` per resource type
    is chosen so that a slice of a dense ICU record (15-minute vitals: about 470
    Observations a day) fits in one page of 1,000; medication administrations are few.
    For Observations one more query reads the newest page before the window (an older
    weight or height for dosing).
    """

    days: float
    slices: Mapping[str, int] = field(default_factory=lambda: {"Observation": 16, "MedicationAdministration": 2})

    def sliced(self, query: str, now: datetime) -> list[SliceQuery] | None:
        """``query`` (a rendered search) as time-sliced searches over the window, or None
        when its resource type has no date parameter (a read, another search)."""
        kind = urlsplit(query).path.rsplit("/", 1)[-1]
        parameter = DATE_PARAMETER.get(kind)
        if parameter is None or "?" not in query:
            return None
        count = self.slices.get(kind, 1)
        start = now - timedelta(days=self.days)
        step = (now - start) / count
        edges = [_instant(start + step * i) for i in range(count)]
        out = [SliceQuery(f"{query}&{parameter}=ge{a}&{parameter}=lt{b}") for a, b in pairwise(edges)]
        out.append(SliceQuery(f"{query}&{parameter}=ge{edges[-1]}"))  # open-ended: up to now and clock skew
        if kind == "Observation":
            out.append(SliceQuery(f"{query}&{parameter}=lt{edges[0]}", follow_pages=False))
        return out


def _instant(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


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
    """Ids of ``Medication/x`` (or ``https://ehr/.../Medication/x``: Epic's references are absolute URLs on
    its FHIR base) referenced by administrations but not among ``resources``; they are read from the
    admitted fhirServer only. Contained ``#x`` Medications travel with the administration."""
    have = {r.get("id") for r in resources if r.get("resourceType") == "Medication"}
    wanted: list[str] = []
    for r in resources:
        if r.get("resourceType") != "MedicationAdministration":
            continue
        ref = r.get("medicationReference")
        target = ref.get("reference") if isinstance(ref, Mapping) else None
        rid = _medication_id(target)
        if rid and rid not in have and rid not in wanted:
            wanted.append(rid)
    return wanted


def _medication_id(target: object) -> str | None:
    """``x`` of ``Medication/x``, ``https://host/base/Medication/x`` or either with ``/_history/n``."""
    if not isinstance(target, str):
        return None
    if target.startswith("Medication/"):
        rest = target.removeprefix("Medication/")
    elif target.startswith(("https://", "http://")) and "/Medication/" in target:
        rest = target.rsplit("/Medication/", 1)[1]
    else:
        return None
    return rest.split("/", 1)[0] or None


def medication_queries(ids: list[str]) -> list[str]:
    """``Medication?_id=a,b,c`` reads, batched."""
    return [f"Medication?_id={','.join(quote(i, safe='') for i in ids[n:n + MEDICATION_BATCH])}"
            f"&_count={MEDICATION_BATCH}" for n in range(0, len(ids), MEDICATION_BATCH)]

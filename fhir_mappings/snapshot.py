"""``map_resources``: a flat iterable of FHIR resources -> ClinicalSnapshot.

Each resource is mapped inside its own ``try`` so that a shape nobody
anticipated costs that resource (recorded as "unreadable"), never the
request. Works on plain dicts only: parsing 6,000 resources with
fhir.resources models would cost 15-20x ``json.loads``.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from operator import attrgetter

from clinical import ClinicalSnapshot

from .codes import CodeLists
from .context import FUTURE_TOLERANCE, MappingContext
from .fhirtime import as_utc, parse_datetime
from .medications import map_administration
from .neuro import attach_attributions, map_condition
from .observations import map_observation
from .patient import birth_date

UNREADABLE = "unreadable"

_by_time = attrgetter("time")
_by_start = attrgetter("start")


def map_resources(resources: Iterable[dict], *, patient_id: str, now: datetime, codes: CodeLists,
                  unavailable: Iterable[str] = ()) -> ClinicalSnapshot:
    """Map FHIR R4 resources (Patient, Observation, MedicationAdministration,
    Medication, Condition; Bundles are unpacked one level) for ``patient_id`` as of ``now``.

    Never raises on malformed input; every left-out value of a recognised kind
    is listed in ``excluded`` with its reason. Output tuples are time-sorted.

    One pass over the resources: a 14-day record is tens of megabytes of
    objects, and reading them from memory costs as much as mapping them, so
    each resource is visited once. Only when two copies of a resource arrive
    (same type and id) is the record mapped again, after choosing the newer
    copy of each.
    """
    pid = patient_id.removeprefix("Patient/") if type(patient_id) is str else ""
    latest = as_utc(now) + FUTURE_TOLERANCE
    try:
        items = resources if isinstance(resources, list | tuple) else list(resources)
    except TypeError:
        items = []
    ctx = MappingContext(codes=codes, patient_id=pid, latest=latest)
    if not _map_in_one_pass(items, ctx):
        ctx = MappingContext(codes=codes, patient_id=pid, latest=latest)
        _map_entries(_unique_resources(items), ctx)
    try:
        born = birth_date(ctx.patients, ctx)
    except Exception:
        born = None

    ctx.temperatures.sort(key=_by_time)
    ctx.blood_pressures.sort(key=_by_time)
    ctx.oxygen.sort(key=_by_time)
    ctx.spo2.sort(key=_by_time)
    ctx.measurements.sort(key=_by_time)
    ctx.administrations.sort(key=_by_start)
    neuro = sorted(attach_attributions(ctx), key=_by_time)
    return ClinicalSnapshot(
        patient_id=pid,
        birth_date=born,
        temperatures=tuple(ctx.temperatures),
        blood_pressures=tuple(ctx.blood_pressures),
        oxygen=tuple(ctx.oxygen),
        spo2=tuple(ctx.spo2),
        measurements=tuple(ctx.measurements),
        administrations=tuple(ctx.administrations),
        neuro=tuple(neuro),
        excluded=tuple(ctx.excluded),
        unavailable=tuple(u for u in unavailable if type(u) is str),
    )


def _map_in_one_pass(items: Iterable[dict], ctx: MappingContext) -> bool:
    """Map every resource as it is read; False (and ``ctx`` half-filled) at the first
    duplicate, which needs the versions chosen before anything is mapped."""
    position: dict[str, int] = {}
    administrations: list[tuple[str, dict]] = []  # mapped last, once every Medication is indexed
    for index, res in enumerate(_flatten(items)):
        rtype = res.get("resourceType")
        if type(rtype) is not str:
            continue
        rid = res.get("id")
        if type(rid) is str and rid:
            source = f"{rtype}/{rid}"
            if source in position:
                return False
        else:
            source = f"{rtype}[{index}]"
        position[source] = index
        if rtype == "MedicationAdministration":
            administrations.append((source, res))
        else:
            _map_one(rtype, res, source, ctx)
    for source, res in administrations:
        _map_one("MedicationAdministration", res, source, ctx)
    if administrations:  # exclusions in the order of the record, as the two-pass mapping gives them
        ctx.excluded.sort(key=lambda e: position[e.source])
    return True


def _map_entries(entries: list[tuple[str, dict]], ctx: MappingContext) -> None:
    for _, res in entries:
        if res.get("resourceType") == "Medication":
            rid = res.get("id")
            if type(rid) is str:
                ctx.medications[rid] = res
    for source, res in entries:
        rtype = res.get("resourceType")
        if rtype != "Medication":
            _map_one(rtype, res, source, ctx)


def _map_one(rtype: object, res: dict, source: str, ctx: MappingContext) -> None:
    """One resource into ``ctx``; a shape nobody anticipated costs this resource only."""
    try:
        if rtype == "Observation":
            map_observation(res, source, ctx)
        elif rtype == "MedicationAdministration":
            map_administration(res, source, ctx)
        elif rtype == "Condition":
            map_condition(res, source, ctx)
        elif rtype == "Medication":
            rid = res.get("id")
            if type(rid) is str:
                ctx.medications[rid] = res
        elif rtype == "Patient":
            ctx.patients.append((source, res))
    except Exception:
        ctx.exclude(source, UNREADABLE)


def _unique_resources(resources: Iterable[dict]) -> list[tuple[str, dict]]:
    """(source, resource) for each dict with a resourceType, Bundles unpacked.

    The transport merges prefetch with fetched pages, so the same resource can
    arrive twice; counting a tocilizumab dose twice would block a dose that is
    due. Copies are merged by type and id, keeping the newer meta.lastUpdated
    (the later one when that cannot be told).
    """
    out: list[tuple[str, dict]] = []
    position: dict[str, int] = {}
    for index, res in enumerate(_flatten(resources)):
        rtype = res.get("resourceType")
        if type(rtype) is not str:
            continue
        rid = res.get("id")
        if type(rid) is not str or not rid:
            out.append((f"{rtype}[{index}]", res))
            continue
        source = f"{rtype}/{rid}"
        earlier = position.get(source)
        if earlier is None:
            position[source] = len(out)
            out.append((source, res))
        elif not _older(res, out[earlier][1]):
            out[earlier] = (source, res)
    return out


def _flatten(resources: Iterable[dict]) -> Iterable[dict]:
    try:
        items = iter(resources)
    except TypeError:
        return
    for res in items:
        if type(res) is not dict:
            continue
        if res.get("resourceType") == "Bundle":
            entries = res.get("entry")
            if type(entries) is list:
                for entry in entries:
                    inner = entry.get("resource") if type(entry) is dict else None
                    if type(inner) is dict:
                        yield inner
            continue
        yield res


def _last_updated(res: dict) -> datetime | None:
    meta = res.get("meta")
    return parse_datetime(meta.get("lastUpdated")) if type(meta) is dict else None


def _older(candidate: dict, current: dict) -> bool:
    """Whether ``candidate`` is known to be an older version than ``current``."""
    new, old = _last_updated(candidate), _last_updated(current)
    return new is not None and old is not None and new < old

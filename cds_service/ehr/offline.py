"""Read what ``crs-cds grade`` is given: a Bundle, a CDS Hooks request, or resources.

An integrator checking an EHR's mapping may have any of these at hand; all
become the same flat resource list the service grades, with the gaps
(omitted or failed prefetch keys, paginated results) turned into
"unavailable" notes instead of errors, so the tool grades what it can and
says what is missing.
"""
from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..instants import NOW_EXTENSION, parse_instant
from .prefetch import OMITTED, is_resource, unpack, unpack_prefetch


class InputError(ValueError):
    """The input cannot be graded; the message says why."""


@dataclass(slots=True)
class OfflineInput:
    resources: list[dict[str, Any]]
    patient_id: str | None = None  # from a request's context
    now: datetime | None = None  # from a request's extension["crs-cds.now"]
    unavailable: list[str] = field(default_factory=list)


def read_input(data: Any, templates: Mapping[str, Mapping[str, str]],
               prefetch_only: Collection[str] = ()) -> OfflineInput:
    """Interpret parsed JSON as a CDS Hooks request, a FHIR Bundle, a resource or a list of resources.

    ``templates`` are the prefetch templates of each hook the service answers; a ``prefetch_only``
    key a request leaves out is no gap (the service never fetches it either)."""
    if isinstance(data, list):
        return OfflineInput([r for r in data if is_resource(r)])
    if not isinstance(data, dict):
        raise InputError("expected a FHIR Bundle, a FHIR resource or a CDS Hooks request (a JSON object)")
    if "resourceType" not in data and ("prefetch" in data or "hook" in data):
        return _from_request(data, templates, prefetch_only)
    if not is_resource(data):
        raise InputError("expected a FHIR Bundle, a FHIR resource or a CDS Hooks request: "
                         "the JSON object has neither resourceType nor hook/prefetch")
    if data["resourceType"] == "OperationOutcome":
        raise InputError("the file holds an OperationOutcome (an error report), not patient data")
    page = unpack(data)
    notes = ["bundle: only the first page of a paginated search (link next)"] if page.next_url else []
    return OfflineInput(page.resources, unavailable=notes)


def _from_request(request: dict[str, Any], templates: Mapping[str, Mapping[str, str]],
                  prefetch_only: Collection[str]) -> OfflineInput:
    prefetch = request.get("prefetch")
    if prefetch is not None and not isinstance(prefetch, dict):
        raise InputError("the request's prefetch is not a JSON object")
    prefetch = prefetch or {}
    hook = request.get("hook")
    keys = list(dict.fromkeys([*(templates.get(hook, {}) if isinstance(hook, str) else ()), *prefetch]))
    found = unpack_prefetch(prefetch, keys)
    notes = [f"{key}: {why}" for key, why in found.unsatisfied.items()
             if not (key in prefetch_only and why == OMITTED)]
    notes += [f"{key}: only the first page was provided (prefetch paginated)" for key in found.paginated]
    context = request.get("context") if isinstance(request.get("context"), dict) else {}
    patient_id = context.get("patientId") if isinstance(context.get("patientId"), str) else None
    now = None
    extension = request.get("extension")
    if isinstance(extension, dict) and NOW_EXTENSION in extension:
        try:
            now = parse_instant(extension[NOW_EXTENSION])
        except (TypeError, ValueError) as exc:
            raise InputError(f'extension["{NOW_EXTENSION}"] is not an ISO 8601 date-time: {exc}') from None
    return OfflineInput(found.resources, patient_id, now, notes)


def patient_id_of(given: OfflineInput, override: str | None) -> str:
    """``--patient``, else the request's context, else the only Patient in the data."""
    if override:
        return override
    if given.patient_id:
        return given.patient_id
    ids = sorted({r.get("id") for r in given.resources
                  if r.get("resourceType") == "Patient" and isinstance(r.get("id"), str)})
    if len(ids) == 1:
        return ids[0]
    if not ids:
        raise InputError("no Patient resource with an id in the input: name the patient with --patient ID")
    raise InputError(f"{len(ids)} Patient resources in the input: choose one with --patient ID")

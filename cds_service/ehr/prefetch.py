"""Unpack the prefetch a CDS client sent into a flat list of FHIR resources.

CDS Hooks lets a client satisfy none, some or all prefetch keys, and says how
each case looks on the wire: an omitted key was not satisfied; ``null`` (a
read) or an empty Bundle (a search) means "no data"; an OperationOutcome
means the client tried and failed; a search result may be paginated
(``link[relation=next]``). This module tells those cases apart so that the
service never mistakes "not provided" for "normal" — the difference between
a 412 (or a lower-bound grade) and a silently wrong one.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

OMITTED = "not provided (key omitted)"
CLIENT_ERROR = "the client could not fetch it (OperationOutcome)"
NOT_FHIR = "not a FHIR resource (no resourceType)"


@dataclass(frozen=True, slots=True)
class Unpacked:
    """The resources of one FHIR JSON value and, if it was a partial page, where the rest is."""

    resources: list[dict[str, Any]]
    next_url: str | None = None


@dataclass(slots=True)
class PrefetchResult:
    """Resources from the satisfied keys; why the other keys are unsatisfied."""

    resources: list[dict[str, Any]] = field(default_factory=list)
    unsatisfied: dict[str, str] = field(default_factory=dict)  # key -> why
    paginated: dict[str, str] = field(default_factory=dict)  # key -> next page URL


def is_resource(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("resourceType"), str)


def unpack(value: Any) -> Unpacked:
    """The resources in a prefetch value: a Bundle's entries, or the resource itself.

    Entries without a resource, non-object entries and OperationOutcomes that
    a server attaches to a search (``search.mode = outcome``) are skipped.
    """
    if value is None:
        return Unpacked([])
    if value.get("resourceType") != "Bundle":
        return Unpacked([value])
    entries = value.get("entry")
    found: list[dict[str, Any]] = []
    if isinstance(entries, list):
        for entry in entries:
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if is_resource(resource) and resource["resourceType"] != "OperationOutcome":
                found.append(resource)
    return Unpacked(found, next_link(value))


def next_link(bundle: Mapping[str, Any]) -> str | None:
    links = bundle.get("link")
    if not isinstance(links, list):
        return None
    for link in links:
        if isinstance(link, dict) and link.get("relation") == "next" and isinstance(link.get("url"), str):
            return link["url"]
    return None


def satisfaction(prefetch: Mapping[str, Any], key: str) -> str | None:
    """None when ``key`` is satisfied (data or an explicit "no data"), else why not."""
    if key not in prefetch:
        return OMITTED
    value = prefetch[key]
    if value is None:
        return None
    if not is_resource(value):
        return NOT_FHIR
    if value["resourceType"] == "OperationOutcome":
        return CLIENT_ERROR
    return None


def unpack_prefetch(prefetch: Mapping[str, Any] | None, keys: Iterable[str]) -> PrefetchResult:
    """Read the template ``keys`` of ``prefetch``; keys we did not ask for are ignored."""
    prefetch = prefetch or {}
    result = PrefetchResult()
    for key in keys:
        why = satisfaction(prefetch, key)
        if why is not None:
            result.unsatisfied[key] = why
            continue
        unpacked = unpack(prefetch[key])
        result.resources.extend(unpacked.resources)
        if unpacked.next_url:
            result.paginated[key] = unpacked.next_url
    return result

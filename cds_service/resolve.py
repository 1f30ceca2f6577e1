"""Decide whether a service call carries the data it needs, and fill gaps.

Prefetch first; what is missing is fetched from ``fhirServer`` through a
``FhirFetcher``. Required data that can be had neither way is a 412 (CDS
Hooks SHALL); anything else incomplete — a paginated search whose later pages
could not be read — travels on as an "unavailable" note, so that grading
reports its result as a lower bound instead of reading absence as normal.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .catalogue import ServiceDefinition
from .fetch import FetchUnavailable, FhirFetcher, TemplateError, render_template
from .prefetch import is_resource, unpack, unpack_prefetch

MAX_EXTRA_PAGES = 20  # bounds the time spent paging: CDS clients expect answers in ~500 ms


@dataclass(frozen=True, slots=True)
class CallData:
    resources: list[dict[str, Any]]
    unavailable: list[str]


class DataUnavailable(Exception):
    """Required data is neither prefetched nor fetchable: answer 412."""

    def __init__(self, message: str, missing: dict[str, str]) -> None:
        super().__init__(message)
        self.message = message
        self.missing = missing


def gather(request: Mapping[str, Any], service: ServiceDefinition, fetcher: FhirFetcher) -> CallData:
    """Resources for ``service`` from the request's prefetch, topped up through ``fetcher``."""
    found = unpack_prefetch(request.get("prefetch"), service.prefetch)
    server = request.get("fhirServer")
    auth = request.get("fhirAuthorization")
    context = request.get("context") or {}
    resources = found.resources
    unavailable: list[str] = []
    missing: dict[str, str] = {}

    for key, why in found.unsatisfied.items():
        if server:
            try:
                value = fetcher.fetch(render_template(service.prefetch[key], context),
                                      fhir_server=server, authorization=auth)
                if value is not None and (not is_resource(value) or value["resourceType"] == "OperationOutcome"):
                    raise FetchUnavailable("the FHIR server did not return the data")
                page = unpack(value)
                resources.extend(page.resources)
                if page.next_url:
                    found.paginated[key] = page.next_url
                continue
            except (FetchUnavailable, TemplateError) as exc:
                why = f"{why}; {exc}"
        if key in service.required_prefetch:
            missing[key] = why
        else:
            unavailable.append(f"{key}: {why}")

    if missing:
        keys = ", ".join(missing)
        if server:
            message = f"Required data could not be obtained from prefetch or from fhirServer: {keys}"
        else:
            message = f"Required prefetch data missing and the request has no fhirServer to fetch them from: {keys}"
        raise DataUnavailable(message, missing)

    for key, url in found.paginated.items():
        if not server:
            unavailable.append(f"{key}: only the first page was provided (prefetch paginated) "
                               "and no FHIR server to fetch the rest")
            continue
        unavailable.extend(_read_pages(key, url, server, auth, fetcher, resources))
    return CallData(resources, unavailable)


def _read_pages(key: str, url: str, server: str, auth: Mapping[str, Any] | None,
                fetcher: FhirFetcher, into: list[dict[str, Any]]) -> list[str]:
    """Follow ``next`` links; return a note when the result stays incomplete."""
    next_url: str | None = url
    try:
        for _ in range(MAX_EXTRA_PAGES):
            value = fetcher.fetch(next_url, fhir_server=server, authorization=auth)
            if not is_resource(value):
                raise FetchUnavailable("the FHIR server did not return the next page")
            page = unpack(value)
            into.extend(page.resources)
            next_url = page.next_url
            if next_url is None:
                return []
    except FetchUnavailable as exc:
        return [f"{key}: only the first page(s) of a paginated result could be read; {exc}"]
    return [f"{key}: more than {MAX_EXTRA_PAGES + 1} pages; the oldest were not read"]

"""Prefetch unpacking, the fetch seam and template rendering, without HTTP."""
from __future__ import annotations

import pytest

from cds_service.ehr import DataUnavailable, FetchUnavailable
from cds_service.ehr.gather import MAX_EXTRA_PAGES
from cds_service.ehr.prefetch import CLIENT_ERROR, OMITTED, unpack, unpack_prefetch
from cds_service.ehr.templates import TemplateError, render_template
from devkit import fhirbuild as fb
from tests.support.ehr import SERVICE, gather

KEYS = ["patient", "observations", "medicationAdministrations"]
SERVER = "https://ehr.example.org/fhir"


def request(prefetch=None, **extra):
    body = {"hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
            "context": {"patientId": "p1", "userId": "Practitioner/u1"}, **extra}
    if prefetch is not None:
        body["prefetch"] = prefetch
    return body


def paged(*resources, next_url="https://ehr.example.org/fhir?page=2"):
    b = fb.bundle(*resources)
    b["link"] = [{"relation": "next", "url": next_url}] if next_url else []
    return b


class PagingFetcher:
    """Serves further pages from a dict url -> Bundle."""

    def __init__(self, pages):
        self.pages, self.urls = pages, []

    def fetch(self, query, *, server, authorization, deadline=None):
        self.urls.append(query)
        if query not in self.pages:
            raise FetchUnavailable("FHIR server answered 503")
        return self.pages[query]


class Declining:
    """A fetcher that declines every request (an EHR without data access for us)."""

    def fetch(self, query, **kw):
        raise FetchUnavailable("fetching from the FHIR server is not enabled")


def test_each_prefetch_case_is_told_apart() -> None:
    result = unpack_prefetch({"patient": None, "observations": {"resourceType": "OperationOutcome"}}, KEYS)
    assert result.resources == []
    assert result.unsatisfied == {"observations": CLIENT_ERROR, "medicationAdministrations": OMITTED}


def test_single_resource_and_bundle_entries_are_flattened() -> None:
    t = fb.temperature(38.2, fb.ago(hours=1), rid="t")
    result = unpack_prefetch({"patient": fb.patient(), "observations": fb.bundle(t),
                              "medicationAdministrations": fb.bundle(type_=None)}, KEYS)
    assert [r["id"] for r in result.resources] == ["p1", "t"]
    assert not result.unsatisfied and not result.paginated


def test_unpack_skips_what_is_not_a_resource() -> None:
    bundle = {"resourceType": "Bundle", "entry": [{}, None, "x", {"resource": []}, {"resource": {"id": "no-type"}},
                                                  {"resource": fb.patient()}]}
    assert unpack(bundle).resources == [fb.patient()]
    assert unpack({"resourceType": "Bundle", "entry": {"resource": fb.patient()}}).resources == []


def test_next_link_is_reported() -> None:
    assert unpack(paged()).next_url == "https://ehr.example.org/fhir?page=2"
    assert unpack(paged(next_url=None)).next_url is None
    assert unpack({"resourceType": "Bundle", "link": "bad"}).next_url is None


def test_gather_raises_412_material_without_server() -> None:
    with pytest.raises(DataUnavailable) as caught:
        gather(request({"patient": fb.patient()}), Declining())
    assert list(caught.value.missing) == ["observations", "medicationAdministrations"]
    assert "no fhirServer" in caught.value.message


def test_gather_with_server_and_a_declining_fetcher_says_why_in_the_412() -> None:
    with pytest.raises(DataUnavailable) as caught:
        gather(request({}, fhirServer=SERVER), Declining())
    assert all("not enabled" in why for why in caught.value.missing.values())


def test_paginated_prefetch_without_server_keeps_the_page_with_a_note() -> None:
    data = gather(request({"patient": fb.patient(), "observations": paged(fb.temperature(38, fb.ago(hours=1))),
                           "medicationAdministrations": fb.bundle()}), Declining())
    assert len(data.resources) == 2
    assert data.unavailable == ["observations: only the first page was provided (prefetch paginated) "
                                "and no FHIR server to fetch the rest"]


class SliceFetcher:
    """Answers the service's time slices: ``pages`` maps a slice's date filter (or a next link) to a Bundle."""

    def __init__(self, pages):
        self.pages, self.urls = pages, []

    def fetch(self, query, *, server, authorization, deadline=None):
        self.urls.append(query)
        for part, page in self.pages.items():
            if part in query:
                if isinstance(page, Exception):
                    raise page
                return page
        return fb.bundle()


def test_paginated_prefetch_with_server_is_completed_by_time_slices_and_their_pages() -> None:
    p2 = paged(fb.temperature(37, fb.ago(hours=30), rid="t2"), next_url="u3")
    p3 = paged(fb.temperature(37, fb.ago(hours=40), rid="t3"), next_url=None)
    fetcher = SliceFetcher({"date=ge2026-11-19": p2, "u3": p3})
    data = gather(request({"patient": fb.patient(), "observations": paged(fb.temperature(38, fb.ago(hours=1))),
                           "medicationAdministrations": fb.bundle()}, fhirServer=SERVER), fetcher)
    assert {r["id"] for r in data.resources} >= {"t2", "t3"}
    assert data.unavailable == []
    assert "https://ehr.example.org/fhir?page=2" not in fetcher.urls  # the prefetch's own next link is not read


def test_a_page_that_cannot_be_fetched_becomes_a_note() -> None:
    data = gather(request({"patient": fb.patient(), "observations": paged(), "medicationAdministrations": fb.bundle()},
                          fhirServer=SERVER), PagingFetcher({}))
    assert data.unavailable == ["observations: 17 of 17 time slices could not be read completely; "
                                "FHIR server answered 503"]


def test_paging_is_bounded() -> None:
    class Endless:
        def fetch(self, query, **kw):
            return paged(next_url=query + "+")

    data = gather(request({"patient": fb.patient(), "observations": paged(), "medicationAdministrations": fb.bundle()},
                          fhirServer=SERVER), Endless())
    # every slice pages on for ever: each stops after the bound (the one page before the window is not paged)
    assert data.unavailable == [f"observations: 16 of 17 time slices could not be read completely; "
                                f"more than {MAX_EXTRA_PAGES + 1} pages; the oldest were not read"]


def test_fetched_operation_outcome_is_unavailable() -> None:
    class Failing:
        def fetch(self, query, **kw):
            return {"resourceType": "OperationOutcome"}

    with pytest.raises(DataUnavailable) as caught:
        gather(request({}, fhirServer=SERVER), Failing())
    assert set(caught.value.missing) == set(KEYS)


def test_templates_render_with_escaped_context_values() -> None:
    ctx = {"patientId": "a b/c", "userId": "Practitioner/u1"}
    assert render_template("Patient/{{context.patientId}}", ctx) == "Patient/a%20b%2Fc"
    assert render_template("Practitioner/{{userPractitionerId}}", ctx) == "Practitioner/u1"
    with pytest.raises(TemplateError):
        render_template("Patient/{{userPatientId}}", ctx)
    with pytest.raises(TemplateError):
        render_template("Encounter/{{context.encounterId}}", ctx)
    rendered = render_template(SERVICE.prefetch["observations"], {"patientId": "p1"})
    assert rendered.startswith("Observation?patient=p1&code=http://loinc.org|8310-5,")

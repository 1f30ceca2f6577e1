"""Filling prefetch gaps (resolve.gather with fake fetchers): which queries are issued, that
they run concurrently under one deadline, date-filtered history, Medication references."""
from __future__ import annotations

import threading
import time
from urllib.parse import unquote

import pytest

from cds_service.ehr import DataUnavailable, FetchUnavailable
from cds_service.ehr.history import may_be_cut, medication_queries, missing_medications
from cds_service.settings import ConfigError, Settings
from devkit import fhirbuild as fb
from tests.support.ehr import gather

SERVER = "https://ehr.example.org/fhir"


def request(prefetch=None):
    body = {"hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
            "context": {"patientId": "p1", "userId": "Practitioner/u1"}, "fhirServer": SERVER}
    if prefetch is not None:
        body["prefetch"] = prefetch
    return body


class Recorder:
    """Answers every query from ``answers`` (first matching prefix), after ``delay`` seconds."""

    def __init__(self, answers=None, delay=0.0):
        self.answers, self.delay = answers or {}, delay
        self.queries: list[str] = []
        self.deadlines: list[float | None] = []
        self.lock = threading.Lock()

    def fetch(self, query, *, server, authorization, deadline=None):
        with self.lock:
            self.queries.append(unquote(query))
            self.deadlines.append(deadline)
        time.sleep(self.delay)
        for prefix, value in self.answers.items():
            if query.startswith(prefix):
                if isinstance(value, Exception):
                    raise value
                return value
        return fb.patient() if query.startswith("Patient/") else fb.bundle()


def test_no_prefetch_reads_the_window_in_time_slices_concurrently() -> None:
    fetcher = Recorder(delay=0.2)
    started = time.monotonic()
    data = gather(request(), fetcher, now=fb.NOW)
    took = time.monotonic() - started
    assert took < 0.2 * 2, "the 20 queries must overlap, not run one after another"
    assert data.unavailable == []
    kinds = sorted(q.split("?")[0].split("/")[0] for q in fetcher.queries)
    assert kinds == ["MedicationAdministration"] * 2 + ["Observation"] * 17 + ["Patient"]
    observations = [q for q in fetcher.queries if q.startswith("Observation?")]
    assert all("8310-5" in q and "85354-9" in q for q in observations)  # every code the mapping reads
    # 16 slices from 30 days ago (the eligibility window) to now and beyond, and one page before it
    assert sum("date=ge2026-10-22T12:00:00Z&date=lt" in q for q in observations) == 1
    assert sum(q.endswith("&date=lt2026-10-22T12:00:00Z") for q in observations) == 1
    assert sum("effective-time=ge2026-10-22T12:00:00Z" in q for q in fetcher.queries) == 1
    assert len(set(fetcher.deadlines)) == 1  # one deadline for the whole call


def test_full_prefetch_issues_no_query() -> None:
    fetcher = Recorder()
    gather(request(fb.hook_request([fb.temperature(38.0, fb.ago(hours=1))])["prefetch"]), fetcher, now=fb.NOW)
    assert fetcher.queries == []


def test_a_prefetch_cut_at_count_gets_the_dated_history() -> None:
    prefetch = fb.hook_request([])["prefetch"]
    prefetch["medicationAdministrations"] = fb.bundle(*[fb.drug("acetaminophen", fb.ago(hours=i)) for i in range(500)])
    fetcher = Recorder({"MedicationAdministration?": fb.bundle(fb.drug("tocilizumab", fb.ago(days=12), rid="old-toci"))})
    data = gather(request(prefetch), fetcher, now=fb.NOW)
    assert {q.split("?")[0] for q in fetcher.queries} == {"MedicationAdministration"}  # only the cut key is read
    assert len(fetcher.queries) == 2  # administrations are few: two slices, no page before the window
    assert sum("effective-time=ge2026-10-22T12:00:00Z&effective-time=lt" in q for q in fetcher.queries) == 1
    assert "old-toci" in {r["id"] for r in data.resources}
    assert data.unavailable == []


def test_a_failed_history_query_on_a_cut_prefetch_is_a_note() -> None:
    prefetch = fb.hook_request([])["prefetch"]
    prefetch["observations"]["total"] = 5000
    fetcher = Recorder({"Observation?": FetchUnavailable("the FHIR server answered 500")})
    data = gather(request(prefetch), fetcher, now=fb.NOW)
    assert data.unavailable == ["observations: 17 of 17 time slices could not be read completely; "
                                "the FHIR server answered 500"]


def test_overlapping_results_are_kept_once() -> None:
    t = fb.temperature(38.5, fb.ago(hours=1), rid="t-dup")
    data = gather(request(), Recorder({"Observation?": fb.bundle(t)}), now=fb.NOW)
    assert [r["id"] for r in data.resources if r["resourceType"] == "Observation"] == ["t-dup"]


def test_a_hanging_fetcher_ends_at_the_deadline() -> None:
    started = time.monotonic()
    with pytest.raises(DataUnavailable) as caught:
        gather(request(), Recorder(delay=3), now=fb.NOW, deadline_seconds=0.3)
    assert time.monotonic() - started < 0.6
    assert "within the time allowed" in caught.value.missing["observations"]


def test_first_page_in_time_but_not_the_rest_is_a_lower_bound_not_a_412() -> None:
    class SlowSecondPage(Recorder):
        def fetch(self, query, **kw):
            if query == "page2":
                time.sleep(2)
            return super().fetch(query, **kw)

    page1 = fb.bundle(fb.temperature(37, fb.ago(hours=1)))
    page1["link"] = [{"relation": "next", "url": "page2"}]
    data = gather(request(), SlowSecondPage({"Observation?patient=p1&code": page1}), now=fb.NOW,
                  deadline_seconds=0.3)
    assert any(n.startswith("observations: 16 of 17 time slices could not be read completely; no answer")
               for n in data.unavailable)


def test_a_fetcher_bug_is_reported_as_unread_data_not_a_crash() -> None:
    with pytest.raises(DataUnavailable) as caught:
        gather(request(), Recorder({"Observation?": KeyError("boom")}), now=fb.NOW)
    assert "fetching failed (KeyError)" in caught.value.missing["observations"]


def test_medication_references_are_found_and_batched() -> None:
    admins = [fb.med_admin({"medicationReference": {"reference": f"Medication/m{i % 3}"}}, fb.ago(hours=i))
              for i in range(6)]
    admins.append(fb.med_admin({"medicationReference": {"reference": "#c"}}, fb.ago(hours=1)))
    admins.append(fb.med_admin({"medicationReference": {"reference": "Medication/have"}}, fb.ago(hours=1)))
    have = {"resourceType": "Medication", "id": "have"}
    assert missing_medications([*admins, have]) == ["m0", "m1", "m2"]
    assert medication_queries(["a", "b/c"]) == ["Medication?_id=a,b%2Fc&_count=100"]
    assert len(medication_queries([str(i) for i in range(250)])) == 3


def test_absolute_medication_references_as_epic_sends_them_are_found() -> None:
    base = "https://fhir.epic-hospital.example.org/api/FHIR/R4"
    admins = [fb.med_admin({"medicationReference": {"reference": ref, "display": "NOREPINEPHRINE"}}, fb.ago(hours=1))
              for ref in (f"{base}/Medication/eNE4", f"{base}/Medication/eToci/_history/2", "urn:uuid:1234",
                          f"{base}/Patient/eX")]
    assert missing_medications(admins) == ["eNE4", "eToci"]


def test_cut_detection() -> None:
    assert may_be_cut(fb.bundle(*[{}] * 3), 3)
    assert not may_be_cut(fb.bundle(*[{}] * 4), 3)  # more than asked: the EHR sent everything
    assert not may_be_cut(fb.bundle(*[{}] * 2), 3)
    assert may_be_cut({**fb.bundle(), "total": 10}, None)
    assert not may_be_cut(None, 3) and not may_be_cut(fb.patient(), 1)


def test_fetch_deadline_setting() -> None:
    assert Settings.from_env({}).fetch_deadline_seconds == 3.0
    assert Settings.from_env({"CRS_CDS_FETCH_DEADLINE_SECONDS": "1.5"}).fetch_deadline_seconds == 1.5
    for bad in ("0", "-1", "soon", "120"):
        with pytest.raises(ConfigError, match="CRS_CDS_FETCH_DEADLINE_SECONDS"):
            Settings.from_env({"CRS_CDS_FETCH_DEADLINE_SECONDS": bad})

"""Prometheus metrics: what the service does, counted, in the format every monitoring stack reads.

Requests by endpoint, service and status, with latency histograms; FHIR fetch
time by resource type and failures by kind; cards issued by kind and grade;
feedback outcomes; authentication failures by reason; silent-mode
assessments. Every label value comes from a fixed set in this code (endpoint
names, service ids, card kinds, resource types, reason texts) — never from a
request: no patient id, resource id, token or free text can become a label.

Under gunicorn each worker is a process; ``prometheus_client`` then keeps the
values in files under ``PROMETHEUS_MULTIPROC_DIR`` (set before the library is
first imported — ``crs-cds serve`` sees to it) and ``/metrics`` sums them across
workers. Without the variable (tests, one process) a registry per ``Metrics``
holds them.
"""
from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # the classic text format, read by every Prometheus
disable_created_metrics()  # no *_created series: they double what is exposed and multiprocess mode omits them
# What a FHIR request may be labelled with; any other path segment (a server's paging URL) is "other".
RESOURCE_TYPES = frozenset({"Patient", "Observation", "MedicationAdministration", "Medication", "MedicationRequest",
                            "page"})
ENDPOINTS = {"/cds-services": "discovery", "/cds-services/<service_id>": "service",
             "/cds-services/<service_id>/feedback": "feedback", "/health": "health", "/ready": "ready",
             "/metrics": "metrics"}
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug(reason: str) -> str:
    """``"aud is not the URL called"`` -> ``"aud-is-not-the-url-called"`` (reasons are constants of our code)."""
    return _NOT_SLUG.sub("-", reason.lower()).strip("-")[:48] or "unknown"


def _safely(record: Callable[[], None]) -> None:
    """Count, or lose the count: in multiprocess mode a value lives in a file, and a directory removed
    from under the server must cost a number on a dashboard, never a clinician's answer."""
    with contextlib.suppress(OSError):
        record()


def grade_label(grade: int | None) -> str:
    return "none" if grade is None else str(int(grade))


def prepare_multiprocess_dir(path: str) -> None:
    """Create the directory, and empty it of a previous run's files (their counts would be added in)."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()


class Metrics:
    """The service's instruments, on a registry of their own (so that several apps in one process,
    as in tests, do not clash)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.multiprocess_dir = os.environ.get(MULTIPROC_ENV) or None
        r = self.registry
        self._requests = Counter("crs_cds_requests", "HTTP requests answered, by endpoint, service and status",
                                 ["endpoint", "service", "status"], registry=r)
        self._latency = Histogram("crs_cds_request_duration_seconds", "Time to answer a request",
                                  ["endpoint", "service"], buckets=_LATENCY_BUCKETS, registry=r)
        self._fetch = Histogram("crs_cds_fhir_fetch_duration_seconds", "Time of one GET to the EHR's FHIR server",
                                ["resource_type"], buckets=_LATENCY_BUCKETS, registry=r)
        self._fetch_failures = Counter("crs_cds_fhir_fetch_failures", "FHIR reads that failed, by kind", ["kind"],
                                       registry=r)
        self._cards = Counter("crs_cds_cards_issued", "Cards sent to clinicians, by service, card kind and grade",
                              ["service", "kind", "grade"], registry=r)
        self._feedback = Counter("crs_cds_feedback_items", "Feedback items received, by outcome and whether the "
                                 "card was one we issued", ["service", "outcome", "card"], registry=r)
        self._auth_failures = Counter("crs_cds_auth_failures", "Requests refused by the JWT check, by reason",
                                      ["reason"], registry=r)
        self._silent = Counter("crs_cds_silent_assessments", "Assessments recorded in silent mode, by status "
                               "and grade", ["service", "status", "grade"], registry=r)

    def request(self, rule: str | None, service: str | None, status: int, seconds: float) -> None:
        endpoint = ENDPOINTS.get(rule or "", "other")
        _safely(lambda: self._requests.labels(endpoint, service or "", str(status)).inc())
        _safely(lambda: self._latency.labels(endpoint, service or "").observe(seconds))

    def fhir_fetch(self, resource_type: str, seconds: float) -> None:
        label = resource_type if resource_type in RESOURCE_TYPES else "other"
        _safely(lambda: self._fetch.labels(label).observe(seconds))

    def fhir_failure(self, kind: str) -> None:
        _safely(lambda: self._fetch_failures.labels(kind).inc())

    def card_issued(self, service: str, kind: str, grade: int | None) -> None:
        _safely(lambda: self._cards.labels(service, kind, grade_label(grade)).inc())

    def feedback_item(self, service: str, outcome: str, issued: bool) -> None:
        _safely(lambda: self._feedback.labels(service, outcome, "issued" if issued else "unknown").inc())

    def auth_failure(self, reason: str) -> None:
        _safely(lambda: self._auth_failures.labels(slug(reason)).inc())

    def silent_assessment(self, service: str, status: str, grade: int | None) -> None:
        _safely(lambda: self._silent.labels(service, status, grade_label(grade)).inc())

    def exposition(self) -> bytes:
        """The Prometheus text format: summed over every worker's files in multiprocess mode."""
        if self.multiprocess_dir:
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=self.multiprocess_dir)
            return generate_latest(registry)
        return generate_latest(self.registry)

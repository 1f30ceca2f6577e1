"""Decide whether a service call carries the data it needs, and fill gaps.

Prefetch first; what is missing, failed (OperationOutcome) or paginated is
fetched from the admitted ``fhirServer`` through a ``FhirFetcher``, together with the
date-filtered history the templates cannot ask for (``history``), then the
Medications that administrations reference. Independent queries run
concurrently, so a call costs about one chain of round trips, and all share
one deadline.

Required data that can be had neither way is a 412 (CDS Hooks SHALL);
anything else incomplete travels on as an "unavailable" note, so that
grading reports its result as a lower bound instead of reading absence as
normal.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Collection, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .errors import FetchUnavailable
from .fetch import FhirFetcher
from .guard import FhirServer
from .history import HistoryPlan, HistoryQuery, may_be_cut, medication_queries, missing_medications, template_count
from .prefetch import OMITTED, is_resource, unpack, unpack_prefetch
from .templates import TemplateError, render_template

MAX_EXTRA_PAGES = 20  # bounds the time spent paging: CDS clients expect answers in ~500 ms
WORKERS = 8  # concurrent queries per call; FhirClient's connection pool is sized for two such calls
_LATE = "no answer from the FHIR server within the time allowed"


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


@dataclass(slots=True)
class Chain:
    """One query and its next pages, read in a worker; inspected by the caller at the deadline."""

    first: str
    resources: list[dict[str, Any]] = field(default_factory=list)
    pages: int = 0
    error: str | None = None  # why it stopped short; None when complete
    done: threading.Event = field(default_factory=threading.Event)

    def outcome(self) -> tuple[list[dict[str, Any]], str | None]:
        """(resources read, None if complete else why not) — safe to call before it is done."""
        if self.done.is_set():
            return self.resources, self.error
        return list(self.resources), _LATE


@dataclass(frozen=True, slots=True)
class _Fetch:
    fetcher: FhirFetcher
    server: FhirServer
    auth: Mapping[str, Any] | None
    deadline: float

    def run(self, chains: list[Chain]) -> None:
        """Read every chain concurrently; return at completion or at the deadline.

        A pool per call, not per process: an EHR that hangs past its timeouts then
        holds only its own call's threads, never another call's turn."""
        if not chains:
            return
        pool = ThreadPoolExecutor(max_workers=min(WORKERS, len(chains)), thread_name_prefix="crs-fetch")
        try:
            futures = [pool.submit(self._read, chain) for chain in chains]
            wait(futures, timeout=max(0.0, self.deadline - time.monotonic()))
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def _read(self, chain: Chain) -> None:
        """Follow ``next`` links from ``chain.first``, at most ``MAX_EXTRA_PAGES`` more."""
        url: str | None = chain.first
        seen: set[str] = set()
        try:
            while url is not None:
                if chain.pages > MAX_EXTRA_PAGES:
                    chain.error = f"more than {MAX_EXTRA_PAGES + 1} pages; the oldest were not read"
                    return
                if url in seen:
                    chain.error = "the FHIR server's next link loops; paging stopped"
                    return
                seen.add(url)
                value = self.fetcher.fetch(url, server=self.server, authorization=self.auth,
                                           deadline=self.deadline)
                if value is not None and (not is_resource(value) or value["resourceType"] == "OperationOutcome"):
                    raise FetchUnavailable("the FHIR server did not return the data")
                page = unpack(value)
                chain.resources.extend(page.resources)
                chain.pages += 1
                url = page.next_url
        except FetchUnavailable as exc:
            chain.error = str(exc)
        except Exception as exc:  # a fetcher bug must not lose the answer: report the data as unread
            chain.error = f"fetching failed ({type(exc).__name__})"
        finally:
            chain.done.set()


@dataclass(frozen=True, slots=True)
class Gatherer:
    """Reads a call's data: prefetch, topped up through ``fetcher`` within ``deadline_seconds``."""

    fetcher: FhirFetcher
    deadline_seconds: float
    history: HistoryPlan

    def gather(self, request: Mapping[str, Any], templates: Mapping[str, str], required: Collection[str], *,
               server: FhirServer | None, now: datetime, prefetch_only: Collection[str] = ()) -> CallData:
        """Resources for a service with prefetch ``templates`` (``required`` keys or 412).

        ``server`` is the request's admitted fhirServer (None: the request names none,
        so nothing is fetched). A ``prefetch_only`` key is read when the client sends it and
        never fetched: left out, it is passed over without a note."""
        deadline = time.monotonic() + self.deadline_seconds
        prefetch = request.get("prefetch") if isinstance(request.get("prefetch"), Mapping) else {}
        found = unpack_prefetch(prefetch, templates)
        for key in prefetch_only:
            if found.unsatisfied.get(key) == OMITTED:
                del found.unsatisfied[key]
        context = request.get("context") or {}
        resources = found.resources
        unavailable: list[str] = []
        missing: dict[str, str] = {}

        def unobtainable(key: str, why: str) -> None:
            if key in required:
                missing[key] = why
            else:
                unavailable.append(f"{key}: {why}")

        if server is None:
            for key, why in found.unsatisfied.items():
                unobtainable(key, why)
            _raise_if_missing(missing, server)
            unavailable += [f"{key}: only the first page was provided (prefetch paginated) "
                            "and no FHIR server to fetch the rest" for key in found.paginated]
            return CallData(resources, unavailable)

        run = _Fetch(self.fetcher, server, request.get("fhirAuthorization"), deadline)
        gaps: dict[str, Chain] = {}
        for key, why in found.unsatisfied.items():
            try:
                gaps[key] = Chain(render_template(templates[key], context))
            except TemplateError as exc:
                unobtainable(key, f"{why}; {exc}")
        pages = {key: Chain(url, pages=1) for key, url in found.paginated.items()}  # page 1 was prefetched
        cut = {key for key in templates if key not in gaps and key not in pages
               and may_be_cut(prefetch.get(key), template_count(templates[key]))}
        history = {h: Chain(h.query) for h in self._history(context, now)
                   if h.key in gaps or h.key in pages or h.key in cut}
        run.run([*gaps.values(), *pages.values(), *history.values()])

        for key, chain in gaps.items():
            got, error = chain.outcome()
            resources.extend(got)
            if error is None:
                continue
            if chain.pages == 0:
                unobtainable(key, f"{found.unsatisfied[key]}; {error}")
            else:
                unavailable.append(_incomplete(key, error))
        _raise_if_missing(missing, server)
        for key, chain in pages.items():
            got, error = chain.outcome()
            resources.extend(got)
            if error is not None:
                unavailable.append(_incomplete(key, error))
        for h, chain in history.items():
            got, error = chain.outcome()
            resources.extend(got)
            if error is not None and h.key in cut:  # elsewhere the key's own note already says it is incomplete
                unavailable.append(f"{h.key}: the prefetched page may be cut at _count and the {h.label} "
                                   f"could not be read; {error}")

        resources = _dedupe(resources)
        unavailable += _resolve_medications(run, resources)
        return CallData(resources, unavailable)

    def _history(self, context: Mapping[str, Any], now: datetime) -> list[HistoryQuery]:
        pid = context.get("patientId")
        return self.history.queries(pid, now) if isinstance(pid, str) and pid else []


def _incomplete(key: str, error: str) -> str:
    if error.startswith("more than"):
        return f"{key}: {error}"
    return f"{key}: only the first page(s) of a paginated result could be read; {error}"


def _resolve_medications(run: _Fetch, resources: list[dict[str, Any]]) -> list[str]:
    """Read the referenced Medications not already present; a note if they stay unread."""
    ids = missing_medications(resources)
    if not ids:
        return []
    chains = [Chain(q) for q in medication_queries(ids)]
    run.run(chains)
    errors = []
    for chain in chains:
        got, error = chain.outcome()
        resources.extend(got)
        if error is not None:
            errors.append(error)
    if not errors:
        return []
    return [f"medicationAdministrations: the Medications that administrations reference could not be read, "
            f"so those drugs may be unidentified; {errors[0]}"]


def _dedupe(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One copy per ``Type/id`` (prefetch, pages and history queries overlap); keep the first."""
    seen: set[tuple[str, str]] = set()
    unique = []
    for r in resources:
        rid = r.get("id")
        if isinstance(rid, str):
            ident = (r["resourceType"], rid)
            if ident in seen:
                continue
            seen.add(ident)
        unique.append(r)
    return unique


def _raise_if_missing(missing: dict[str, str], server: FhirServer | None) -> None:
    if not missing:
        return
    keys = ", ".join(missing)
    if server:
        message = f"Required data could not be obtained from prefetch or from fhirServer: {keys}"
    else:
        message = f"Required prefetch data missing and the request has no fhirServer to fetch them from: {keys}"
    raise DataUnavailable(message, missing)

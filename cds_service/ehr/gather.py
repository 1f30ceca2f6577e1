"""Decide whether a service call carries the data it needs, and fill gaps.

Prefetch first. A search key that is missing, failed (OperationOutcome), paginated
or cut at ``_count`` is read from the admitted ``fhirServer`` through a
``FhirFetcher`` as time slices of the eligibility window queried concurrently
(``history.HistoryPlan``) instead of page after page; a read (the Patient) is
fetched as its template says; then the Medications that administrations
reference. So a call costs two round trips (three when a slice spills over a
page), however long the record, and every query shares one deadline.

Required data that can be had neither way is a 412 (CDS Hooks SHALL);
anything else incomplete travels on as an "unavailable" note, so that
grading reports its result as a lower bound instead of reading absence as
normal.
"""
from __future__ import annotations

import contextvars
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
from .history import HistoryPlan, may_be_cut, medication_queries, missing_medications, template_count
from .prefetch import OMITTED, is_resource, unpack, unpack_prefetch
from .templates import TemplateError, render_template

MAX_EXTRA_PAGES = 20  # bounds the time spent paging one query: CDS clients expect answers in ~500 ms
WORKERS = 40  # concurrent queries per call: every slice of two sliced keys and the reads at once
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
    follow_pages: bool = True
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
            # each thread runs in a copy of the call's context: the request id goes with its FHIR requests
            futures = [pool.submit(contextvars.copy_context().run, self._read, chain) for chain in chains]
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
                url = page.next_url if chain.follow_pages else None
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
        cut = [key for key in templates if key not in found.unsatisfied and key not in found.paginated
               and may_be_cut(prefetch.get(key), template_count(templates[key]))]
        reads: dict[str, list[Chain]] = {}
        for key in [*found.unsatisfied, *found.paginated, *cut]:
            if key in prefetch_only:  # read as sent, never fetched
                if key in found.paginated:
                    unavailable.append(f"{key}: only the first page was provided (prefetch paginated); not fetched")
                continue
            try:
                query = render_template(templates[key], context)
            except TemplateError as exc:
                unobtainable(key, f"{found.unsatisfied.get(key, 'incomplete')}; {exc}")
                continue
            slices = self.history.sliced(query, now)
            if slices is not None:
                reads[key] = [Chain(s.query, follow_pages=s.follow_pages) for s in slices]
            elif key in found.unsatisfied:
                reads[key] = [Chain(query)]
            elif key in found.paginated:  # a search we cannot slice: follow its own next pages
                reads[key] = [Chain(found.paginated[key], pages=1)]
        run.run([chain for chains in reads.values() for chain in chains])

        for key, chains in reads.items():
            errors = []
            for chain in chains:
                got, error = chain.outcome()
                resources.extend(got)
                if error is not None:
                    errors.append((chain.pages, error))
            if not errors:
                continue
            if key in found.unsatisfied and len(errors) == len(chains) and all(pages == 0 for pages, _ in errors):
                unobtainable(key, f"{found.unsatisfied[key]}; {errors[0][1]}")
            else:
                unavailable.append(_incomplete(key, len(errors), len(chains), errors[0][1]))
        _raise_if_missing(missing, server)

        resources = _dedupe(resources)
        unavailable += _resolve_medications(run, resources)
        return CallData(resources, unavailable)


def _incomplete(key: str, failed: int, total: int, error: str) -> str:
    if total == 1:
        return f"{key}: only part of the result could be read; {error}"
    return f"{key}: {failed} of {total} time slices could not be read completely; {error}"


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

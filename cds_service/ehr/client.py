"""The HTTP client that reads from the EHR's FHIR server — the only code that does.

Everything here protects either the answer time or the bearer token:

- one pooled ``requests.Session`` (connections reused across the concurrent
  queries of a call), cookies blocked and the environment ignored (no
  ``.netrc`` credentials or proxies slipping in);
- connect and read timeouts, capped by the call's deadline; bounded retries
  with backoff on 429/502/503/504 only while the deadline leaves room;
- the token is sent only where ``guard.FhirServer`` allows: every request URL,
  next link and redirect goes through it;
- a response is streamed and abandoned past ``max_response_bytes``, and must
  be JSON with a ``resourceType`` (an HTML error page or truncated JSON is a
  failure, never "no data");
- logs name host, resource type, status and elapsed time — never the token,
  the query (it holds the patient id) or what came back; metrics count time by
  resource type and failures by kind;
- the call's ``X-Request-Id`` (and W3C ``traceparent``) go along, so the EHR's
  server logs can be joined to ours.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from .. import json_text, tracing
from ..metrics import Metrics
from .errors import FetchRejected, FetchUnavailable
from .guard import FhirServer

LOGGER = logging.getLogger("crs_cds.fhir")
RETRY_STATUSES = frozenset({429, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
ACCEPT = "application/fhir+json"
_MIN_ATTEMPT_SECONDS = 0.05  # not worth starting a request with less time than this left


@dataclass(frozen=True, slots=True)
class ClientLimits:
    """Bounds on one fetch; ``deadline_seconds`` applies when the caller gives no deadline."""

    connect_timeout: float = 1.0
    read_timeout: float = 2.5
    deadline_seconds: float = 3.0
    max_retries: int = 2
    backoff_seconds: float = 0.1
    max_response_bytes: int = 32 * 1024 * 1024  # a page of 1000 Observations is ~1-2 MB
    max_redirects: int = 3
    pool_size: int = 48  # >= the gatherer's concurrent queries of one call (gather.WORKERS)


class FhirClient:
    """``FhirFetcher`` over HTTP. Thread-safe: one instance serves the whole process."""

    def __init__(self, limits: ClientLimits | None = None, *, session: requests.Session | None = None,
                 metrics: Metrics | None = None) -> None:
        self.limits = limits or ClientLimits()
        self.session = session or self._new_session()
        self.metrics = metrics

    def _new_session(self) -> requests.Session:
        session = requests.Session()
        session.trust_env = False  # no proxy or .netrc credentials from the environment
        session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))  # no state across patients/EHRs
        adapter = HTTPAdapter(pool_connections=8, pool_maxsize=self.limits.pool_size, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session

    def close(self) -> None:
        self.session.close()

    def fetch(self, query: str, *, server: FhirServer, authorization: Mapping[str, Any] | None,
              deadline: float | None = None) -> dict[str, Any] | None:
        """GET ``query`` on ``server``: the FHIR JSON, None for a read that found
        nothing, or ``FetchUnavailable`` with a reason safe to show and log."""
        if deadline is None:
            deadline = time.monotonic() + self.limits.deadline_seconds
        started = time.monotonic()
        kind = "page"
        try:
            url = server.url(query)
            kind = server.resource_type_of(url)
            headers = {"Accept": ACCEPT, **tracing.outgoing_headers()}
            token = _bearer(authorization)
            if token:
                headers["Authorization"] = f"Bearer {token}"
            return self._get(url, server, headers, deadline)
        except FetchUnavailable as exc:
            if self.metrics:
                self.metrics.fhir_failure(exc.kind)
            raise
        finally:
            if self.metrics:
                self.metrics.fhir_fetch(kind, time.monotonic() - started)

    def _get(self, url: str, server: FhirServer, headers: dict[str, str], deadline: float) -> dict[str, Any] | None:
        limits = self.limits
        retries = redirects = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining < _MIN_ATTEMPT_SECONDS:
                raise FetchUnavailable("no answer from the FHIR server within the time allowed", "deadline")
            started = time.monotonic()
            kind = server.resource_type_of(url)
            try:
                response = self.session.get(url, headers=headers, allow_redirects=False, stream=True,
                                            timeout=(min(limits.connect_timeout, remaining),
                                                     min(limits.read_timeout, remaining)))
            except requests.Timeout:
                self._log(url, kind, None, started, "timeout", level=logging.WARNING)
                raise FetchUnavailable("the FHIR server did not answer in time", "timeout") from None
            except requests.RequestException as exc:
                self._log(url, kind, None, started, type(exc).__name__, level=logging.WARNING)
                if retries < limits.max_retries and self._pause(retries, None, deadline):
                    retries += 1
                    continue
                raise FetchUnavailable("the FHIR server could not be reached", "unreachable") from None
            status = response.status_code
            try:
                if status in REDIRECT_STATUSES and response.headers.get("Location"):
                    self._log(url, kind, status, started)
                    redirects += 1
                    if redirects > limits.max_redirects:
                        raise FetchUnavailable("the FHIR server redirected too many times", "redirects")
                    url = server.url(response.headers["Location"], relative_to=url)
                    continue
                if status in RETRY_STATUSES:
                    self._log(url, kind, status, started)
                    if retries < limits.max_retries and self._pause(retries, response.headers.get("Retry-After"),
                                                                      deadline):
                        retries += 1
                        continue
                    raise FetchUnavailable(f"the FHIR server answered {status} (busy or unavailable)", "busy")
                if status in (401, 403):
                    self._log(url, kind, status, started, "token rejected (expired, revoked or out of scope)",
                              level=logging.WARNING)
                    raise FetchRejected(f"the FHIR server rejected the access token ({status})")
                if status in (404, 410) and server.is_read(url):
                    self._log(url, kind, status, started)
                    return None
                if status != 200:
                    self._log(url, kind, status, started, level=logging.WARNING)
                    raise FetchUnavailable(f"the FHIR server answered {status}", "http-status")
                body = self._read_capped(response, deadline)
            finally:
                response.close()
            self._log(url, kind, status, started)
            return _parse_fhir(body)

    def _read_capped(self, response: requests.Response, deadline: float) -> bytes:
        """The body, abandoned past the size cap or the deadline (a huge or dripping answer)."""
        cap = self.limits.max_response_bytes
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise FetchUnavailable(f"the FHIR server's answer is larger than {cap} bytes; not read", "too-large")
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in _chunks(response):
                size += len(chunk)
                if size > cap:
                    raise FetchUnavailable(f"the FHIR server's answer is larger than {cap} bytes; not read",
                                           "too-large")
                if time.monotonic() > deadline:
                    raise FetchUnavailable("the FHIR server's answer did not arrive within the time allowed",
                                           "deadline")
                chunks.append(chunk)
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError):
            raise FetchUnavailable("the FHIR server's answer was cut off or timed out", "cut-off") from None
        return b"".join(chunks)

    def _pause(self, retries: int, retry_after: str | None, deadline: float) -> bool:
        """Sleep before a retry if the deadline leaves room for the wait and an attempt."""
        wait = self.limits.backoff_seconds * (2 ** retries)
        if retry_after and retry_after.strip().isdigit():
            wait = max(wait, float(retry_after.strip()))
        if time.monotonic() + wait + _MIN_ATTEMPT_SECONDS * 2 > deadline:
            return False
        time.sleep(wait)
        return True

    def _log(self, url: str, kind: str, status: int | None, started: float, note: str | None = None,
             level: int = logging.INFO) -> None:
        if not LOGGER.isEnabledFor(level):
            return
        line = {"event": "fhir-fetch", "host": urlsplit(url).hostname, "resourceType": kind, "status": status,
                "elapsedMs": round((time.monotonic() - started) * 1000, 1)}
        if note:
            line["note"] = note
        LOGGER.log(level, json.dumps(line, separators=(",", ":")))


def _chunks(response: requests.Response) -> Iterator[bytes]:
    """What has arrived so far (``read1``), so a body that drips in still meets the deadline."""
    raw = response.raw
    if not hasattr(raw, "read1"):  # urllib3 1.x
        yield from response.iter_content(64 * 1024)
        return
    while True:
        chunk = raw.read1(64 * 1024, decode_content=True)
        if not chunk:
            return
        yield chunk


def _bearer(authorization: Mapping[str, Any] | None) -> str | None:
    token = authorization.get("access_token") if isinstance(authorization, Mapping) else None
    return token if isinstance(token, str) and token.strip() else None


def _parse_fhir(body: bytes) -> dict[str, Any]:
    """A FHIR resource or Bundle, or ``FetchUnavailable``: an error page is not data."""
    try:
        value = json_text.loads(body)  # strict UTF-8; no infinities or unpaired surrogates
    except (ValueError, RecursionError):
        raise FetchUnavailable("the FHIR server's answer is not FHIR JSON (an error page or cut off)",
                               "not-fhir") from None
    if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
        raise FetchUnavailable("the FHIR server's answer is not a FHIR resource (no resourceType)", "not-fhir")
    return value

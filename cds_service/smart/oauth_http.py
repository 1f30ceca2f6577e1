"""HTTP to the EHR's authorization side: ``.well-known/smart-configuration`` and the token endpoint.

The FHIR reads themselves go through ``ehr.FhirClient``; this is the other half of a
SMART launch, hardened the same way: no proxies or credentials from the environment, no
cookies, no redirects followed, bounded time and size, JSON objects only. Logs name the
host, the step and the status, never the code, the verifier or the token.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from http.cookiejar import DefaultCookiePolicy
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests

from .errors import LaunchError

LOGGER = logging.getLogger("crs_cds.smart")
TIMEOUT_SECONDS = 5.0
MAX_BYTES = 256 * 1024


class OAuthHttp(Protocol):
    def get_json(self, url: str, *, step: str) -> dict[str, Any]:
        """GET a JSON object, or ``LaunchError`` (502) naming ``step``."""
        ...

    def post_form(self, url: str, form: Mapping[str, str], *, step: str) -> dict[str, Any]:
        """POST a form, read a JSON object (an OAuth error object too, with its status in ``_status``)."""
        ...


class RequestsOAuthHttp:
    """``OAuthHttp`` over ``requests``; thread-safe, one per process."""

    def __init__(self, timeout: float = TIMEOUT_SECONDS) -> None:
        self.timeout = timeout
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))

    def get_json(self, url: str, *, step: str) -> dict[str, Any]:
        return self._send("GET", url, None, step)

    def post_form(self, url: str, form: Mapping[str, str], *, step: str) -> dict[str, Any]:
        return self._send("POST", url, dict(form), step)

    def _send(self, method: str, url: str, form: dict[str, str] | None, step: str) -> dict[str, Any]:
        started = time.monotonic()
        try:
            response = self.session.request(method, url, data=form, allow_redirects=False, stream=True,
                                            timeout=(self.timeout, self.timeout),
                                            headers={"Accept": "application/json"})
        except requests.RequestException as exc:
            self._log(url, step, None, started, type(exc).__name__)
            raise LaunchError(502, f"{step}-unreachable", f"The EHR's {_STEPS[step]} could not be reached.") from None
        try:
            body = response.raw.read(MAX_BYTES + 1, decode_content=True)
        except Exception:
            body = b""
        finally:
            response.close()
        self._log(url, step, response.status_code, started)
        if len(body) > MAX_BYTES:
            raise LaunchError(502, f"{step}-invalid", f"The EHR's {_STEPS[step]} answered more than expected.")
        try:
            value = json.loads(body)
        except ValueError:
            value = None
        if not isinstance(value, dict):
            raise LaunchError(502, f"{step}-invalid",
                              f"The EHR's {_STEPS[step]} did not answer with JSON (status {response.status_code}).")
        if response.status_code != 200 and method == "GET":
            raise LaunchError(502, f"{step}-invalid", f"The EHR's {_STEPS[step]} answered {response.status_code}.")
        value["_status"] = response.status_code
        return value

    @staticmethod
    def _log(url: str, step: str, status: int | None, started: float, note: str | None = None) -> None:
        line = {"event": "smart-" + step, "host": urlsplit(url).hostname, "status": status,
                "elapsedMs": round((time.monotonic() - started) * 1000, 1)}
        if note:
            line["note"] = note
        LOGGER.info(json.dumps(line, separators=(",", ":")))


_STEPS = {"discovery": "SMART configuration (.well-known/smart-configuration)", "token": "token endpoint"}

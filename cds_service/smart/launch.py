"""The SMART App Launch (EHR launch) of the timeline page, step by step.

1. ``begin``: the EHR opens ``/app/launch?iss=...&launch=...``. ``iss`` must be an allowed
   FHIR server (the issuers file's ``fhirServers``; the guard's development rule when no
   file restricts them). Its ``.well-known/smart-configuration`` names the authorization
   and token endpoints, and must offer PKCE S256. A new session keeps the state and the
   PKCE verifier; the browser is sent to the authorization endpoint.
2. ``complete``: the authorization server sends the browser back to ``/app/callback`` with
   ``code`` and ``state``. The state must be the one this browser's session holds; the code
   is exchanged (with the verifier) for an access token and the patient in context. The
   launch session is dropped and a new one holds the token: nothing else ever does.
3. ``context``: the timeline page reads the session: the FHIR server (admitted again by
   the guard), the patient and the token, until the token expires.
"""
from __future__ import annotations

import hmac
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from ..ehr.guard import FhirServer, ServerNotAllowed, is_loopback, normalise_base
from .errors import LaunchError
from .oauth_http import OAuthHttp
from .pkce import challenge, new_state, new_verifier
from .sessions import SessionStore

PATIENT_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")  # a FHIR resource id
LAUNCH_TOKEN = re.compile(r"^[\x21-\x7e]{1,4096}$")  # opaque to us: printable, bounded
OAUTH_ERROR = re.compile(r"^[a-z_]{1,64}$")  # RFC 6749 error codes are safe to show
LAUNCH_SECONDS = 600  # from the EHR's launch to the callback
DEFAULT_TOKEN_SECONDS = 3600  # a token response without expires_in
MAX_SESSION_SECONDS = 12 * 3600


@dataclass(frozen=True, slots=True)
class SmartContext:
    """An authorised session: the FHIR server to read, the patient, the token."""

    server: FhirServer
    patient_id: str
    access_token: str
    expires_at: float


@dataclass(frozen=True, slots=True)
class SmartLauncher:
    client_id: str | None  # None: SMART launch not configured
    scopes: str
    allowlist: frozenset[str] | None  # allowed FHIR base URLs (None: the guard's development rule)
    https_only: bool
    store: SessionStore
    http: OAuthHttp
    clock: Callable[[], float] = time.time

    @property
    def configured(self) -> bool:
        return self.client_id is not None

    def admit(self, iss: str | None) -> FhirServer:
        """The FHIR server ``iss`` names, if allowed: 400 when absent or not a URL, 403 when not allowed."""
        if not iss:
            raise LaunchError(400, "missing-iss", "The launch has no iss parameter (the EHR's FHIR server).",
                              "Open the timeline from the CRS card in the EHR.")
        if normalise_base(iss) is None:
            raise LaunchError(400, "bad-iss", "The iss parameter is not an http(s) base URL of a FHIR server.")
        try:
            return FhirServer.admit(iss, allowlist=self.allowlist, https_only=self.https_only)
        except ServerNotAllowed:
            raise LaunchError(403, "iss-not-allowed",
                              "The FHIR server in iss is not one this service is allowed to read.",
                              "An administrator lists it under fhirServers in CRS_CDS_ISSUERS_FILE.") from None

    def begin(self, iss: str | None, launch: str | None, redirect_uri: str) -> tuple[str, str]:
        """(new session id, the authorization endpoint URL to send the browser to)."""
        if not self.configured:
            raise LaunchError(404, "smart-not-configured", "SMART launch is not configured on this service.",
                              "An administrator sets CRS_CDS_SMART_CLIENT_ID to the client id the EHR registered.")
        server = self.admit(iss)
        if not launch:
            raise LaunchError(400, "missing-launch", "The launch has no launch parameter (the EHR's launch context).",
                              "Open the timeline from the CRS card in the EHR.")
        if not LAUNCH_TOKEN.match(launch):
            raise LaunchError(400, "bad-launch", "The launch parameter is not a launch token.")
        config = self.http.get_json(server.url(".well-known/smart-configuration"), step="discovery")
        authorize = self._endpoint(config.get("authorization_endpoint"), "authorization_endpoint")
        token = self._endpoint(config.get("token_endpoint"), "token_endpoint")
        methods = config.get("code_challenge_methods_supported")
        if isinstance(methods, list) and "S256" not in methods:
            raise LaunchError(502, "pkce-unsupported",
                              "The EHR's authorization server does not offer PKCE with S256, which this app requires.")
        state, verifier = new_state(), new_verifier()
        session_id = self.store.put({"kind": "launch", "state": state, "verifier": verifier, "iss": server.base,
                                     "token_endpoint": token, "redirect_uri": redirect_uri}, LAUNCH_SECONDS)
        query = urlencode({"response_type": "code", "client_id": self.client_id, "redirect_uri": redirect_uri,
                           "launch": launch, "scope": self.scopes, "state": state, "aud": server.base,
                           "code_challenge": challenge(verifier), "code_challenge_method": "S256"})
        return session_id, f"{authorize}{'&' if '?' in authorize else '?'}{query}"

    def complete(self, session_id: str | None, *, state: str | None, code: str | None,
                 error: str | None) -> str:
        """Exchange the code for a token; the new session id (the launch's is dropped)."""
        if error is not None:
            said = f" ({error})" if OAUTH_ERROR.match(error) else ""
            raise LaunchError(403, "authorization-refused", f"The EHR did not authorise the launch{said}.")
        launch = self.store.get(session_id) if session_id else None
        if launch is None or launch.get("kind") != "launch":
            raise LaunchError(400, "launch-expired", "No launch of the timeline is in progress in this browser "
                                                     "(it expired, or was started elsewhere).",
                              "Open the timeline again from the CRS card.")
        if not state or not hmac.compare_digest(state.encode(), str(launch["state"]).encode()):
            raise LaunchError(400, "bad-state", "The state parameter does not match this browser's launch.",
                              "Open the timeline again from the CRS card.")
        if not code:
            raise LaunchError(400, "missing-code", "The callback has no authorization code.")
        self.store.delete(session_id or "")
        answer = self.http.post_form(launch["token_endpoint"], {
            "grant_type": "authorization_code", "code": code, "redirect_uri": launch["redirect_uri"],
            "client_id": self.client_id or "", "code_verifier": launch["verifier"]}, step="token")
        grant = _grant(answer, self.clock())
        return self.store.put({"kind": "authorised", "iss": launch["iss"], **grant},
                              min(MAX_SESSION_SECONDS, grant["expires_at"] - self.clock()))

    def context(self, session_id: str | None) -> SmartContext:
        """The authorised session of this browser, or 401."""
        data = self.store.get(session_id) if session_id else None
        if data is None or data.get("kind") != "authorised":
            raise LaunchError(401, "no-session", "There is no timeline session in this browser.",
                              "Open the timeline from the CRS card in the EHR (the session may have expired).")
        if float(data["expires_at"]) <= self.clock():
            raise LaunchError(401, "session-expired", "The timeline session has expired.",
                              "Open the timeline again from the CRS card.")
        server = self.admit(data["iss"])
        return SmartContext(server, data["patient"], data["access_token"], float(data["expires_at"]))

    def _endpoint(self, url: Any, name: str) -> str:
        parts = urlsplit(url) if isinstance(url, str) else None
        ok = parts is not None and bool(parts.hostname) and (
            parts.scheme == "https" or (parts.scheme == "http" and not self.https_only and is_loopback(url)))
        if not ok:
            raise LaunchError(502, "discovery-invalid",
                              f"The EHR's SMART configuration has no usable {name} (an https URL).")
        return str(url)


def _grant(answer: dict[str, Any], now: float) -> dict[str, Any]:
    """The session's part of a token response, or 502 naming what is missing."""
    status = answer.get("_status")
    if status != 200 or not isinstance(answer.get("access_token"), str) or not answer["access_token"]:
        error = answer.get("error")
        said = f" ({error})" if isinstance(error, str) and OAUTH_ERROR.match(error) else ""
        raise LaunchError(502, "token-refused", f"The EHR's token endpoint did not grant an access token{said}.",
                          "Open the timeline again from the CRS card.")
    if str(answer.get("token_type", "")).lower() != "bearer":
        raise LaunchError(502, "token-invalid", "The EHR's token endpoint granted a token that is not a bearer token.")
    patient = answer.get("patient")
    if not isinstance(patient, str) or not PATIENT_ID.match(patient):
        raise LaunchError(502, "no-patient-context", "The EHR granted access without a patient in context.",
                          "The app must be launched from a patient's chart, with the launch/patient scope.")
    expires_in = answer.get("expires_in")
    seconds = expires_in if isinstance(expires_in, int | float) and expires_in > 0 else DEFAULT_TOKEN_SECONDS
    return {"patient": patient, "access_token": answer["access_token"], "expires_at": now + float(seconds)}

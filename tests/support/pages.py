"""The timeline page in tests: a FHIR server holding a record (as a fetcher), an authorization server
speaking SMART (as ``OAuthHttp``), and readers of what a page says."""
from __future__ import annotations

import base64
import hashlib
import re
import secrets
import threading
from dataclasses import dataclass, field
from html import unescape
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from cds_service.ehr import FetchUnavailable
from cds_service.smart import LaunchError
from devkit import fhirbuild as fb


class RecordServer:
    """A FHIR server holding ``resources``: reads by id, searches by type (date filters ignored: the
    gatherer drops the duplicates). Remembers every query and the token it came with."""

    def __init__(self, resources: list[dict[str, Any]], *, token: str | None = None) -> None:
        self.resources, self.token = resources, token
        self.queries: list[str] = []
        self.tokens: list[str | None] = []
        self._lock = threading.Lock()

    def fetch(self, query, *, server, authorization, deadline=None):
        given = (authorization or {}).get("access_token")
        with self._lock:
            self.queries.append(unquote(query))
            self.tokens.append(given)
        if self.token is not None and given != self.token:
            raise FetchUnavailable("the FHIR server rejected the access token (401)")
        kind = query.partition("?")[0]
        if "/" in kind:
            rtype, rid = kind.split("/", 1)
            return next((r for r in self.resources if r["resourceType"] == rtype and r.get("id") == rid), None)
        return fb.bundle(*[r for r in self.resources if r["resourceType"] == kind])


@dataclass
class AuthorizationServer:
    """The EHR's SMART side, as ``OAuthHttp`` answers: discovery, then codes issued for the state and PKCE
    challenge of an authorize URL and exchanged once for a token naming ``patient``."""

    fhir: str = "https://fhir.example.org/r4"
    patient: str | None = "p1"
    token: str = field(default_factory=lambda: "at-" + secrets.token_hex(8))
    expires_in: int = 3600
    methods: tuple[str, ...] = ("S256",)
    token_error: str | None = None
    discovery_calls: list[str] = field(default_factory=list)
    token_forms: list[dict[str, str]] = field(default_factory=list)
    _codes: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def authorize_endpoint(self) -> str:
        return "https://auth.example.org/authorize"

    @property
    def token_endpoint(self) -> str:
        return "https://auth.example.org/token"

    def get_json(self, url: str, *, step: str) -> dict[str, Any]:
        self.discovery_calls.append(url)
        if url != f"{self.fhir}/.well-known/smart-configuration":
            raise LaunchError(502, "discovery-invalid", "The EHR's SMART configuration answered 404.")
        return {"authorization_endpoint": self.authorize_endpoint, "token_endpoint": self.token_endpoint,
                "code_challenge_methods_supported": list(self.methods), "capabilities": ["launch-ehr"],
                "_status": 200}

    def authorize(self, url: str) -> dict[str, str]:
        """What the user's browser gets back from the authorize URL: ``code`` and ``state``."""
        params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        code = "code-" + secrets.token_hex(8)
        self._codes[code] = params
        return {"code": code, "state": params["state"]}

    def post_form(self, url: str, form: dict[str, str], *, step: str) -> dict[str, Any]:
        self.token_forms.append(dict(form))
        asked = self._codes.pop(form.get("code", ""), None)
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if self.token_error or asked is None or asked["code_challenge"] != challenge \
                or asked["redirect_uri"] != form.get("redirect_uri") or asked["client_id"] != form.get("client_id"):
            return {"error": self.token_error or "invalid_grant", "_status": 400}
        answer: dict[str, Any] = {"access_token": self.token, "token_type": "Bearer", "expires_in": self.expires_in,
                                  "scope": asked["scope"], "_status": 200}
        if self.patient is not None:
            answer["patient"] = self.patient
        return answer


def ward_record(birth_date: str = "1970-05-01") -> list[dict]:
    """A CAR-T patient 3 days after infusion: afebrile, fever from 30 h ago, hypotensive 3 h ago, on
    norepinephrine for 2 h, nasal cannula 3 L/min for 6 h; tocilizumab, dexamethasone, paracetamol."""
    res = [fb.patient(birth_date), fb.car_t(fb.ago(days=3), rid="cart"), fb.weight(70, fb.ago(days=1))]
    for h in range(70, 0, -4):
        res += [fb.temperature(37.0 if h > 30 else 38.4, fb.ago(hours=h), rid=f"t{h}"),
                fb.blood_pressure(120, 80, fb.ago(hours=h), rid=f"bp{h}"), fb.spo2(97, fb.ago(hours=h), rid=f"s{h}")]
    res += [fb.temperature(38.6, fb.ago(hours=30, minutes=30), rid="t-onset"),
            fb.temperature(39.1, fb.ago(hours=2), rid="t-high"),
            fb.temperature(41.0, fb.ago(hours=10), rid="t-eie", status="entered-in-error"),
            fb.blood_pressure(84, 50, fb.ago(hours=3), rid="bp-low"),
            fb.mean_arterial_pressure(60, fb.ago(hours=3), rid="map-low"),
            fb.oxygen_device("room-air", fb.ago(hours=20), rid="o2-air"),
            fb.oxygen_device("nasal-cannula", fb.ago(hours=6), rid="o2-nc"),
            fb.oxygen_flow(3, fb.ago(hours=6), rid="o2-flow"),
            fb.drug("norepinephrine", fb.ago(hours=2), open_period=True, status="in-progress",
                    dose=(0.05, "ug/kg/min"), route="IV", rid="norepi"),
            fb.drug("tocilizumab", fb.ago(hours=5), dose=(560, "mg"), route="IV", rid="toci-1"),
            fb.drug("dexamethasone", fb.ago(hours=1), dose=(10, "mg"), route="IV", rid="dexa-1"),
            fb.drug("acetaminophen", fb.ago(hours=20), dose=(1000, "mg"), route="PO", rid="apap-1")]
    return res


def error_code(response) -> str | None:
    """The stable code an error page carries (``data-error``)."""
    found = re.search(r'data-error="([^"]+)"', response.get_data(as_text=True))
    return found.group(1) if found else None


def message(response) -> str:
    found = re.search(r'<p id="message">(.*?)</p>', response.get_data(as_text=True), re.S)
    return unescape(found.group(1)) if found else ""


def shown_grade(html: str) -> str:
    """The grade the page states (``3``, ``≥ 2``, ``not graded``)."""
    found = re.search(r'<strong id="grade">(.*?)</strong>', html)
    assert found, "the page states no grade"
    return unescape(found.group(1))

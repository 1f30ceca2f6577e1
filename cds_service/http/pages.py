"""The timeline page over HTTP: ``/app/launch`` and ``/app/callback`` (SMART EHR launch) and
``/app/timeline`` (the page), answering HTML, errors included.

Transport only: the SMART steps are ``smart.SmartLauncher``'s, the reading and rendering
``hooks.TimelinePages``'. What the browser holds is one opaque, HttpOnly session cookie
(``Secure`` and ``SameSite=None`` over https, so that the page works inside an EHR's
frame); tokens stay in the server-side session and no URL after the callback carries
anything. Every refusal is a page naming what is wrong (400/401/403/404), a failure of
the EHR a 502, never a 500; the request log gets the error code, never a query value.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Response, g, redirect, request

from timeline import ErrorPage, render_error

from ..ehr import DataUnavailable, FhirServer, ServerNotAllowed
from ..hooks import PatientNotFound, TooManyResources
from ..instants import parse_instant
from ..smart import LaunchError
from ..smart.launch import PATIENT_ID
from .context import current_service, public_url
from .request_log import log_exception, request_id

bp = Blueprint("pages", __name__, url_prefix="/app")
COOKIE = "crs_cds_app"
TITLES = {400: "The timeline cannot be opened", 401: "Please open the timeline from the card again",
          403: "Not allowed", 404: "Not found", 502: "The EHR's data could not be read",
          503: "Temporarily unavailable", 500: "Internal error"}
SECURITY_HEADERS = {
    "Cache-Control": "no-store",  # patient data: never cached by the browser or a proxy
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
                               "form-action 'none'",
}
_SAFE_WHY = re.compile(r"^[\w .,;:()'/\-]{1,300}$")


def _html(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="text/html")


def _error_page(error: LaunchError) -> Response:
    g.error = error.code
    page = ErrorPage(error.status, error.code, TITLES.get(error.status, "Error"), error.message, error.hint,
                     g.get("request_id"))
    return _html(render_error(page), error.status)


def page_errors(view: Callable[..., Response]) -> Callable[..., Response]:
    """Turn every refusal and failure of a page into an HTML error page."""
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except LaunchError as exc:
            return _error_page(exc)
        except PatientNotFound:
            return _error_page(LaunchError(404, "patient-not-found", "The FHIR server has no such Patient."))
        except DataUnavailable as exc:
            why = "; ".join(w.rsplit("; ", 1)[-1] for w in exc.missing.values() if _SAFE_WHY.match(w))
            return _error_page(LaunchError(502, "fhir-unavailable", "The patient's record could not be read from "
                                           f"the FHIR server{': ' + why if why else ''}.",
                                           "Try again; if it persists, open the timeline from the card again."))
        except TooManyResources as exc:
            return _error_page(LaunchError(400, "too-many-resources",
                                           f"The record holds more than {exc.limit} FHIR resources."))
        except Exception as exc:
            rid = g.get("request_id") or request_id(None)
            log_exception(rid, exc)
            return _error_page(LaunchError(500, "internal-error", "The timeline could not be drawn.",
                                           f"Quote request id {rid} when reporting it."))
    return wrapper


@bp.after_request
def _headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _secure() -> bool:
    base = current_service().settings.security.public_base_url
    return request.is_secure or bool(base and base.startswith("https://"))


def _with_session(response: Response, session_id: str) -> Response:
    secure = _secure()
    response.set_cookie(COOKIE, session_id, path="/app", httponly=True, secure=secure,
                        samesite="None" if secure else "Lax")
    return response


@bp.get("/launch")
@page_errors
def launch() -> Response:
    """SMART EHR launch: ``iss`` and ``launch`` from the EHR; on to its authorization endpoint."""
    smart = current_service().smart
    session_id, url = smart.begin(request.args.get("iss"), request.args.get("launch"), public_url("/app/callback"))
    return _with_session(redirect(url, 302), session_id)


@bp.get("/callback")
@page_errors
def callback() -> Response:
    """The authorization server's redirect: check the state, exchange the code, show the page."""
    smart = current_service().smart
    session_id = smart.complete(request.cookies.get(COOKIE), state=request.args.get("state"),
                                code=request.args.get("code"), error=request.args.get("error"))
    return _with_session(redirect(public_url("/app/timeline"), 303), session_id)


@bp.get("/timeline")
@page_errors
def timeline() -> Response:
    """The page: from the SMART session, or (development only) from an open FHIR server."""
    service = current_service()
    if {"iss", "patient", "now"} & set(request.args):
        return _open_server_page()
    context = service.smart.context(request.cookies.get(COOKIE))
    return _html(service.timeline.from_server(patient_id=context.patient_id, server=context.server,
                                              access_token=context.access_token, now=service.clock(),
                                              data_source=f"{context.server.base} (SMART launch)"))


def _open_server_page() -> Response:
    """``?iss=<open FHIR server>&patient=<id>[&now=<instant>]``: development only, no authorization."""
    service = current_service()
    if not service.settings.development:
        raise LaunchError(403, "development-only", "The iss and patient parameters are accepted in development only.",
                          "Open the timeline from the CRS card in the EHR.")
    iss, patient = request.args.get("iss"), request.args.get("patient")
    if not iss:
        raise LaunchError(400, "missing-iss", "The iss parameter (the base URL of an open FHIR server) is missing.")
    if not patient:
        raise LaunchError(400, "missing-patient", "The patient parameter (a Patient id) is missing.")
    if not PATIENT_ID.match(patient):
        raise LaunchError(400, "bad-patient", "The patient parameter is not a FHIR id "
                                              "(1-64 letters, digits, '-' or '.').")
    try:
        server = FhirServer.admit(iss, allowlist=None, https_only=False)
    except ServerNotAllowed:
        raise LaunchError(403, "iss-not-allowed", "The iss parameter must be an https FHIR server, or an http one "
                                                  "on this machine (loopback).") from None
    now = service.clock()
    if request.args.get("now"):
        try:
            now = parse_instant(request.args["now"])
        except ValueError:
            raise LaunchError(400, "bad-now", "The now parameter is not an ISO 8601 date-time "
                                              "such as 2026-11-21T12:00:00Z.") from None
    return _html(service.timeline.from_server(patient_id=patient, server=server, access_token=None, now=now,
                                              data_source=f"{server.base} (open FHIR server, development)"))

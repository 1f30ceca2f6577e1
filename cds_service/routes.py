"""HTTP routes: discovery, the CDS services, their feedback, health.

A service call goes: parse JSON -> validate against the request schema ->
check the hook -> gather data (prefetch, then the fetcher) -> the pipeline's
composer -> ``{"cards": [...]}``. Everything that can be rejected is rejected
before the pipeline runs, and the response is built only once every card is
complete, so a failure is an error response, never a partial card.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from . import json_text, pipeline
from .catalogue import ServiceDefinition, discovery_document, find_service
from .errors import ApiError, Problem, invalid_json, invalid_request, precondition_failed
from .feedback import parse_feedback
from .instants import parse_instant
from .issued import issued_cards
from .resolve import DataUnavailable, gather
from .security import authorize_fhir_server, check_resources, guarded_fetcher
from .state import service_state
from .validation import request_problems

bp = Blueprint("cds", __name__)
NOW_EXTENSION = "crs-cds.now"  # development only: grade "as of" this instant
_JSON_TYPES = ("application/json",)
_log = logging.getLogger("crs_cds.routes")


@bp.get("/cds-services")
def discovery() -> Response:
    return jsonify(discovery_document())


@bp.get("/health")
def health() -> Response:
    return jsonify({"status": "ok"})


def known_service(service_id: str) -> ServiceDefinition:
    """The service named in the URL (remembered for the request log), or 404."""
    service = find_service(service_id)
    if service is None:
        raise ApiError(404, "not-found", f"No CDS service with id {service_id!r}: see GET /cds-services")
    g.service = service.id
    return service


@bp.post("/cds-services/<service_id>")
def call_service(service_id: str) -> Response:
    service = known_service(service_id)
    body = read_json_object()
    problems = request_problems(body)
    if isinstance(body.get("hook"), str) and body["hook"] != service.hook:
        problems.append(Problem("hook", f"must be {service.hook!r}: service {service.id} answers that hook only"))
    state = service_state()
    now = pinned_now(body, problems) or state.clock()
    if problems:
        raise invalid_request(problems)
    g.hook, g.hook_instance = body["hook"], body["hookInstance"]  # logged only once validated
    authorize_fhir_server(body.get("fhirServer"))  # 403 before any request carries the token there

    try:
        data = gather(body, service, guarded_fetcher(state.fetcher), now=now,
                      deadline_seconds=state.settings.fetch_deadline_seconds)
    except DataUnavailable as exc:
        raise precondition_failed(exc.message, exc.missing) from None
    check_resources(len(data.resources))
    cards = compose(service, body, data.resources, data.unavailable, now)
    g.cards = [c.get("uuid") for c in cards if isinstance(c, dict)]
    g.grades = [((c.get("extension") or {}).get("crs-cds.assessment") or {}).get("grade")
                for c in cards if isinstance(c, dict)]
    record_issued(service.id, cards)
    return jsonify({"cards": cards})


def compose(service: ServiceDefinition, body: dict[str, Any], resources: list[dict[str, Any]],
            unavailable: list[str], now: datetime) -> list[dict[str, Any]]:
    settings = service_state().settings
    call = pipeline.ServiceCall(context=body["context"], resources=resources, now=now,
                                protocol_id=settings.protocol_id, eligibility=settings.eligibility,
                                unavailable=tuple(unavailable),
                                paediatric_protocol_id=settings.paediatric_protocol_id)
    return pipeline.COMPOSERS[service.composer](call)


def read_json_object() -> dict[str, Any]:
    """The request body as a JSON object; a missing Content-Type is tolerated, a non-JSON one is not."""
    mimetype = request.mimetype
    if mimetype and not (mimetype in _JSON_TYPES or mimetype.endswith("+json")):
        raise invalid_json(f"Content-Type {mimetype!r} is not JSON: send the CDS Hooks request as application/json")
    raw = request.get_data(cache=False)
    if not raw.strip():
        raise invalid_json("The request body is empty: expected a CDS Hooks request (a JSON object)")
    try:
        body = json_text.loads(raw, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise invalid_json(f"The request body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")
    except UnicodeDecodeError:
        raise invalid_json("The request body is not UTF-8 encoded JSON") from None
    except json_text.UnrepresentableJson as exc:
        raise invalid_request([Problem(path, problem) for path, problem in exc.problems]) from None
    except ValueError as exc:
        raise invalid_json(f"The request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise invalid_json("The request body is not valid JSON: nested too deeply") from None
    if not isinstance(body, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(body), "a number")
        raise invalid_json(f"The request body must be a JSON object, got {kind}")
    return body


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def pinned_now(body: dict[str, Any], problems: list[Problem]) -> datetime | None:
    """``extension["crs-cds.now"]``, honoured in development only (replayable examples)."""
    extension = body.get("extension")
    if not service_state().settings.development or not isinstance(extension, dict) or NOW_EXTENSION not in extension:
        return None
    try:
        return parse_instant(extension[NOW_EXTENSION])
    except (TypeError, ValueError):
        problems.append(Problem(f"extension.{NOW_EXTENSION}", "must be an ISO 8601 date-time, e.g. 2026-11-21T12:00:00Z"))
        return None


@bp.post("/cds-services/<service_id>/feedback")
def feedback(service_id: str) -> Response:
    """CDS Hooks feedback: 200 once stored (repeats are stored once), 400 naming a bad field, 404 unknown service."""
    service = known_service(service_id)
    items = parse_feedback(read_json_object())
    state = service_state()
    if state.feedback_store is None:  # create_app always sets one; a bare ServiceState is a wiring bug
        raise RuntimeError("no feedback store configured")
    new = state.feedback_store.record_feedback(service.id, items, state.clock())
    return jsonify({"received": len(items), "stored": new})


def record_issued(service_id: str, cards: list[dict[str, Any]]) -> None:
    """Remember each issued card (kind, grade, protocol; no patient data) for the feedback report.

    A store failure is logged, never turned into an error: guidance must reach the clinician.
    """
    state = service_state()
    if state.feedback_store is None or not cards:
        return
    try:
        state.feedback_store.record_issued(issued_cards(service_id, cards, state.clock()))
    except Exception as exc:  # noqa: BLE001 - the cards are complete; only the statistics are lost
        # Type only, like every other error log: a driver's message may quote the failing row.
        _log.error("could not record issued cards for %s: %s", service_id, type(exc).__name__)

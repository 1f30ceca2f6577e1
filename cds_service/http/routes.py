"""HTTP routes: discovery, the CDS services, their feedback, health (liveness) and ready (readiness).

A service call goes: parse JSON -> validate against the request schema ->
check the hook -> admit the fhirServer -> the service layer (gather, compose,
record) -> ``{"cards": [...]}``. Everything that can be rejected is rejected
before the service layer runs, and the response is serialised only once every
card is complete, so a failure is an error response, never a partial card.
"""
from __future__ import annotations

import json
import logging
import re
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from cards.profiles import EPIC_TRIGGER, choose_client

from .. import json_text
from ..ehr import DataUnavailable
from ..feedback import InvalidFeedback, parse_feedback
from ..hooks import ServiceDefinition, TooManyResources
from ..instants import NOW_EXTENSION, parse_instant
from ..metrics import CONTENT_TYPE
from ..schemas import Problem, schema_problems
from .auth import admitted_fhir_server, principal
from .context import current_service, public_url
from .errors import ApiError, invalid_json, invalid_request, precondition_failed
from .request_log import log_event

bp = Blueprint("cds", __name__)
_JSON_TYPES = ("application/json",)
_TRIGGER = re.compile(r"^[0-9A-Za-z._-]{1,32}$")  # Epic's trigger actions are small numbers ("18", "60")


@bp.get("/cds-services")
def discovery() -> Response:
    return jsonify(current_service().hooks.discovery())


@bp.get("/health")
def health() -> Response:
    """Liveness: the process answers. Touches nothing else, so a database outage never restarts it."""
    return jsonify({"status": "ok"})


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text format (summed over the gunicorn workers); no label carries patient data."""
    return Response(current_service().metrics.exposition(), content_type=CONTENT_TYPE)


@bp.get("/ready")
def ready() -> Response:
    """Readiness: the feedback database and the replay store can be used now; 503 naming which cannot
    (the reason, with the store's address, goes to the log, not to whoever asks)."""
    checks = current_service().readiness()
    down = [name for name, problem in checks.items() if problem is not None]
    for name in down:
        log_event("not-ready", {"requestId": g.get("request_id"), "store": name, "problem": checks[name]},
                  logging.WARNING)
    g.down = down or None
    response = jsonify({"status": "unavailable" if down else "ready",
                        "checks": {name: "down" if problem else "ok" for name, problem in checks.items()}})
    response.status_code = 503 if down else 200
    return response


def known_service(service_id: str) -> ServiceDefinition:
    """The service named in the URL (remembered for the request log), or 404."""
    service = current_service().hooks.find(service_id)
    if service is None:
        raise ApiError(404, "not-found", f"No CDS service with id {service_id!r}: see GET /cds-services")
    g.service = service.id
    return service


@bp.post("/cds-services/<service_id>")
def call_service(service_id: str) -> Response:
    service = known_service(service_id)
    body = read_json_object()
    problems = schema_problems("request", body)
    if isinstance(body.get("hook"), str) and body["hook"] != service.hook:
        problems.append(Problem("hook", f"must be {service.hook!r}: service {service.id} answers that hook only"))
    app = current_service()
    now = pinned_now(body, problems) or app.clock()
    if problems:
        raise invalid_request(problems)
    g.hook, g.hook_instance = body["hook"], body["hookInstance"]  # logged only once validated
    g.client = choose_client(principal().client, app.settings.client, body.get("extension"))
    g.trigger = epic_trigger(body.get("extension"))
    server = admitted_fhir_server(body.get("fhirServer"))  # 403 before any request carries the token there
    try:
        result = app.hooks.answer(service, body, now=now, server=server, client=g.client,
                                  timeline_url=public_url("/app/launch") if app.smart.configured else None)
    except DataUnavailable as exc:
        raise precondition_failed(exc.message, exc.missing) from None
    except TooManyResources as exc:
        raise ApiError(400, "too-many-resources", f"The request carries more than {exc.limit} FHIR resources; "
                                                  "send a shorter time window") from None
    g.cards = [c.uuid for c in result.cards]
    g.grades = [c.grade for c in result.cards]
    g.mismatch = result.mismatch
    if result.silent is not None:  # what was recorded instead of cards (a grade is not patient data)
        g.silent = {"status": result.silent.status, "grade": result.silent.grade}
    response = jsonify(result.body())
    free_after_sending(response, body, result)
    return response


def free_after_sending(response: Response, *values: Any) -> None:
    """Keep ``values`` (the request's JSON tree, the call's results) until the server has sent the
    answer: freeing the objects of a 14-day record takes milliseconds the EHR need not wait for."""
    held = list(values)
    response.call_on_close(held.clear)


def epic_trigger(extension: object) -> str | None:
    """Epic's ``bpa-trigger-action`` (which native trigger fired patient-view: 18 enter order, 60 open chart,
    ...), for the log: tolerated whatever it is, logged only when it looks like a trigger id."""
    if not isinstance(extension, dict) or EPIC_TRIGGER not in extension:
        return None
    value = extension[EPIC_TRIGGER]
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    return text if _TRIGGER.match(text) else "unrecognised"


def read_json_object() -> dict[str, Any]:
    """The request body as a JSON object; a missing Content-Type is tolerated, a non-JSON one is not."""
    mimetype = request.mimetype
    if mimetype and not (mimetype in _JSON_TYPES or mimetype.endswith("+json")):
        raise invalid_json(f"Content-Type {mimetype!r} is not JSON: send the CDS Hooks request as application/json")
    raw = request.get_data(cache=False)
    if not raw.strip():
        raise invalid_json("The request body is empty: expected a CDS Hooks request (a JSON object)")
    limit = current_service().settings.security.max_json_depth
    try:
        body = json_text.loads(raw, max_depth=limit)
    except json_text.TooDeep:
        raise invalid_json(f"The request body nests JSON deeper than {limit} levels") from None
    except json.JSONDecodeError as exc:
        raise invalid_json(
            f"The request body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
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


def pinned_now(body: dict[str, Any], problems: list[Problem]) -> datetime | None:
    """``extension["crs-cds.now"]``, honoured in development only (replayable examples)."""
    extension = body.get("extension")
    if not current_service().settings.development or not isinstance(extension, dict) \
            or NOW_EXTENSION not in extension:
        return None
    try:
        return parse_instant(extension[NOW_EXTENSION])
    except (TypeError, ValueError):
        problems.append(Problem(f"extension.{NOW_EXTENSION}",
                                "must be an ISO 8601 date-time, e.g. 2026-11-21T12:00:00Z"))
        return None


@bp.post("/cds-services/<service_id>/feedback")
def feedback(service_id: str) -> Response:
    """CDS Hooks feedback: 200 once stored (one row per accepted suggestion, repeats stored once, cards we never
    issued stored but flagged), 400 naming a bad field, 404 unknown service."""
    service = known_service(service_id)
    body = read_json_object()
    g.client = choose_client(principal().client, current_service().settings.client, body.get("extension"))
    try:
        items = parse_feedback(body)
    except InvalidFeedback as exc:
        raise invalid_request(exc.problems) from None
    app = current_service()
    receipt = app.feedback_store.record_feedback(service.id, items, app.clock())
    for item in items:
        app.metrics.feedback_item(service.id, item.outcome, item.card_uuid not in receipt.unknown)
    return jsonify({"received": len(items), "stored": receipt.stored, "unknownCards": receipt.unknown_cards})

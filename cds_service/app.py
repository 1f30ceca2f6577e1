"""Flask application factory for the CRS CDS Hooks service.

``create_app`` wires settings, the clock and the FHIR fetcher into the app
(tests pass a fixed clock and fakes), registers the routes, turns every
error into the JSON error body, and logs one line per request.
"""
from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Callable

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from . import security
from .errors import ApiError, error_body
from .feedback_store import FeedbackStore, SqlFeedbackStore
from .fetch import FhirFetcher
from .fhir_client import ClientLimits, FhirClient
from .instants import utc_now
from .request_log import configure_logging, log_exception, log_request, request_id
from .routes import bp
from .settings import Settings
from .state import EXTENSION_KEY, ServiceState
from .validation import request_validator

_HTTP_ERROR_CODES = {404: "not-found", 405: "method-not-allowed", 413: "request-too-large",
                     415: "unsupported-media-type"}
log = logging.getLogger("crs_cds.app")


def create_app(settings: Settings | None = None, *, clock: Callable[[], datetime] | None = None,
               fetcher: FhirFetcher | None = None, feedback_store: FeedbackStore | None = None) -> Flask:
    """Build the app; ``settings`` default to the environment (``Settings.from_env``).

    The feedback store defaults to ``settings.feedback_url``, opened (and its tables
    created) here, so an unreachable database fails at start-up, not on feedback.
    """
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level)
    app = Flask(__name__)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    store = feedback_store if feedback_store is not None else SqlFeedbackStore.from_url(settings.feedback_url)
    app.extensions[EXTENSION_KEY] = ServiceState(settings, clock or utc_now, fetcher or _fhir_client(settings), store)
    app.register_blueprint(bp)
    _register_error_handlers(app)
    _register_request_logging(app)
    security.install(app, settings)  # after request logging: refusals are logged with their id
    for warning in settings.insecure_defaults():
        log.warning("insecure default: %s", warning)
    _warm_up(settings)
    return app


def _fhir_client(settings: Settings) -> FhirClient:
    """The HTTP client that fills prefetch gaps from fhirServer (one per app: pooled connections)."""
    return FhirClient(ClientLimits(deadline_seconds=settings.fetch_deadline_seconds))


def _warm_up(settings: Settings) -> None:
    """Compile the request schema and load the clinical configuration now, so that the
    first EHR call is not the slow one and a bad file fails at start-up."""
    from . import pipeline

    request_validator()
    pipeline.warm_up(settings.eligibility, (settings.protocol_id, settings.paediatric_protocol_id))


def _json_error(status: int, body: dict, headers: dict[str, str] | None = None) -> Response:
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> Response:
        g.error = exc.error
        return _json_error(exc.status, exc.body(g.get("request_id")))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        code = _HTTP_ERROR_CODES.get(status, "http-error")
        g.error = code
        messages = {404: "No such endpoint: see GET /cds-services for the services offered",
                    405: f"Method {request.method} is not allowed on this endpoint"}
        message = messages.get(status, exc.description or exc.name)
        allow = {k: v for k, v in exc.get_headers() if k.lower() == "allow"}
        return _json_error(status, error_body(code, message, g.get("request_id")), allow)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        rid = g.get("request_id") or request_id(None)
        g.error = "internal-error"
        log_exception(rid, exc)
        message = f"Internal error; no cards were produced. Quote request id {rid} when reporting it."
        return _json_error(500, error_body("internal-error", message, rid))


def _register_request_logging(app: Flask) -> None:
    @app.before_request
    def start() -> None:
        g.request_id = request_id(request.headers.get("X-Request-Id"))
        g.started = time.perf_counter()

    @app.after_request
    def finish(response: Response) -> Response:
        rid = g.get("request_id") or request_id(None)
        response.headers["X-Request-Id"] = rid
        started = g.get("started")
        latency = round((time.perf_counter() - started) * 1000, 1) if started is not None else None
        log_request(requestId=rid, method=request.method, route=request.url_rule.rule if request.url_rule else None,
                    service=g.get("service"), hook=g.get("hook"), hookInstance=g.get("hook_instance"),
                    status=response.status_code, latencyMs=latency, cards=g.get("cards"), grades=g.get("grades"),
                    error=g.get("error"), issuer=g.get("issuer"), authFailure=g.get("auth_failure"))
        return response

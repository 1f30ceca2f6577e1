"""Flask application factory for the CRS CDS Hooks service.

``create_app`` receives the service the composition root built (``bootstrap``;
tests pass one built with a fixed clock and fakes), registers the routes, turns
every error into the JSON error body, and logs one line per request.
"""
from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from .. import tracing
from ..bootstrap import Service, bootstrap
from . import auth
from .context import EXTENSION_KEY, current_service
from .errors import ApiError, error_body
from .json_provider import OrjsonProvider
from .pages import bp as pages
from .request_log import configure_logging, log_event, log_exception, log_request, request_id
from .routes import bp

_HTTP_ERROR_CODES = {404: "not-found", 405: "method-not-allowed", 413: "request-too-large",
                     415: "unsupported-media-type"}
log = logging.getLogger("crs_cds.app")


def create_app(service: Service | None = None) -> Flask:
    """The WSGI app for ``service`` (default: built from the environment)."""
    service = service or bootstrap()
    settings = service.settings
    configure_logging(settings.log_level)
    app = Flask(__name__)
    app.json = OrjsonProvider(app)
    app.extensions[EXTENSION_KEY] = service
    app.register_blueprint(bp)
    app.register_blueprint(pages)
    _register_error_handlers(app)
    _register_request_logging(app)
    auth.install(app, service)  # after request logging: refusals are logged with their id
    for warning in settings.start_up_warnings():
        log.warning("%s: %s", "insecure default" if settings.development else "caution", warning)
    if settings.silent:
        log.warning("silent mode (CRS_CDS_MODE=silent): assessments are graded and recorded, no card is shown")
    log_event("start-up", service.summary())  # what runs, in one line, no secrets
    return app


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
        g.trace = tracing.begin(g.request_id, request.headers.get("traceparent"))

    @app.teardown_request
    def forget_trace(_: BaseException | None) -> None:
        token = g.pop("trace", None)
        if token is not None:
            tracing.end(token)

    @app.after_request
    def finish(response: Response) -> Response:
        rid = g.get("request_id") or request_id(None)
        response.headers["X-Request-Id"] = rid
        started = g.get("started")
        seconds = time.perf_counter() - started if started is not None else 0.0
        latency = round(seconds * 1000, 1) if started is not None else None
        rule = request.url_rule.rule if request.url_rule else None
        current_service().metrics.request(rule, g.get("service"), response.status_code, seconds)
        trace = tracing.current()
        log_request(requestId=rid, traceId=trace.trace_id if trace else None, method=request.method, route=rule,
                    service=g.get("service"), hook=g.get("hook"), hookInstance=g.get("hook_instance"),
                    status=response.status_code, latencyMs=latency, cards=g.get("cards"), grades=g.get("grades"),
                    error=g.get("error"), issuer=g.get("issuer"), authFailure=g.get("auth_failure"),
                    down=g.get("down"), mismatch=g.get("mismatch"), silent=g.get("silent"), client=g.get("client"),
                    epicTrigger=g.get("trigger"))
        return response

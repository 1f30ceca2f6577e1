"""Error responses: one JSON shape for every 4xx/5xx the service sends.

``{"error": <code>, "message": <sentence>, "requestId": <id>, "details": [{"path", "problem"}]}``
— ``details`` names the offending field so that an EHR integrator can fix a
request without reading our logs. Messages never echo request values: those
may be patient data or tokens.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..schemas import Problem


@dataclass(eq=False)
class ApiError(Exception):
    """An error the route turns into a JSON response with ``status``."""

    status: int
    error: str  # stable machine-readable code, e.g. "invalid-request"
    message: str
    details: list[Problem] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # additional top-level members

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def body(self, request_id: str | None) -> dict[str, Any]:
        return error_body(self.error, self.message, request_id, self.details, self.extra)


def error_body(error: str, message: str, request_id: str | None,
               details: list[Problem] | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": error, "message": message}
    if request_id:
        body["requestId"] = request_id
    if details:
        body["details"] = [d.as_json() for d in details]
    if extra:
        body.update(extra)
    return body


def invalid_json(message: str) -> ApiError:
    return ApiError(400, "invalid-json", message)


def invalid_request(problems: list[Problem]) -> ApiError:
    fields = ", ".join(dict.fromkeys(p.path for p in problems))
    return ApiError(400, "invalid-request", f"The request does not conform to CDS Hooks 2.0: check {fields}",
                    problems)


def precondition_failed(message: str, missing: dict[str, str]) -> ApiError:
    """412: required data neither prefetched nor fetchable (CDS Hooks SHALL)."""
    details = [Problem(f"prefetch.{key}", why) for key, why in missing.items()]
    return ApiError(412, "precondition-failed", message, details, {"missingPrefetch": list(missing)})

"""Structured request logging: one JSON line per request, no patient data.

A line carries what operations need to follow a call across the EHR and us —
request id, service, hook, hookInstance, status, latency, card uuids, the client
profile that shaped the answer (``client``) and Epic's trigger action
(``epicTrigger``), and ``mismatch`` ("0 of 57 resources for this patient") when
none of the patient data was the context patient's — and never patient ids, names,
resource contents, request values or tokens.
Exceptions are logged by type and code location only: their messages may
quote patient data.
"""
from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
import traceback
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LOGGER = logging.getLogger("crs_cds.request")
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_URL_QUOTING_LOGGERS = ("urllib3", "requests")  # e.g. urllib3's "Retrying ... /Patient/<id>"


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is now, and never prints a failed record's traceback:
    its exception chain may quote a FHIR URL, i.e. a patient id."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass

    def handleError(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):
            sys.stderr.write('{"event":"log-error","note":"a log line could not be written"}\n')


def configure_logging(level: str) -> None:
    """Send ``crs_cds`` logs to stderr as bare JSON lines (once per process)."""
    root = logging.getLogger("crs_cds")
    root.setLevel(level)
    if not any(getattr(h, "_crs_cds", False) for h in root.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler._crs_cds = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    for name in _URL_QUOTING_LOGGERS:  # their warnings quote request URLs, i.e. patient ids
        logging.getLogger(name).setLevel(logging.CRITICAL)


def request_id(incoming: str | None) -> str:
    """Reuse the caller's ``X-Request-Id`` when it is a harmless token, else make one."""
    if incoming and _SAFE_REQUEST_ID.match(incoming):
        return incoming
    return uuid.uuid4().hex


def _emit(level: int, fields: dict[str, Any]) -> None:
    if LOGGER.isEnabledFor(level):
        line = {"time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")}
        line.update({k: v for k, v in fields.items() if v is not None})
        LOGGER.log(level, json.dumps(line, separators=(",", ":"), ensure_ascii=False))


def log_event(event: str, fields: dict[str, Any], level: int = logging.INFO) -> None:
    """One JSON line for something other than a request (start-up summary, a store found down)."""
    _emit(level, {"event": event, **fields})


def log_request(**fields: Any) -> None:
    status = fields.get("status") or 0
    _emit(logging.ERROR if status >= 500 else logging.INFO, {"event": "request", **fields})


def log_exception(rid: str, exc: BaseException) -> None:
    """Type and innermost location of an unexpected exception; never its message."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = [f"{Path(f.filename).parent.name}/{Path(f.filename).name}:{f.lineno} in {f.name}"
             for f in frames[-3:]]
    _emit(logging.ERROR, {"event": "exception", "requestId": rid, "exception": type(exc).__name__,
                          "where": where})

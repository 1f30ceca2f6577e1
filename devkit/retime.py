"""Move a recorded CDS Hooks request to the present, for a service that grades "now".

The example requests pin their grading time with ``extension["crs-cds.now"]``,
which only development honours. Production grades at the real clock, where
the examples' readings are days old and no longer count. This shifts every
date-time in the request by (now − the pinned instant) and drops the pin, so
the request reads as if it had just been recorded. Dates without a time (a
birth date) are left alone.

    .venv/bin/python -m devkit.retime examples/patient-view-grade3.json > request.json
"""
from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from .fhirbuild import NOW

NOW_EXTENSION = "crs-cds.now"
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")


def _shift(value: Any, by: timedelta) -> Any:
    if isinstance(value, dict):
        return {key: _shift(item, by) for key, item in value.items()}
    if isinstance(value, list):
        return [_shift(item, by) for item in value]
    if isinstance(value, str) and _DATE_TIME.match(value):
        moved = datetime.fromisoformat(value.replace("Z", "+00:00")) + by
        return moved.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return value


def retimed(request: dict[str, Any], now: datetime) -> dict[str, Any]:
    """``request`` with its date-times moved so that its pinned instant (else ``fhirbuild.NOW``) is ``now``."""
    extension = dict(request.get("extension") or {})
    pinned = extension.pop(NOW_EXTENSION, None)
    anchor = datetime.fromisoformat(pinned.replace("Z", "+00:00")) if isinstance(pinned, str) else NOW
    moved = _shift({k: v for k, v in request.items() if k != "extension"}, now - anchor)
    if extension:
        moved["extension"] = extension
    return moved


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m devkit.retime REQUEST.json > request-now.json", file=sys.stderr)
        return 2
    with open(args[0], encoding="utf-8") as handle:
        request = json.load(handle)
    json.dump(retimed(request, datetime.now(UTC)), sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())

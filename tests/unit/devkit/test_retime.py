"""Moving a recorded request to the present (production grades at the real clock)."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from devkit import fhirbuild as fb
from devkit.retime import main, retimed
from tests.support.paths import EXAMPLES

LATER = datetime(2027, 3, 5, 8, 30, tzinfo=UTC)


def test_every_date_time_moves_with_the_pinned_instant_and_the_pin_goes() -> None:
    request = json.loads((EXAMPLES / "patient-view-grade3.json").read_text())
    moved = retimed(request, LATER)
    assert "crs-cds.now" not in moved.get("extension", {})
    shift = LATER - fb.NOW
    temps = {e["resource"]["id"]: e["resource"]["effectiveDateTime"]
             for e in moved["prefetch"]["observations"]["entry"] if "effectiveDateTime" in e["resource"]}
    before = {e["resource"]["id"]: e["resource"]["effectiveDateTime"]
              for e in request["prefetch"]["observations"]["entry"] if "effectiveDateTime" in e["resource"]}
    for rid, when in before.items():
        original = datetime.fromisoformat(when.replace("Z", "+00:00"))
        assert temps[rid] == (original + shift).isoformat(timespec="seconds").replace("+00:00", "Z")
    assert moved["prefetch"]["patient"]["birthDate"] == request["prefetch"]["patient"]["birthDate"]


def test_other_extensions_stay_and_a_request_without_a_pin_is_anchored_at_fhirbuild_now() -> None:
    request = {"extension": {"x": 1}, "context": {"t": fb.iso(fb.ago(hours=1))}}
    assert retimed(request, LATER) == {"context": {"t": fb.iso(LATER - timedelta(hours=1)).replace(".000", "")},
                                       "extension": {"x": 1}}


def test_the_command_line(tmp_path, capsys) -> None:
    assert main([]) == 2
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"extension": {"crs-cds.now": "2026-11-21T12:00:00Z"}, "t": "2026-11-21T11:00:00Z"}))
    assert main([str(path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"t"} and out["t"] != "2026-11-21T11:00:00Z"

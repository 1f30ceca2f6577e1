"""The ``crs-cds feedback report`` table: per card kind, issued, accepted, overridden, top reasons."""
from __future__ import annotations

from collections.abc import Iterator

from .store import KindReport


def format_report(reports: list[KindReport], top: int = 3) -> Iterator[str]:
    """Lines of the ``crs-cds feedback report`` table."""
    yield f"{'card kind':<24}{'issued':>8}{'accepted':>10}{'overridden':>12}  top override reasons"
    for r in reports:
        reasons = ", ".join(f"{reason} ({n})" for reason, n in r.override_reasons.most_common(top)) or "-"
        yield f"{r.card_kind:<24}{r.issued:>8}{r.accepted:>10}{r.overridden:>12}  {reasons}"

"""The ``crs-cds feedback report`` text: per card kind, issued, accepted (cards and suggestions),
overridden and the top reasons; feedback about cards the service never issued apart."""
from __future__ import annotations

from collections.abc import Iterator

from .store import FeedbackReport


def format_report(report: FeedbackReport, top: int = 3) -> Iterator[str]:
    """Lines of the ``crs-cds feedback report`` table."""
    yield (f"{'card kind':<24}{'issued':>8}{'accepted':>10}{'suggestions':>13}{'overridden':>12}"
           "  top override reasons")
    for r in report.kinds:
        reasons = ", ".join(f"{reason} ({n})" for reason, n in r.override_reasons.most_common(top)) or "-"
        yield (f"{r.card_kind:<24}{r.issued:>8}{r.accepted:>10}{r.suggestions_accepted:>13}{r.overridden:>12}"
               f"  {reasons}")
    if report.unknown_accepted or report.unknown_overridden:
        yield ""
        yield (f"Feedback about cards this service never issued (stored, flagged): accepted "
               f"{report.unknown_accepted}, overridden {report.unknown_overridden}")

"""The ``crs-cds feedback report`` text: per card kind, issued, accepted (cards and suggestions),
overridden and the top reasons; feedback about cards the service never issued apart; and the
assessments silent mode recorded, by grade, to set beside the grades clinicians documented."""
from __future__ import annotations

from collections import Counter
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
    if report.silent:
        yield ""
        yield "Silent mode (CRS_CDS_MODE=silent): assessments recorded, no card shown"
        yield f"{'grade':<24}{'assessments':>12}"
        rows: Counter[str] = Counter()
        for (status, grade), n in report.silent.items():
            rows[f"grade {grade}" if status == "graded" else status] += n
        for label in sorted(rows, key=lambda r: (not r.startswith("grade "), r)):
            yield f"{label:<24}{rows[label]:>12}"

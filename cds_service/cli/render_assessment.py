"""An assessment as JSON or as a plain-text table, for ``crs-cds grade``.

The card layer has its own machine-readable form (``cards.assessment_extension``);
this one is for an integrator checking an EHR's data mapping offline, so it
also carries every piece of evidence with its FHIR source and time.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cards import evidence_json, instant
from cards.wording import evidence, findings
from clinical import Assessment, IcansAssessment


def assessment_to_json(a: Assessment) -> dict[str, Any]:
    index = a.index_therapy
    return {
        "system": a.system,
        "status": a.status,
        "now": instant(a.now),
        "grade": a.grade,
        "worstGrade": a.worst_grade,
        "lowerBound": a.lower_bound,
        "hypotensionGrade": a.hypotension_grade,
        "hypoxiaGrade": a.hypoxia_grade,
        "feverPresent": a.fever_present,
        "masked": a.masked,
        "onset": instant(a.onset),
        "indexTherapy": None if index is None else {
            "drug": index.drug, "display": index.display, "start": instant(index.start), "source": index.source},
        "drivers": [findings.driver(d) for d in a.drivers],
        "missing": [findings.missing(m) for m in a.missing],
        "notes": [findings.note(n, a.now) for n in a.notes],
        "evidence": _evidence_json(a),
        **({"icans": icans_to_json(a.icans)} if a.icans is not None else {}),
    }


def icans_to_json(a: IcansAssessment) -> dict[str, Any]:
    return {
        "system": a.system, "status": a.status, "grade": a.grade, "worstGrade": a.worst_grade,
        "lowerBound": a.lower_bound, "onset": instant(a.onset), "paediatric": a.paediatric,
        "drivers": [findings.driver(d) for d in a.drivers],
        "missing": [findings.missing(m) for m in a.missing],
        "notes": [findings.note(n, a.now) for n in a.notes],
        "evidence": _evidence_json(a),
    }


def _evidence_json(a: Assessment | IcansAssessment) -> list[dict[str, Any]]:
    return [evidence_json(e) for e in a.evidence]


def columns(header: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    return [indent + "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)).rstrip()
            for row in [header, *rows]]


def assessment_table(a: Assessment, *, patient_id: str) -> str:
    """The assessment as a clinician or integrator reads it in a terminal."""
    grade = "-" if a.grade is None else (f">= {a.grade} (lower bound: data missing)" if a.lower_bound else str(a.grade))
    facts = [("status", a.status), ("grade", grade),
             ("worst grade", "-" if a.worst_grade is None else str(a.worst_grade)),
             ("onset", instant(a.onset) or "-")]
    if a.index_therapy is not None:
        facts.append(("index therapy", f"{a.index_therapy.display} at {instant(a.index_therapy.start)} "
                                       f"({a.index_therapy.source})"))
    lines = [f"CRS assessment ({a.system}) of patient {patient_id} at {instant(a.now)}", ""]
    lines += [f"  {k:<14}{v}" for k, v in facts]
    if a.drivers:
        lines += ["", "Drivers", *[f"  - {findings.driver(d)}" for d in a.drivers]]
    if a.evidence:
        rows = [[e.role, e.what, evidence.value(e), instant(e.time) or "", e.source] for e in a.evidence]
        lines += ["", "Evidence", *columns(["role", "what", "value", "time", "source"], rows)]
    missing = [findings.missing(m) for m in a.missing]
    notes = [findings.note(n, a.now) for n in a.notes]
    for title, items in (("Missing", missing), ("Notes", notes)):
        if items:
            lines += ["", title, *[f"  - {item}" for item in items]]
    if a.icans is not None and a.icans.status != "not-eligible":
        lines += ["", *_icans_lines(a.icans)]
    return "\n".join(lines)


def _icans_lines(a: IcansAssessment) -> list[str]:
    grade = "-" if a.grade is None else (f">= {a.grade} (lower bound: data missing)" if a.lower_bound else str(a.grade))
    lines = [f"ICANS assessment ({a.system})", "", f"  {'status':<14}{a.status}", f"  {'grade':<14}{grade}",
             f"  {'worst grade':<14}{'-' if a.worst_grade is None else a.worst_grade}"]
    if a.drivers:
        lines += ["", "ICANS drivers", *[f"  - {findings.driver(d)}" for d in a.drivers]]
    if a.evidence:
        rows = [[e.role, e.what, evidence.value(e), instant(e.time) or "", e.source] for e in a.evidence]
        lines += ["", "ICANS evidence", *columns(["role", "what", "value", "time", "source"], rows)]
    for title, items in (("ICANS missing", [findings.missing(m) for m in a.missing]),
                         ("ICANS notes", [findings.note(n, a.now) for n in a.notes])):
        if items:
            lines += ["", title, *[f"  - {item}" for item in items]]
    return lines

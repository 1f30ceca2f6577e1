"""Text for ``crs-cds protocols list|show|validate``.

Lets a pharmacist read a protocol grade by grade exactly as the service will
apply it, and check an edited file before deploying it.
"""
from __future__ import annotations

from cards.wording.protocol import condition_text, dose_text, frequency_text, limits_text
from protocols import (
    DEFAULT_PROTOCOL_ID,
    PAEDIATRIC_PROTOCOL_ID,
    Protocol,
    ProtocolError,
    list_protocols,
    load_protocol,
    validate_file,
)
from protocols.model import Action, AdviceAction, MedicationAction, ServiceAction


def list_cmd() -> str:
    """One line per shipped protocol, marking the defaults."""
    rows = [["id", "version", "title"]]
    for s in list_protocols():
        mark = {DEFAULT_PROTOCOL_ID: " (default)", PAEDIATRIC_PROTOCOL_ID: " (paediatric)"}.get(s.id, "")
        rows.append([s.id + mark, s.version, s.title])
    return _table(rows)


def show_cmd(protocol_id: str) -> str:
    """A readable grade-by-grade table of a protocol, with every rule's source."""
    p = load_protocol(protocol_id)
    out = [f"{p.title}", f"id {p.id}, version {p.version}", ""]
    if p.description:
        out += [p.description.strip(), ""]
    out.append(f"Weight for mg/kg doses: most recent within {p.settings.weight_max_age_days} days; "
               f"height for mg/m²: within {p.settings.height_max_age_days} days.")
    for limits in p.settings.repeat_limits.values():
        since = " (since the index therapy)" if limits.max_doses_since_index_therapy is not None else ""
        out.append(f"{limits.drug}: {limits_text(limits)}{since} [{limits.source.label}]")
    for choice in p.regimens.values():
        out.append(f"Regimens for {choice.name} (selected: {choice.selected}):")
        for key, o in choice.options.items():
            mark = "*" if key == choice.selected else " "
            out.append(f"  {mark} {key}: {dose_text(o.dose)} {o.route} {frequency_text(o.frequency)} — {o.label}")
    out.append("")
    sections = [("All grades", p.all_grades)] + [(f"Grade {g}: {r.title}", r.actions) for g, r in p.grades.items()]
    for title, actions in sections:
        out += [title, _actions_table(p, actions), ""]
    out.append("Warnings")
    out.append(_table([["warning", "when", "source"]] + [
        [w.text, _when(w.when), w.source.label] for w in p.warnings]))
    return "\n".join(out)


def validate_cmd(path: str) -> tuple[bool, str]:
    """(True, summary) for a usable file, else (False, every problem with file:line and JSON path)."""
    problems = validate_file(path)
    if problems:
        return False, "\n".join(problems)
    try:
        p = load_protocol(path)
    except ProtocolError as err:  # e.g. an unknown id given instead of a path
        return False, str(err)
    n = sum(len(r.actions) for r in p.grades.values()) + len(p.all_grades)
    return True, f"{path}: valid protocol '{p.id}' version {p.version} ({n} actions, {len(p.warnings)} warnings)"


def _actions_table(p: Protocol, actions: tuple[Action, ...]) -> str:
    rows = [["kind", "action", "when", "rec.", "group", "source"]]
    for a in actions:
        rows.append([a.kind, _describe(p, a), _when(a.when) + _upgrade(a), _recommended(a),
                     getattr(a, "alternative_group", None) or "", a.source.label])
        if isinstance(a, MedicationAction) and a.if_exhausted:
            rows.append(["", f"  after the last allowed dose: {a.if_exhausted.text}", "", "", "", ""])
            for step in a.if_exhausted.actions:
                rows.append(["", f"  → {_describe(p, step)}", _when(step.when), _recommended(step),
                             getattr(step, "alternative_group", None) or "", step.source.label])
    return _table(rows)


def _describe(p: Protocol, a: Action) -> str:
    if isinstance(a, MedicationAction):
        limits = p.settings.repeat_limits.get(a.drug.key)
        text = f"{a.drug.display} {dose_text(a.dose)} {a.route} {frequency_text(a.frequency, repeatable=bool(limits))}"
        if a.duration:
            text += f", {a.duration}"
        if a.regimen:
            text += f" [{a.regimen.label}]"
        return text.strip()
    if isinstance(a, ServiceAction):
        codes = ", ".join(f"{c.code}" for c in a.codes)
        return a.text + (f" [{codes}]" if codes else "")
    assert isinstance(a, AdviceAction)
    return a.text


def _when(conditions) -> str:
    return " and ".join(condition_text(c) for c in conditions) or "always"


def _upgrade(a: Action) -> str:
    if isinstance(a, MedicationAction) and a.recommended_when:
        return f"; ordered only if {_when(a.recommended_when)} (then recommended)"
    return ""


def _recommended(a: Action) -> str:
    if isinstance(a, AdviceAction):
        return ""
    return "yes" if a.recommended else "no"


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)).rstrip() for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)

"""Text for ``crs-cds orderables check``: every orderable action of a protocol and the site's orderable
for it in one client, or ``UNMAPPED``.

The integration engineer builds the map with the site's analysts (Epic preference-list items and
order sets); this lists what is left to map, so a missing entry is found before go-live, not when a
suggested order opens the wrong orderable.
"""
from __future__ import annotations

from cards.profiles import Orderable, Orderables, mapping_of, orderable_actions
from protocols import Protocol
from protocols.model import MedicationAction, ServiceAction


def check_lines(protocol: Protocol, orderables: Orderables, client: str) -> tuple[list[str], int]:
    """The listing for ``protocol`` in ``client``, and how many actions (or codes) are unmapped."""
    rows: list[list[str]] = []
    unmapped = mapped = 0
    actions = orderable_actions(protocol)
    for action in actions:
        parts = mapping_of(orderables, client, action)
        mapped += all(entry is not None for _, entry in parts)
        for code, entry in parts:
            unmapped += entry is None
            rows.append([action.id, _what(action, code), _entry(entry, action)])
    head = (f"protocol {protocol.id} v{protocol.version}, client {client}: {mapped} of {len(actions)} orderable "
            "actions mapped")
    width = [max(len(r[i]) for r in rows) if rows else 0 for i in range(2)]
    return [head, *(f"  {r[0]:<{width[0]}}  {r[1]:<{width[1]}}  {r[2]}" for r in rows)], unmapped


def _what(action: MedicationAction | ServiceAction, code: str | None) -> str:
    if isinstance(action, MedicationAction):
        return f"medication {action.drug.key} {action.route}"
    shown = code or (action.codes[0].code if len(action.codes) == 1 else f"{len(action.codes)} codes")
    return f"service {shown}"


def _entry(entry: Orderable | None, action: MedicationAction | ServiceAction) -> str:
    if entry is None:
        return "UNMAPPED"
    text = f"{entry.system}|{entry.code}" + (f" {entry.display!r}" if entry.display else "")
    if entry.action != action.id:
        text += f" (by drug {entry.action})"
    elif isinstance(action, ServiceAction) and len(action.codes) > 1 and entry.protocol_code is None:
        text += " (one order for all its codes)"
    return f"{text}  [{entry.where}]"

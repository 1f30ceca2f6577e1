"""The site's orderables map: which of its own orderables (preference-list items, order sets) each
protocol action or drug is, per client profile (``CRS_CDS_ORDERABLES_FILE``).

Epic creates an order from its own order record and needs the site's code to find the right one
(``urn:com.epic.cdshooks.action.code.system.preference-list-item`` or ``...orderset-item``); only the
hospital can build that mapping. The mapped coding goes first in the order's code, next to the
standard codes. An entry names a protocol action id or a drug key (an action id wins over its
drug); ``protocolCode`` narrows an entry to one code of a service action that orders several (one
lab of a panel), and without it an entry for such an action orders them all as one order set.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from protocols import Protocol
from protocols.model import Action, MedicationAction, ServiceAction

PREFERENCE_LIST_ITEM = "urn:com.epic.cdshooks.action.code.system.preference-list-item"
ORDERSET_ITEM = "urn:com.epic.cdshooks.action.code.system.orderset-item"


@dataclass(frozen=True, slots=True)
class Orderable:
    """One entry: the site's orderable for a protocol action (or every action of a drug) in one client."""

    action: str  # a protocol action id or a drug key
    client: str
    system: str
    code: str
    display: str | None = None
    protocol_code: str | None = None  # this entry stands for one code of a multi-code service action
    where: str = ""  # file:line of the entry

    def coding(self) -> dict[str, Any]:
        coding = {"system": self.system, "code": self.code}
        return {**coding, "display": self.display} if self.display else coding

    @property
    def order_set(self) -> bool:
        return self.system == ORDERSET_ITEM


class Orderables:
    """The site's entries, looked up by client, action id (and protocol code) or drug."""

    def __init__(self, entries: Iterable[Orderable] = (), source: str | None = None) -> None:
        self.entries = tuple(entries)
        self.source = source
        self._by_key = {(e.client, e.action, e.protocol_code): e for e in self.entries}

    def find(self, client: str, action_id: str | None, drug: str | None = None,
             code: str | None = None) -> Orderable | None:
        """The entry for one order: the action's code, then the whole action, then the drug."""
        for key in ((action_id, code), (action_id, None), (drug, None)):
            found = self._by_key.get((client, key[0], key[1])) if key[0] is not None else None
            if found is not None:
                return found
        return None

    def clients(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(e.client for e in self.entries))

    def __len__(self) -> int:
        return len(self.entries)


NO_ORDERABLES = Orderables()


def orderable_actions(protocol: Protocol) -> tuple[MedicationAction | ServiceAction, ...]:
    """Every action of ``protocol`` that can become an order (a medication with a dose rule, a service
    with codes), once each, in file order: grades, pathways, ICANS and escalations."""
    found: dict[str, MedicationAction | ServiceAction] = {}
    for action in _every_action(protocol):
        if action.id in found:
            continue
        dosed = isinstance(action, MedicationAction) and action.dose.basis != "unspecified"
        if dosed or (isinstance(action, ServiceAction) and action.codes):
            found[action.id] = action
    return tuple(found.values())


def _every_action(protocol: Protocol) -> Iterator[Action]:
    sections = [protocol.crs_section(None), *(p.section for p in protocol.pathways.values())]
    if protocol.icans is not None:
        sections.append(protocol.icans.section)
    pending: list[Action] = []
    for section in sections:
        pending += section.all_grades
        for rules in section.grades.values():
            pending += rules.actions
    while pending:
        action = pending.pop(0)
        yield action
        if isinstance(action, MedicationAction) and action.if_exhausted is not None:
            pending += action.if_exhausted.actions


@dataclass(frozen=True, slots=True)
class EntryProblem:
    """What is wrong with entry ``index`` (its ``field``), for the loader to place at file:line."""

    index: int
    field: str
    message: str


def entry_problems(orderables: Orderables, protocols: Sequence[Protocol]) -> list[EntryProblem]:
    """Entries that name no action or drug of the configured protocols, a code the action does not
    order, an order set for a medication, or the same order twice."""
    actions = {a.id: a for p in protocols for a in orderable_actions(p)}
    drugs = {key for p in protocols for key in p.drugs}
    names = ", ".join(p.id for p in protocols)
    problems: list[EntryProblem] = []
    seen: dict[tuple[str, str, str | None], int] = {}
    for i, e in enumerate(orderables.entries):
        action = actions.get(e.action)
        if action is None and e.action not in drugs:
            problems.append(EntryProblem(i, "action", f"{e.action!r} is neither an orderable action id nor a drug "
                                                      f"of protocol {names} (crs-cds orderables check lists them)"))
            continue
        medication = isinstance(action, MedicationAction) or (action is None and e.action in drugs)
        if e.protocol_code is not None and not (isinstance(action, ServiceAction)
                                                and e.protocol_code in {c.code for c in action.codes}):
            problems.append(EntryProblem(i, "protocolCode", f"{e.protocol_code!r} is not one of the codes "
                                                            f"action {e.action!r} orders"))
        if medication and e.order_set:
            problems.append(EntryProblem(i, "system", "an order set (orderset-item) orders services, not a "
                                                      f"medication: use a preference-list item for {e.action!r}"))
        key = (e.client, e.action, e.protocol_code)
        if key in seen:
            problems.append(EntryProblem(i, "action", f"{e.action!r} is mapped twice for client {e.client} "
                                                      f"(also entry {seen[key]})"))
        seen.setdefault(key, i)
    return problems


def mapping_of(orderables: Orderables, client: str, action: MedicationAction | ServiceAction
               ) -> list[tuple[str | None, Orderable | None]]:
    """What ``crs-cds orderables check`` lists for one action: (protocol code or None, its entry or None).
    A service ordering several codes is mapped as a whole, or code by code."""
    drug = action.drug.key if isinstance(action, MedicationAction) else None
    whole = orderables.find(client, action.id, drug)
    if whole is not None or not isinstance(action, ServiceAction) or len(action.codes) < 2:
        return [(None, whole)]
    return [(c.code, orderables.find(client, action.id, code=c.code)) for c in action.codes]

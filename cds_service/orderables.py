"""Read the site's orderables map (``CRS_CDS_ORDERABLES_FILE``) once at start-up, and check it.

YAML or JSON, validated against ``schemas/orderables.schema.json``, then against the protocols the
service runs: an entry naming an action or drug the protocols do not have, a code an action does
not order, an order set for a medication or the same order mapped twice stops start-up with
file:line, path and problem, like a bad protocol file.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cards.profiles import Orderable, Orderables, entry_problems
from protocols import Protocol

from .schemas import Problem
from .sitefiles import SiteFileError, read_site_file


class OrderablesError(ValueError):
    """The orderables file cannot be used; ``problems`` are ``file:line: path: problem`` lines."""

    def __init__(self, *problems: str) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def load_orderables(path: str | Path, protocols: Sequence[Protocol]) -> Orderables:
    """The entries of ``path``, checked against ``protocols`` (every protocol the service runs)."""
    try:
        site = read_site_file(path, "orderables file")
        site.checked("orderables")
    except SiteFileError as exc:
        raise OrderablesError(*exc.problems) from None
    entries = [Orderable(e["action"], e["client"], e["system"], e["code"], e.get("display"), e.get("protocolCode"),
                         site.where(("orderables", i)))
               for i, e in enumerate(site.data["orderables"])]
    orderables = Orderables(entries, str(path))
    problems = entry_problems(orderables, protocols)
    if problems:
        raise OrderablesError(*site.located(
            Problem(f"orderables[{p.index}].{p.field}", p.message, ("orderables", p.index, p.field))
            for p in problems))
    return orderables

"""The typed values one call's generic cards were built from, for a profile to word its own texts.

A profile that says something else than the generic card (Epic's whole order in an action's
description, Oracle Health's evidence lines) words it from these values through
``cards.wording``; it never reads the generic card's sentences back. A suggestion is matched to
its recommendation by its ``crs-cds.order`` extension, which ``order_extension`` wrote from it.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from clinical import Assessment
from protocols import MedicationRecommendation, Recommendations, ServiceRecommendation
from protocols.findings import OrderFinding
from protocols.model import Drug

from ..order_cards import ORDER_CHECK_EXTENSION
from ..suggestions import order_extension

Orderable = MedicationRecommendation | ServiceRecommendation
ALTERNATIVES_EXTENSION = "crs-cds.alternatives"


def alternatives_group(body: Mapping[str, Any]) -> str | None:
    """The exclusive group a card of mutually exclusive orders offers (``crs-cds.alternatives``), else None."""
    group = ((body.get("extension") or {}).get(ALTERNATIVES_EXTENSION) or {}).get("group")
    return group if isinstance(group, str) else None


@dataclass(frozen=True, slots=True)
class CardSubjects:
    """What the cards say, as values: the assessment, the protocol's recommendations (CRS, ICANS) or the
    order-check findings, the protocol's version and drugs."""

    protocol_version: str | None = None
    assessment: Assessment | None = None
    sections: tuple[Recommendations, ...] = ()
    findings: tuple[OrderFinding, ...] = ()
    drugs: Mapping[str, Drug] = field(default_factory=dict)

    def order(self, extension: object) -> Orderable | None:
        """The recommendation a suggestion's ``crs-cds.order`` extension was written from."""
        if not isinstance(extension, Mapping):
            return None
        for recs in self.sections:
            for r in recs.items:
                if isinstance(r, MedicationRecommendation | ServiceRecommendation) and r.orderable \
                        and _same(order_extension(r), extension):
                    return r
        return None

    def section_of(self, group: str) -> Recommendations | None:
        """The section whose options form the exclusive ``group``."""
        return next((recs for recs in self.sections if recs.alternatives(group)), None)

    def finding(self, body: Mapping[str, Any]) -> OrderFinding | None:
        """The order-check finding a card reports (its ``crs-cds.order-check``: order reference and kind)."""
        check = (body.get("extension") or {}).get(ORDER_CHECK_EXTENSION) or {}
        return next((f for f in self.findings
                     if f.order.reference == check.get("order") and f.kind == check.get("kind")), None)


def _same(written: dict[str, Any], found: Mapping[str, Any]) -> bool:
    """A suggestion's extension (a profile may narrow a service's ``code``) against the recommendation's."""
    if "service" in written:
        return written["service"] == found.get("service") and written["codes"] == found.get("codes")
    return written == dict(found)

"""What each kind of CDS client supports: client profiles as data.

The reference sandbox follows the CDS Hooks text; Epic and Oracle Health do not
(``shared/ehr-notes.md``). A profile states, as plain fields, what one kind of
client does with a response, and ``shaping`` applies the fields to the generic
cards. Grading and protocols never know which EHR is calling.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
RXNORM_OID = "urn:oid:2.16.840.1.113883.6.88"  # RxNorm as Epic's order-create API names it
EPIC_REQUEST_EXTENSION = "com.epic.cdshooks.request."
EPIC_TRIGGER = "com.epic.cdshooks.request.bpa-trigger-action"  # which native Epic trigger fired patient-view


@dataclass(frozen=True, slots=True)
class ClientProfile:
    """What one kind of CDS client supports, and so how its responses are shaped."""

    name: str
    selection_behaviors: frozenset[str] = frozenset({"any", "at-most-one"})
    one_action_per_suggestion: bool = False  # Epic: "only supports a single action per suggestion"
    action_types: frozenset[str] = frozenset({"create", "update", "delete"})
    # The client creates an order from its own order record's defaults and ignores the resource's dose
    # (Epic): each action's description must state the whole order for the clinician to set.
    orders_from_own_defaults: bool = False
    rxnorm_systems: tuple[str, ...] = (RXNORM,)  # how a medication order names its RxNorm code, in order
    alphanumeric_topics: bool = False  # Epic: source.topic.code alphanumeric, <= 100, stable per content
    markdown_tables: bool = True  # Oracle Health: a sidebar ~1/8 of the screen wide; tables do not fit
    critical_from_grade: int | None = None  # Oracle Health pops critical cards up: only for grade >= this
    link_app_context: bool = True  # Oracle Health: appContext not supported


GENERIC = ClientProfile("generic")
EPIC = ClientProfile("epic", selection_behaviors=frozenset({"any"}), one_action_per_suggestion=True,
                     action_types=frozenset({"create", "delete"}), orders_from_own_defaults=True,
                     rxnorm_systems=(RXNORM_OID, RXNORM), alphanumeric_topics=True)
ORACLE_HEALTH = ClientProfile("oracle-health", markdown_tables=False, critical_from_grade=3, link_app_context=False)
PROFILES: Mapping[str, ClientProfile] = {p.name: p for p in (GENERIC, EPIC, ORACLE_HEALTH)}
CLIENTS = tuple(PROFILES)


def detected_client(extension: object) -> str | None:
    """``epic`` when the request carries Epic's ``com.epic.cdshooks.request.*`` extensions, else None."""
    if isinstance(extension, Mapping) and any(isinstance(k, str) and k.startswith(EPIC_REQUEST_EXTENSION)
                                              for k in extension):
        return "epic"
    return None


def choose_client(issuer_client: str | None, configured: str | None, extension: object) -> str:
    """The profile for one call: the verified issuer's ``client``; for a call without one (development
    only) ``CRS_CDS_CLIENT``, else what the request's extensions show, else ``generic``."""
    if issuer_client is not None:
        return issuer_client
    return configured or detected_client(extension) or GENERIC.name

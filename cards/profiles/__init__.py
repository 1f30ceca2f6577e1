"""Client profiles: what each kind of CDS client (generic, Epic, Oracle Health) supports, and the shaping
that finishes the generic cards for it, with the site's orderables map."""
from .clients import CLIENTS, EPIC, EPIC_TRIGGER, GENERIC, ORACLE_HEALTH, PROFILES, ClientProfile, choose_client
from .orderables import (
    NO_ORDERABLES,
    ORDERSET_ITEM,
    PREFERENCE_LIST_ITEM,
    EntryProblem,
    Orderable,
    Orderables,
    entry_problems,
    mapping_of,
    orderable_actions,
)
from .shaping import ClientShaping
from .subjects import CardSubjects
from .topics import topic_code

__all__ = ["CLIENTS", "EPIC", "EPIC_TRIGGER", "GENERIC", "NO_ORDERABLES", "ORACLE_HEALTH", "ORDERSET_ITEM",
           "PREFERENCE_LIST_ITEM", "PROFILES", "CardSubjects", "ClientProfile", "ClientShaping", "EntryProblem",
           "Orderable", "Orderables", "choose_client", "entry_problems", "mapping_of", "orderable_actions",
           "topic_code"]

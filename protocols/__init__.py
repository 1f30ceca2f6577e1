"""Institution CRS protocols as validated data, and the dose engine that applies them.

Pure: no Flask, requests or fhir.resources, no clock. Entry points::

    protocol = load_protocol(select_protocol(settings_id, paediatric_id, snapshot.age_years(now)))
    recs = recommend(assessment, snapshot, protocol, now, pending=())
"""
from .history import PendingDose
from .loader import (
                     DEFAULT_PROTOCOL_ID,
                     PAEDIATRIC_PROTOCOL_ID,
                     ProtocolError,
                     ProtocolSummary,
                     list_protocols,
                     load_protocol,
                     select_protocol,
)
from .model import Citation, Code, Protocol
from .recommend import recommend
from .recommendation import Recommendation, Recommendations

__all__ = [
    "DEFAULT_PROTOCOL_ID", "PAEDIATRIC_PROTOCOL_ID", "Citation", "Code", "PendingDose", "Protocol", "ProtocolError",
    "ProtocolSummary", "Recommendation", "Recommendations", "list_protocols", "load_protocol", "recommend",
    "select_protocol",
]

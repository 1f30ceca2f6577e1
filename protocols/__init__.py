"""Institution CRS protocols as validated data, and the dose engine that applies them.

Pure: no Flask, requests or fhir.resources, no clock. Entry points::

    registry = ProtocolRegistry.load(default_id_or_path, paediatric_id_or_path, adult_age_years=18)
    protocol = registry.for_age(snapshot.age_years(now))
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
                     validate_file,
)
from .model import Citation, Code, Protocol
from .recommend import recommend
from .recommendation import Recommendation, Recommendations
from .registry import ProtocolRegistry

__all__ = [
    "DEFAULT_PROTOCOL_ID", "PAEDIATRIC_PROTOCOL_ID", "Citation", "Code", "PendingDose", "Protocol", "ProtocolError",
    "ProtocolRegistry", "ProtocolSummary", "Recommendation", "Recommendations", "list_protocols", "load_protocol",
    "recommend", "validate_file",
]

"""Institution CRS protocols as validated data, and the dose engine that applies them.

Pure: no Flask, requests or fhir.resources, no clock. Entry points::

    registry = ProtocolRegistry.load(default_id_or_path, paediatric_id_or_path, adult_age_years=18)
    protocol = registry.for_age(snapshot.age_years(now))
    recs = recommend(assessment, snapshot, protocol, now, grading=grading_config, pending=())
    icans_recs = recommend_icans(assessment, snapshot, protocol, now, grading=grading_config)
    findings = order_checks.check_orders(orders, assessment=..., protocol=..., grading=..., now=now, ...)

What comes out is typed (recommendation variants, dose steps, condition reasons, repeat
verdicts, order findings); ``cards.wording`` alone turns it into words.
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
from .recommend import recommend, recommend_icans
from .recommendation import (
                             AdviceRecommendation,
                             MedicationRecommendation,
                             ProtocolNote,
                             Recommendation,
                             Recommendations,
                             ServiceRecommendation,
                             WarningRecommendation,
)
from .registry import ProtocolRegistry

__all__ = [
    "DEFAULT_PROTOCOL_ID", "PAEDIATRIC_PROTOCOL_ID", "AdviceRecommendation", "Citation", "Code",
    "MedicationRecommendation", "PendingDose", "Protocol", "ProtocolError", "ProtocolNote", "ProtocolRegistry",
    "ProtocolSummary", "Recommendation", "Recommendations", "ServiceRecommendation", "WarningRecommendation",
    "list_protocols", "load_protocol", "recommend", "recommend_icans", "validate_file",
]

"""CDS Hooks cards: assessments, recommendations and order findings turned into cards."""
from .assessment_card import assessment_card, needs_card, patient_view_cards
from .card import Card
from .extension import assessment_extension, evidence_json, instant
from .order_cards import order_cards
from .orders import validate_order_builders

__all__ = ["Card", "assessment_card", "assessment_extension", "evidence_json", "instant", "needs_card", "order_cards",
           "patient_view_cards", "validate_order_builders"]

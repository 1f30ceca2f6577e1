"""CDS Hooks cards: turn assessments (and later recommendations) into cards."""
from .assessment_card import assessment_card, assessment_extension, needs_card, patient_view_cards

__all__ = ["assessment_card", "assessment_extension", "needs_card", "patient_view_cards"]

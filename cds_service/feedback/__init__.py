"""Feedback: parsing CDS Hooks feedback, the store of issued cards and outcomes, the report."""
from .parse import InvalidFeedback, parse_feedback
from .report import format_report
from .retention import Retention
from .store import (
    Feedback,
    FeedbackReceipt,
    FeedbackReport,
    FeedbackStore,
    IssuedCard,
    KindReport,
    SilentAssessment,
    SqlFeedbackStore,
    StoreUnavailable,
)

__all__ = ["Feedback", "FeedbackReceipt", "FeedbackReport", "FeedbackStore", "InvalidFeedback", "IssuedCard",
           "KindReport", "Retention", "SilentAssessment", "SqlFeedbackStore", "StoreUnavailable", "format_report",
           "parse_feedback"]

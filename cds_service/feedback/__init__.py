"""Feedback: parsing CDS Hooks feedback, the store of issued cards and outcomes, the report."""
from .parse import InvalidFeedback, parse_feedback
from .report import format_report
from .store import Feedback, FeedbackStore, IssuedCard, KindReport, SqlFeedbackStore

__all__ = ["Feedback", "FeedbackStore", "InvalidFeedback", "IssuedCard", "KindReport", "SqlFeedbackStore",
           "format_report", "parse_feedback"]

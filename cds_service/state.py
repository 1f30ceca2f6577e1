"""Per-app objects the routes need: settings, the clock, the fetcher."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from flask import current_app

from .feedback_store import FeedbackStore
from .fetch import FhirFetcher
from .settings import Settings

EXTENSION_KEY = "crs_cds"


@dataclass(frozen=True, slots=True)
class ServiceState:
    settings: Settings
    clock: Callable[[], datetime]  # the only clock in the service; tests pin it
    fetcher: FhirFetcher
    feedback_store: FeedbackStore | None = None  # issued cards and feedback on them


def service_state() -> ServiceState:
    return current_app.extensions[EXTENSION_KEY]

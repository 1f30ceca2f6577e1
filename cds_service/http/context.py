"""The service the app was built for, as the request handlers reach it."""
from __future__ import annotations

from flask import current_app

from ..bootstrap import Service

EXTENSION_KEY = "crs_cds"


def current_service() -> Service:
    service: Service = current_app.extensions[EXTENSION_KEY]
    return service

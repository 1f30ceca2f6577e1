"""The service the app was built for, as the request handlers reach it."""
from __future__ import annotations

from flask import current_app, request

from ..bootstrap import Service

EXTENSION_KEY = "crs_cds"


def current_service() -> Service:
    service: Service = current_app.extensions[EXTENSION_KEY]
    return service


def public_url(path: str) -> str:
    """``path`` on this service as the EHR and browsers reach it: ``CRS_CDS_PUBLIC_BASE_URL`` behind
    a proxy, else the URL this request came to."""
    base = current_service().settings.security.public_base_url or request.url_root.rstrip("/")
    return base + path

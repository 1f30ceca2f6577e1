"""Showing a configured URL to an operator without its secrets.

Start-up errors, the start-up summary, ``/ready`` and ``feedback report`` name
the database or Redis they talk to, so that an operator can tell which one is
meant; a ``postgresql://user:password@host/db`` URL must not put the password in
a log. Only scheme, host, port and path are kept.
"""
from __future__ import annotations

from urllib.parse import urlsplit


def display_url(url: str) -> str:
    """``postgresql://crs:secret@db:5432/crs?sslmode=require`` -> ``postgresql://db:5432/crs``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "(unparsable URL)"
    if not parts.scheme or not parts.hostname:
        return url.split("?", 1)[0] if "@" not in url else "(URL hidden)"
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    netloc = f"{host}:{port}" if port else host
    return f"{parts.scheme}://{netloc}{parts.path}"

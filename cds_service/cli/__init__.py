"""CLI: ``crs-cds serve | grade | protocols | feedback | dev-issuer | dev-token`` and the renderers of their text."""
from .main import build_parser, main

__all__ = ["build_parser", "main"]

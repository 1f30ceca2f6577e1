"""HTTP: the Flask app, routes, errors, request validation and limits, CORS, JWT glue, request log."""
from .app import create_app

__all__ = ["create_app"]

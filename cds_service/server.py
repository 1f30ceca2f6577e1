"""Run the app under gunicorn from Python (``crs-cds serve``).

Programmatic rather than a ``gunicorn`` command line so that the app factory
receives the validated ``Settings`` object and ``make serve`` needs no
gunicorn configuration file.
"""
from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from .settings import Settings


class CdsServer(BaseApplication):
    """gunicorn application that builds the Flask app with ``create_app``."""

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key, value)

    def load(self) -> Any:
        from .app import create_app

        return create_app(self.settings)


def gunicorn_options(settings: Settings, *, host: str, port: int, workers: int) -> dict[str, Any]:
    return {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        "preload_app": True,  # build the app once in the master: configuration errors stop start-up
        "timeout": 30,
        "loglevel": settings.log_level.lower(),
        "accesslog": None,  # our request log replaces it (and never logs query strings)
        "errorlog": "-",
        "proc_name": "crs-cds",
    }


def run_gunicorn(settings: Settings, *, host: str, port: int, workers: int) -> None:
    CdsServer(settings, gunicorn_options(settings, host=host, port=port, workers=workers)).run()

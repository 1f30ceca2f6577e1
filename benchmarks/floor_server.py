"""The floor: a Flask endpoint that only reads the request body, under the service's gunicorn settings.

Run by ``benchmarks/bench_http.py`` next to ``crs-cds serve``:
``python benchmarks/floor_server.py --port 8091 --workers 2 --threads 1``.

It parses the body with the service's own parser (``json_text.loads``: one orjson
pass with the depth limit) and answers ``{"cards": []}`` with the service's JSON
provider, so the service's time over this one is everything the service does
beyond reading the bytes: validation, mapping, grading, protocol, cards, logs.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request
from gunicorn.app.base import BaseApplication

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cds_service import json_text
from cds_service.http.json_provider import OrjsonProvider
from cds_service.http.routes import free_after_sending
from cds_service.http.server import gunicorn_options, tune_gc
from cds_service.settings import Settings


def floor_app(max_depth: int) -> Flask:
    app = Flask("floor")
    app.json = OrjsonProvider(app)

    @app.post("/cds-services/<service_id>")
    def parse_only(service_id: str) -> Response:
        body = json_text.loads(request.get_data(cache=False), max_depth=max_depth)
        assert isinstance(body, dict)
        response = jsonify({"cards": []})
        free_after_sending(response, body)  # as the service does
        return response

    return app


class FloorServer(BaseApplication):
    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.app, self.options = app, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key, value)

    def load(self) -> Flask:
        tune_gc()
        return self.app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    settings = Settings.from_env()
    options = gunicorn_options(settings, host="127.0.0.1", port=args.port, workers=args.workers,
                               threads=args.threads)
    options["proc_name"] = "crs-cds-floor"
    FloorServer(floor_app(settings.security.max_json_depth), options).run()


if __name__ == "__main__":
    main()

"""Flask's JSON, read and written with orjson: one fast library for request and response bodies."""
from __future__ import annotations

from typing import Any

import orjson
from flask import Response
from flask.json.provider import JSONProvider

from .. import json_text


class OrjsonProvider(JSONProvider):
    """``jsonify`` and ``request.get_json`` through orjson (UTF-8, key order kept, compact)."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return orjson.dumps(obj).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return json_text.loads(s.encode() if isinstance(s, str) else s)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        body = orjson.dumps(self._prepare_response_obj(args, kwargs))
        return self._app.response_class(body, mimetype="application/json")

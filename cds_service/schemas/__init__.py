"""JSON Schemas of what callers send us, and one validator that names each bad field.

The schemas (Draft 2020-12) are written from the specifications: the CDS Hooks
2.0 service request and feedback body, and our issuers file. This module
turns jsonschema's errors into ``Problem``s that name the field in dotted form
(``context.patientId``) and say what is wrong without echoing the submitted
value (it may be patient data or a token). Validators are compiled once, at
import.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

SCHEMA_NAMES = ("request", "feedback", "issuers", "orderables")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a request or file: where (dotted path) and what."""

    path: str
    problem: str
    parts: tuple[str | int, ...] = field(default=(), compare=False)  # the path as keys and indexes (file lines)

    def as_json(self) -> dict[str, str]:
        return {"path": self.path, "problem": self.problem}


_JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer",
               float: "number", type(None): "null"}
_NO_NUL = "^[^\\u0000]*$"  # stored text: PostgreSQL refuses NUL in TEXT columns
# What a pattern means, by the field it constrains (the regex itself helps nobody).
_PATTERN_PROBLEMS = {
    "hookInstance": "must be a UUID, e.g. d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
    "fhirServer": "must be an absolute http(s) URL",
    "token_type": "must be 'Bearer'",
    "outcomeTimestamp": "must be an RFC 3339 date-time, e.g. 2026-11-21T12:00:00Z",
}


def _load(name: str) -> dict[str, Any]:
    text = resources.files(__package__).joinpath(f"{name}.schema.json").read_text(encoding="utf-8")
    schema = json.loads(text)
    Draft202012Validator.check_schema(schema)
    return schema


SCHEMAS: dict[str, dict[str, Any]] = {name: _load(name) for name in SCHEMA_NAMES}
_VALIDATORS = {name: Draft202012Validator(schema) for name, schema in SCHEMAS.items()}


def schema_problems(name: str, body: Any) -> list[Problem]:
    """Problems of ``body`` against ``schemas/{name}.schema.json``, sorted by field."""
    found: dict[tuple[str, str], Problem] = {}
    for error in _VALIDATORS[name].iter_errors(body):
        for problem in _problems(error):
            found.setdefault((problem.path, problem.problem), problem)
    return sorted(found.values(), key=lambda p: (p.path, p.problem))


def dotted(path: Iterable[Any]) -> str:
    """``['context', 'selections', 0]`` -> ``context.selections[0]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _json_type(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _problems(error: ValidationError) -> list[Problem]:
    where = list(error.absolute_path)
    keyword = error.validator
    if keyword == "required":
        present = error.instance if isinstance(error.instance, dict) else {}
        return [Problem(dotted([*where, name]), "is a required property", tuple(where))
                for name in error.validator_value if name not in present]
    if keyword == "dependentRequired":
        present = error.instance if isinstance(error.instance, dict) else {}
        return [Problem(dotted([*where, needed]), f"is required when {trigger} is present", tuple(where))
                for trigger, needs in error.validator_value.items() if trigger in present
                for needed in needs if needed not in present]
    path = dotted(where) or "(request body)"
    problems = _described(error, where, path)
    return [Problem(p.path, p.problem, tuple(where)) for p in problems]


def _described(error: ValidationError, where: list[Any], path: str) -> list[Problem]:
    keyword = error.validator
    if keyword == "type":
        expected = error.validator_value
        wanted = " or ".join(expected) if isinstance(expected, list) else expected
        return [Problem(path, f"must be of type {wanted} (got {_json_type(error.instance)})")]
    if keyword == "pattern":
        if error.validator_value == _NO_NUL:
            return [Problem(path, "must not contain NUL (\\u0000) characters")]
        name = next((p for p in reversed(where) if isinstance(p, str)), "")
        return [Problem(path, _PATTERN_PROBLEMS.get(name, "has an invalid format"))]
    if keyword == "minLength":
        return [Problem(path, "must not be empty")]
    if keyword in ("enum", "const"):
        allowed = error.validator_value if keyword == "enum" else [error.validator_value]
        return [Problem(path, "must be one of " + ", ".join(json.dumps(a) for a in allowed))]
    if keyword in ("minimum", "maximum"):
        return [Problem(path, f"must be at {'least' if keyword == 'minimum' else 'most'} {error.validator_value}")]
    return [Problem(path, f"violates the '{keyword}' rule of the request schema")]

"""openapi.yaml as fixtures: the document, and a checker of instances against its schemas."""
from __future__ import annotations

from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.support.paths import ROOT

DOC_URI = "urn:crs-cds:openapi"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def conforms(document):
    """``conforms(instance, "Card")`` validates against a component schema, refs resolved in the document."""
    registry = Registry().with_resource(DOC_URI, Resource.from_contents(document, default_specification=DRAFT202012))

    def check(instance: Any, component: str) -> None:
        schema = {"$ref": f"{DOC_URI}#/components/schemas/{component}"}
        validator = Draft202012Validator(schema, registry=registry, format_checker=FormatChecker())
        errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(instance)]
        assert not errors, errors

    return check


def response_schema(document, path: str, method: str, status: str) -> str:
    """The component name the document gives for this response (following response $refs)."""
    response = document["paths"][path][method]["responses"][status]
    if "$ref" in response:
        response = document["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    return response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]

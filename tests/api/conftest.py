"""Fixtures shared by the API tests: the OpenAPI document and its schema checker."""
from tests.support.openapi import conforms, document  # noqa: F401 - fixtures

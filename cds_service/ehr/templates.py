"""Prefetch templates filled in from the hook context, as a CDS client would fill them."""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

_TOKEN = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
_USER_TOKENS = {"userPractitionerId": "Practitioner", "userPractitionerRoleId": "PractitionerRole",
                "userPatientId": "Patient", "userRelatedPersonId": "RelatedPerson"}


class TemplateError(ValueError):
    """A prefetch template names a token this request cannot fill."""


def render_template(template: str, context: Mapping[str, Any]) -> str:
    """Replace prefetch tokens (``{{context.patientId}}``, ``{{userPractitionerId}}``)
    with URL-escaped values from the hook context."""

    def value(match: re.Match[str]) -> str:
        token = match.group(1)
        if token.startswith("context."):
            found = context.get(token.removeprefix("context."))
        elif token in _USER_TOKENS:
            user = context.get("userId")
            kind, _, ident = user.partition("/") if isinstance(user, str) else ("", "", "")
            found = ident if kind == _USER_TOKENS[token] else None
        else:
            found = None
        if not isinstance(found, str) or not found:
            raise TemplateError(f"prefetch token {{{{{token}}}}} has no value in this request")
        return quote(found, safe="")

    return _TOKEN.sub(value, template)

"""What the shipped protocols say to clinicians: real titles and sections, no authoring notes (issue 11).

Every string of a loaded protocol that reaches a card, an order or ``crs-cds grade`` (titles, sections,
texts, notes, durations, reasons for a missing dose, regimen labels, escalations) is read here; the keys
that only the files use (``document``, ids, drug keys, the file path) are not.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from protocols import load_protocol
from protocols.model import Citation, Protocol

SHIPPED = ("astct-generic", "christie-doc644-v8", "paediatric-seed004")
NOT_SHOWN = {"document", "id", "key", "drug", "drug_class", "path", "name", "selected", "index_class",
             "warning_id", "action_id", "alternative_group", "rxnorm", "system", "code", "url"}
AUTHORING = re.compile(r"seed|clinical-reference|\.md\b|\.txt\b|\bTODO\b|could not be checked",
                       re.IGNORECASE)


def shown(value: Any, field: str = "") -> Iterator[tuple[str, str]]:
    """(field, text) for every string a clinician may read, walking the frozen model."""
    if field in NOT_SHOWN:
        return
    if isinstance(value, str):
        yield field, value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from shown(getattr(value, f.name), f.name)
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from shown(v, field)
    elif isinstance(value, tuple | list | frozenset):
        for v in value:
            yield from shown(v, field)


@pytest.mark.parametrize("protocol_id", SHIPPED)
def test_no_seed_file_name_or_authoring_note_in_what_clinicians_read(protocol_id: str) -> None:
    protocol = load_protocol(protocol_id)
    texts = list(shown(protocol))
    assert len(texts) > 100
    for field, text in texts:
        assert not AUTHORING.search(text), (field, text)
        assert "x 10^9" not in text and "ug/" not in text, (field, text)  # units as people write them


def citations(value: Any) -> Iterator[Citation]:
    if isinstance(value, Citation):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from citations(getattr(value, f.name))
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from citations(v)
    elif isinstance(value, tuple | list | frozenset):
        for v in value:
            yield from citations(v)


@pytest.mark.parametrize("protocol_id", SHIPPED)
def test_every_rule_cites_a_titled_document_and_the_protocol_has_an_address(protocol_id: str) -> None:
    protocol: Protocol = load_protocol(protocol_id)
    cited = list(citations(protocol))
    assert cited and all(c.title and c.label.startswith(c.title) for c in cited)
    assert protocol.url is not None and protocol.url.startswith("https://")
    assert all(protocol.grades[g].source is not None for g in (1, 2, 3, 4))


def test_the_christie_is_cited_as_clinicians_cite_it() -> None:
    protocol = load_protocol("christie-doc644-v8")
    labels = {c.label for c in citations(protocol)}
    assert ("The Christie NHS FT, Guidelines for management of CRS (DOC644 v8), §6.3 Additional treatment - CAR-T "
            "therapy (grade 3)") in labels
    assert all(c.section.startswith("§") for c in citations(protocol) if c.document == "002_3ba164531ae4c869.txt")

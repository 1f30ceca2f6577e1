"""Client profiles on cards built from a real assessment: the rules the API tests cannot reach."""
from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

from cards import Card, patient_view_cards
from cards.profiles import EPIC, GENERIC, ORACLE_HEALTH, CardSubjects, ClientShaping, choose_client, topic_code
from cards.profiles.sidebar import without_tables
from cds_service.ehr.prefetch import unpack_prefetch
from cds_service.settings import Settings
from devkit import fhirbuild as fb
from tests.support import apps
from tests.support.paths import EXAMPLES

GRADE3 = json.loads((EXAMPLES / "patient-view-grade3.json").read_text())


@pytest.fixture(scope="module")
def built():
    """(cards, subjects) of the grade 3 example, built as the patient-view composer builds them."""
    assessor = apps.service(Settings()).hooks.assessor
    resources = unpack_prefetch(GRADE3["prefetch"], GRADE3["prefetch"]).resources
    result = assessor.recommend(resources, patient_id="p1", now=fb.NOW)

    def build() -> tuple[list[Card], CardSubjects]:
        cards = patient_view_cards(result.assessment, protocol_id=result.protocol.id,
                                   recommendations=result.recommendations,
                                   icans_recommendations=result.icans_recommendations, patient_id="p1")
        return cards, CardSubjects(result.protocol.version, result.assessment,
                                   (result.recommendations, result.icans_recommendations),
                                   drugs=result.protocol.drugs)
    return build


@pytest.mark.parametrize("issuer,configured,extension,expected", [
    ("generic", "epic", {"com.epic.cdshooks.request.epic-version": "11.2"}, "generic"),
    (None, None, {"com.epic.cdshooks.request.epic-version": "11.2"}, "epic"),
    (None, None, {"com.example.other": 1}, "generic"), (None, None, "not an object", "generic"),
    (None, "oracle-health", None, "oracle-health"),
])
def test_the_profile_of_a_call(issuer, configured, extension, expected) -> None:
    assert choose_client(issuer, configured, extension) == expected


def test_generic_shaping_changes_nothing_but_names_the_client(built) -> None:
    cards, subjects = built()
    before = json.loads(json.dumps([c.body for c in cards]))
    ClientShaping(GENERIC).finish(cards, subjects)
    before[0]["extension"]["crs-cds.assessment"]["client"] = "generic"
    assert [c.body for c in cards] == before


def test_exclusive_options_none_of_them_recommended_each_say_so(built) -> None:
    cards, subjects = built()
    options = cards[1].body["suggestions"]
    for s in options:
        s["isRecommended"] = False
    ClientShaping(EPIC).finish(cards, subjects)
    assert all(s["actions"][0]["description"].startswith("Alternative (order only one of this card's options): ")
               for s in options)
    assert cards[1].body["selectionBehavior"] == "any"


def test_topic_codes_depend_on_content_not_on_the_call(built) -> None:
    first, subjects = built()
    second, _ = built()
    assert [topic_code(c, subjects) for c in first] == [topic_code(c, subjects) for c in second]
    lower = replace(subjects, assessment=replace(subjects.assessment, lower_bound=True))
    newer = replace(subjects, protocol_version="1.0.1")
    codes = {topic_code(first[0], s) for s in (subjects, lower, newer)}
    assert len(codes) == 3 and all(re.fullmatch(r"[A-Za-z0-9]{1,100}", c) for c in codes)
    long_kind = Card({"source": {"label": "x"}}, "a-" * 80, 3, "p")
    assert re.fullmatch(r"[A-Za-z0-9]{1,100}", topic_code(long_kind, subjects))


def test_a_table_the_evidence_cannot_be_paired_with_still_loses_nothing(built) -> None:
    _, subjects = built()
    evidence = subjects.assessment.evidence
    detail = "**Evidence**\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nmiddle\n\n| c |\n|---|\n| 3 |"
    text = without_tables(detail, [evidence], fb.NOW)  # two tables, one group: all of it where the first was
    assert "|" not in text and "middle" in text and all(e.source in text for e in evidence)


def test_oracle_shaping_keeps_every_order(built) -> None:
    cards, subjects = built()
    orders = [s["uuid"] for c in cards for s in c.body.get("suggestions", [])]
    ClientShaping(ORACLE_HEALTH).finish(cards, subjects)
    assert [s["uuid"] for c in cards for s in c.body.get("suggestions", [])] == orders
    assert cards[0].body["indicator"] == "critical" and "|" not in cards[0].body["detail"]

"""Client profiles: which one a call gets, and what each does to the cards (issue 10)."""
from __future__ import annotations

import json
import logging
import re
from dataclasses import replace

import pytest

from cards import Card
from cards.profiles import ORACLE_HEALTH, PREFERENCE_LIST_ITEM, CardSubjects, ClientShaping
from cards.profiles.orderables import ORDERSET_ITEM
from cds_service.settings import Settings
from tests.support import apps
from tests.support import security_builders as sb
from tests.support.card_checks import check_card
from tests.support.order_builders import cards_of, crs_patient, draft, order_request
from tests.support.paths import EXAMPLES
from tests.support.profile_checks import check_epic, check_oracle, check_profile

VIEW = "/cds-services/crs-patient-view"
SIGN = "/cds-services/crs-order-sign"
EPIC_EXTENSION = {"com.epic.cdshooks.request.bpa-trigger-action": "18",
                  "com.epic.cdshooks.request.fhir-version": "R4"}
GRADE3 = json.loads((EXAMPLES / "patient-view-grade3.json").read_text())


def view(client: str | None = None, body: dict | None = None, **settings) -> list[dict]:
    resp = apps.client(Settings(client=client, **settings)).post(VIEW, json=body or GRADE3)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()["cards"]


def logged(caplog) -> dict:
    [line] = [json.loads(r.getMessage()) for r in caplog.records if '"event":"request"' in r.getMessage()]
    return line


# --- which profile ------------------------------------------------------------------------------------

@pytest.mark.parametrize("configured,extension,expected", [
    (None, None, "generic"),
    (None, EPIC_EXTENSION, "epic"),  # detected from Epic's request extensions
    ("oracle-health", EPIC_EXTENSION, "oracle-health"),  # CRS_CDS_CLIENT wins over detection
    ("epic", None, "epic"),
])
def test_a_call_without_a_jwt_gets_the_configured_else_the_detected_profile(configured, extension, expected,
                                                                               caplog) -> None:
    body = {**GRADE3, "extension": {**GRADE3["extension"], **(extension or {})}}
    with caplog.at_level(logging.INFO, logger="crs_cds.request"):
        cards = view(configured, body)
    assert cards[0]["extension"]["crs-cds.assessment"]["client"] == expected
    assert logged(caplog)["client"] == expected


@pytest.mark.parametrize("client", ["generic", "epic", "oracle-health"])
def test_with_a_jwt_the_issuers_client_decides_whatever_the_request_says(client, caplog) -> None:
    settings = replace(sb.settings(replace(sb.issuer(fhir_servers=()), client=client)), client="epic")
    body = {**GRADE3, "extension": dict(EPIC_EXTENSION)}  # production ignores crs-cds.now: the clock is pinned
    api = apps.client(settings)
    with caplog.at_level(logging.INFO, logger="crs_cds.request"):
        resp = api.post(VIEW, json=body, headers=sb.bearer(sb.token(VIEW)))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    for card in resp.get_json()["cards"]:
        check_profile(client, card)
    assert logged(caplog)["client"] == client


@pytest.mark.parametrize("trigger,logged_as", [("60", "60"), (18, "18"), ("<script>", "unrecognised"),
                                                ({"nested": 1}, "unrecognised")])
def test_epics_trigger_action_is_tolerated_and_logged(trigger, logged_as, caplog) -> None:
    body = {**GRADE3, "extension": {**GRADE3["extension"], "com.epic.cdshooks.request.bpa-trigger-action": trigger}}
    with caplog.at_level(logging.INFO, logger="crs_cds.request"):
        assert view(body=body)
    assert logged(caplog)["epicTrigger"] == logged_as


# --- generic ------------------------------------------------------------------------------------------

def test_the_generic_profile_is_todays_behaviour() -> None:
    cards = view("generic")
    assert [c["selectionBehavior"] for c in cards] == ["any", "at-most-one"]
    assert [c["source"]["topic"]["code"] for c in cards] == ["crs-assessment", "crs-protocol-options"]
    assert any(len(s["actions"]) > 1 for s in cards[0]["suggestions"])  # a panel: one suggestion, its orders
    for card in cards:
        check_card(card)


# --- Epic ---------------------------------------------------------------------------------------------

def test_epic_cards_keep_every_rule() -> None:
    cards = view("epic")
    for card in cards:
        check_epic(card)
    options = cards[1]["suggestions"]
    assert [s["isRecommended"] for s in options] == [True, False]
    assert options[1]["actions"][0]["description"].startswith(
        "Instead of the recommended dexamethasone 10 mg IV every 6 h (order only one): Anakinra 100 mg IV")


def test_epic_splits_a_panel_into_buttons_named_as_clinicians_name_the_tests() -> None:
    """One action per suggestion: the 11-test panel becomes 11 buttons, each named by the protocol's label
    ("CBC"), the LOINC display kept in the coding and the source in the description."""
    labs = [s for s in view("epic")[0]["suggestions"]
            if s["extension"].get("crs-cds.order", {}).get("service") == "crs-labs"]
    assert [s["label"] for s in labs] == ["CBC", "Comprehensive metabolic panel", "Magnesium", "Phosphate", "CRP",
                                          "LDH", "Uric acid", "Fibrinogen", "PT", "aPTT", "Ferritin"]
    cbc = labs[0]["actions"][0]
    assert cbc["resource"]["code"]["text"] == "CBC"
    assert cbc["resource"]["code"]["coding"] == [{"system": "http://loinc.org", "code": "58410-2",
                                                  "display": "CBC panel - Blood by Automated count"}]
    assert cbc["description"].startswith("CBC panel - Blood by Automated count. Source: Treatment of CRS")


def test_epic_states_the_whole_order_with_its_calculation() -> None:
    [toci] = [s for s in view("epic")[0]["suggestions"]
              if s["extension"].get("crs-cds.order", {}).get("drug") == "tocilizumab"]
    assert toci["actions"][0]["description"] == (
        "Tocilizumab 560 mg IV now (8 mg/kg × 70 kg, max 800 mg); may repeat every 8 h, max 3 doses in 24 h, "
        "4 in total. Check the EHR's order defaults against this.")


def test_epic_topic_codes_are_alphanumeric_and_follow_the_protocol_version() -> None:
    generic = [c["source"]["topic"]["code"] for c in view("epic")]
    again = [c["source"]["topic"]["code"] for c in view("epic")]
    christie = [c["source"]["topic"]["code"] for c in view("epic", protocol_id="christie-doc644-v8")]
    assert generic == again and all(re.fullmatch(r"[A-Za-z0-9]{1,100}", c) for c in generic + christie)
    assert generic[0].startswith("CrsAssessmentC3") and christie[0].startswith("CrsAssessmentC3")
    assert generic[0] != christie[0]


def test_epic_orders_carry_the_sites_orderables() -> None:
    cards = view("epic", orderables_file=str(EXAMPLES / "orderables.example.yaml"))
    orders = {(s["extension"]["crs-cds.order"].get("drug") or s["extension"]["crs-cds.order"]["service"]): s
              for c in cards for s in c["suggestions"] if "crs-cds.order" in s["extension"]}
    toci = orders["tocilizumab"]["actions"][0]["resource"]["medicationCodeableConcept"]["coding"]
    assert toci[0] == {"system": PREFERENCE_LIST_ITEM, "code": "40123", "display": "TOCILIZUMAB IV INFUSION (CRS)"}
    assert [c["system"] for c in toci[1:]] == ["urn:oid:2.16.840.1.113883.6.88",
                                               "http://www.nlm.nih.gov/research/umls/rxnorm"]
    [labs] = [s for c in cards for s in c["suggestions"]
              if s["extension"].get("crs-cds.order", {}).get("service") == "crs-labs"]
    [action] = labs["actions"]  # the panel as the site's order set: one order
    assert action["resource"]["code"]["coding"] == [{"system": ORDERSET_ITEM, "code": "CRSLABS",
                                                     "display": "CAR-T CRS MONITORING LABS"}]
    assert "CBC panel" in action["description"] and "Ferritin" in action["description"]
    cultures = [s for c in cards for s in c["suggestions"]
                if s["extension"].get("crs-cds.order", {}).get("service") == "infection-workup"]
    assert [s["actions"][0]["resource"]["code"]["coding"][0]["code"] for s in cultures] == [
        "BLDCX", "117010004", "399208008"]  # mapped code by code: the blood culture only
    for card in cards:
        check_epic(card)


def test_generic_orderables_apply_to_the_generic_profile_only(tmp_path) -> None:
    mapping = tmp_path / "orderables.yaml"
    mapping.write_text("orderables:\n  - {action: tocilizumab, client: generic, system: urn:site:orders, code: T1}\n")
    for client, first in (("generic", "urn:site:orders"), ("epic", "urn:oid:2.16.840.1.113883.6.88")):
        [toci] = [s for s in view(client, orderables_file=str(mapping))[0]["suggestions"]
                  if s["extension"].get("crs-cds.order", {}).get("drug") == "tocilizumab"]
        assert toci["actions"][0]["resource"]["medicationCodeableConcept"]["coding"][0]["system"] == first


def test_epic_gets_a_correction_as_cancel_and_create() -> None:
    api = apps.client(Settings(client="epic", orderables_file=str(EXAMPLES / "orderables.example.yaml")))
    [card] = cards_of(api, order_request(crs_patient(70, grade=3), [draft("tocilizumab", 900, rid="toci1")]))
    check_epic(card)
    cancel, create = card["suggestions"]
    assert cancel["actions"][0] == {"type": "delete", "resourceId": "MedicationRequest/toci1",
                                    "description": "Cancel the draft tocilizumab 900 mg order: the corrected "
                                                   "order replaces it"}
    action = create["actions"][0]
    assert action["type"] == "create" and action["resource"]["id"] != "toci1"
    assert action["description"].startswith("Tocilizumab 560 mg IV (8 mg/kg × 70 kg, max 800 mg), replacing the "
                                            "draft of 900 mg.")
    coding = action["resource"]["medicationCodeableConcept"]["coding"]
    assert coding[0]["system"] == PREFERENCE_LIST_ITEM and coding[0]["code"] == "40123"
    assert cancel["isRecommended"] and create["isRecommended"]


# --- Oracle Health ------------------------------------------------------------------------------------

def test_oracle_details_have_no_tables_but_the_same_evidence() -> None:
    generic, oracle = view("generic")[0], view("oracle-health")[0]
    check_oracle(oracle)
    assert "|" not in generic["detail"] and oracle["detail"] == generic["detail"]
    for driver in ("norepinephrine): 0.08 µg/kg/min", "nasal cannula 4 L/min", "fever 39.2 °C"):
        assert driver in oracle["detail"]
    # the references stay machine-readable, whatever the sidebar shows
    sources = {e["source"] for e in oracle["extension"]["crs-cds.assessment"]["evidence"]}
    assert {"Observation/temp-1", "Observation/bp-1", "MedicationAdministration/ne-1"} <= sources
    assert oracle["indicator"] == "critical"  # grade 3: it pops up


def test_oracle_keeps_critical_for_grade_3_and_above_only() -> None:
    api = apps.client(Settings(client="oracle-health"))
    orders = [draft("sargramostim", 250, "ug", rid="gm")]
    [grade2] = cards_of(api, order_request(crs_patient(70, grade=2), orders))
    [grade3] = cards_of(api, order_request(crs_patient(70, grade=3), orders))
    generic = cards_of(apps.client(Settings()), order_request(crs_patient(70, grade=2), orders))
    assert generic[0]["indicator"] == "critical"
    assert (grade2["indicator"], grade3["indicator"]) == ("warning", "critical")
    check_oracle(grade2)


def test_oracle_links_lose_their_app_context() -> None:
    body = {"uuid": "u", "summary": "s", "indicator": "info", "source": {"label": "x"},
            "links": [{"label": "app", "url": "https://app.example.org/launch", "type": "smart", "appContext": "c"}]}
    [card] = ClientShaping(ORACLE_HEALTH).finish([Card(body, "crs-assessment")], CardSubjects())
    assert card.body["links"] == [{"label": "app", "url": "https://app.example.org/launch", "type": "smart"}]


def test_every_profile_passes_the_cds_hooks_rules_for_order_checks() -> None:
    orders = [draft("tocilizumab", 900, rid="t"), draft("dexamethasone", 10, every_hours=12, rid="d"),
              draft("sargramostim", 250, "ug", rid="g")]
    for client in ("generic", "epic", "oracle-health"):
        cards = cards_of(apps.client(Settings(client=client)), order_request(crs_patient(70, grade=3), orders))
        assert len(cards) == 3
        for card in cards:
            check_profile(client, card)
            assert card["selectionBehavior"] in (("any",) if client == "epic" else ("any", "at-most-one"))

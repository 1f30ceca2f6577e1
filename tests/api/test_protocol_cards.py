"""Protocol orders on patient-view, end to end: FHIR prefetch in, cards with draft orders out.

Exact numbers: each scenario pins the dose, route, timing and codes the
clinician would sign, and checks that every suggested resource is valid FHIR
R4 and says the same thing as its ``crs-cds.order`` extension.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cds_service.bootstrap import bootstrap
from cds_service.http import create_app
from cds_service.settings import ConfigError, Settings
from devkit import fhirbuild as fb
from devkit.fhirbuild import ago
from tests.support.card_checks import check_card, details, dose, med_orders, one_order, suggestions
from tests.support.paths import PROTOCOL_DATA

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def client_for(**settings: Any):
    return create_app(bootstrap(Settings(**settings), clock=lambda: fb.NOW)).test_client()


@pytest.fixture(scope="module")
def generic():
    return client_for()


def call(client, *resources: dict[str, Any], birth_date: str = "1970-05-01") -> list[dict[str, Any]]:
    resources = (fb.patient(birth_date),) + resources
    resp = client.post("/cds-services/crs-patient-view", json=fb.hook_request(list(resources)))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    cards = resp.get_json()["cards"]
    for card in cards:
        check_card(card)
    return cards


def crs(grade: int, *, kg: float | None = 70, extra: tuple[dict[str, Any], ...] = ()) -> tuple[dict[str, Any], ...]:
    """A CAR-T patient febrile now with the haemodynamics of ``grade`` (2: hypotension without a
    vasopressor, 3: norepinephrine, 4: norepinephrine and epinephrine)."""
    out = [fb.car_t(), fb.temperature(38.9, ago(hours=40)), fb.temperature(39.1, ago(hours=1)),
           fb.blood_pressure(84, 50, ago(hours=1)), fb.spo2(97, ago(hours=1)), fb.oxygen_device("room-air", ago(hours=1))]
    if grade >= 3:
        out.append(fb.drug("norepinephrine", ago(hours=2), open_period=True, status="in-progress"))
    if grade >= 4:
        out.append(fb.drug("epinephrine", ago(hours=1), open_period=True, status="in-progress"))
    if kg is not None:
        out.append(fb.weight(kg, ago(days=1), rid="wt-1"))
    return tuple(out) + extra


# ------------------------------------------------------------------ tocilizumab

def test_grade2_70kg_tocilizumab_560mg_iv(generic):
    cards = call(generic, *crs(2))
    assert cards[0]["extension"]["crs-cds.assessment"]["grade"] == 2
    s, mr = one_order(cards, "tocilizumab")
    # Issue 11: the label is the complete order in one line; the action adds the limits and the source
    assert s["label"] == "Tocilizumab 560 mg IV now (8 mg/kg × 70 kg)" and s["isRecommended"] is True
    assert s["actions"][0]["description"] == (
        "Tocilizumab 560 mg IV now (8 mg/kg × 70 kg, max 800 mg); may repeat every 8 h, max 3 doses in 24 h, "
        "4 in total. Source: Treatment of CRS (guideline summary), Grade 2 CRS Management")
    assert s["extension"]["crs-cds.order"] == {"drug": "tocilizumab", "doseMg": 560, "route": "IV", "everyHours": None}
    assert mr["medicationCodeableConcept"]["coding"][0] == {"system": RXNORM, "code": "612865", "display": "Tocilizumab"}
    assert dose(mr) == (560, "47625008", "IV", None)
    assert mr["reasonCode"][0]["coding"][0]["code"] == "D89.832"
    assert "8 mg/kg × 70 kg" in mr["dosageInstruction"][0]["text"]
    # the weight used is shown: in the order's arithmetic, and with its FHIR reference in the suggestion
    [weight] = [e for e in s["extension"]["crs-cds.evidence"] if e["what"] == "body weight"]
    assert (weight["value"], weight["source"]) == ("70 kg", "Observation/wt-1")


def test_125kg_tocilizumab_capped_at_800mg(generic):
    _, mr = one_order(call(generic, *crs(2, kg=125)), "tocilizumab")
    assert dose(mr)[0] == 800


def test_no_weight_no_tocilizumab_order_and_the_card_says_why(generic):
    cards = call(generic, *crs(2, kg=None))
    assert med_orders(cards, "tocilizumab") == []
    assert "no body weight recorded in the last 30 days — tocilizumab dose cannot be computed" in details(cards)


def test_three_doses_in_24h_no_tocilizumab_order_and_when_the_next_is_allowed(generic):
    given = tuple(fb.drug("tocilizumab", ago(hours=h)) for h in (16, 8, 0))
    cards = call(generic, *crs(2, extra=given))
    assert med_orders(cards, "tocilizumab") == []
    assert "next dose allowed from 2026-11-21 20:00 UTC" in details(cards)


def test_four_doses_since_infusion_no_fifth_and_escalation_proposed(generic):
    given = tuple(fb.drug("tocilizumab", ago(hours=h)) for h in (60, 50, 40, 30))
    cards = call(generic, *crs(2, extra=given))
    assert med_orders(cards, "tocilizumab") == []
    text = details(cards)
    assert ("- Tocilizumab: no further doses — limit reached (4 doses given, max 4 in total). Maximum tocilizumab "
            "doses reached without improvement: manage as grade 3") in text
    _, dex = one_order(cards, "dexamethasone")
    assert dose(dex) == (10, "47625008", "IV", 6)


# -------------------------------------------------------------------- steroids

def test_generic_grade3_dexamethasone_10mg_iv_every_6h_and_icu_transfer(generic):
    cards = call(generic, *crs(3))
    s, mr = one_order(cards, "dexamethasone")
    assert s["label"] == "Dexamethasone 10 mg IV every 6 h"
    assert s["extension"]["crs-cds.order"] == {"drug": "dexamethasone", "doseMg": 10, "route": "IV", "everyHours": 6}
    assert dose(mr) == (10, "47625008", "IV", 6)
    assert mr["dosageInstruction"][0]["timing"]["repeat"] == {"frequency": 1, "period": 6, "periodUnit": "h"}
    assert mr["medicationCodeableConcept"]["coding"][0]["code"] == "3264"
    assert mr["reasonCode"][0]["coding"][0]["code"] == "D89.833"
    [icu] = [s for s in suggestions(cards) if s["extension"]["crs-cds.order"].get("service") == "icu-transfer"]
    [action] = icu["actions"]
    assert action["resource"]["resourceType"] == "ServiceRequest"
    assert action["resource"]["code"]["coding"][0]["code"] == "305351004"
    assert action["resource"]["priority"] == "urgent"
    assert icu["extension"]["crs-cds.order"]["code"] == "305351004"


def test_grade4_methylprednisolone_or_anakinra_at_most_one_exactly_one_recommended(generic):
    cards = call(generic, *crs(4))
    assert cards[0]["extension"]["crs-cds.assessment"]["grade"] == 4
    [choice] = [c for c in cards if c.get("selectionBehavior") == "at-most-one"]
    drugs = {s["extension"]["crs-cds.order"]["drug"]: s for s in choice["suggestions"]}
    assert set(drugs) == {"methylprednisolone", "anakinra"}
    assert [d for d, s in drugs.items() if s["isRecommended"]] == ["methylprednisolone"]
    assert choice["summary"] == "Choose one: methylprednisolone 500 mg IV every 12 h or anakinra 100 mg IV every 6 h"
    assert dose(drugs["methylprednisolone"]["actions"][0]["resource"]) == (500, "47625008", "IV", 12)
    assert dose(drugs["anakinra"]["actions"][0]["resource"]) == (100, "47625008", "IV", 6)
    # the exclusive options are not also on the assessment card
    assert not any(s["extension"].get("crs-cds.order", {}).get("drug") in drugs for s in cards[0].get("suggestions", []))
    assert cards[0]["selectionBehavior"] == "any"


def test_christie_grade3_dexamethasone_9_9mg_iv_every_6h():
    cards = call(client_for(protocol_id="christie-doc644-v8"), *crs(3))
    assert cards[0]["extension"]["crs-cds.assessment"]["protocol"] == "christie-doc644-v8"
    [choice] = [c for c in cards if c.get("selectionBehavior") == "at-most-one"]
    [(s, mr)] = [(s, r) for s, r in med_orders(cards, "dexamethasone") if s["isRecommended"]]
    assert s in choice["suggestions"]  # 9.9 mg, or 19.8 mg if refractory: one choice
    assert dose(mr) == (9.9, "47625008", "IV", 6)
    assert ("Protocol: The Christie NHS FT, Guidelines for management of CRS (DOC644 v8) — §6.3 Additional treatment "
            "- CAR-T therapy (grade 3)") in cards[0]["detail"]


def test_paediatric_patient_gets_anakinra_40mg_iv_every_6h_third_line():
    client = client_for(paediatric_protocol_id="paediatric-seed004")
    given = (fb.drug("tocilizumab", ago(hours=30)), fb.drug("dexamethasone", ago(hours=20)))
    cards = call(client, *crs(3, kg=20, extra=given), birth_date="2018-05-01")  # 8 years old
    assert cards[0]["extension"]["crs-cds.assessment"]["protocol"] == "paediatric-seed004"
    s, mr = one_order(cards, "anakinra")
    assert dose(mr) == (40, "47625008", "IV", 6)
    assert s["extension"]["crs-cds.order"] == {"drug": "anakinra", "doseMg": 40, "route": "IV", "everyHours": 6}
    assert ("Anakinra in refractory pediatric CAR T-cell toxicities (Blood Adv 2022), Table 1 - Children's National "
            "Hospital") in s["actions"][0]["description"]


def test_adult_with_a_paediatric_protocol_configured_keeps_the_adult_protocol():
    cards = call(client_for(paediatric_protocol_id="paediatric-seed004"), *crs(3))
    assert cards[0]["extension"]["crs-cds.assessment"]["protocol"] == "astct-generic"


# ------------------------------------------------------------ evidence, sources

def test_every_order_cites_its_source_and_the_card_names_the_protocol_section(generic):
    cards = call(generic, *crs(3))
    assert cards[0]["detail"].endswith(
        "Protocol: ASTCT consensus CRS management (generic) — Treatment of CRS (guideline summary), Grade 3 CRS "
        "Management")
    for s in suggestions(cards):
        assert all(" Source: " in a["description"] for a in s["actions"]), s["label"]
    assert cards[1]["source"]["label"] == "ASTCT consensus CRS management (generic) (version 1.0.0)"


def test_no_crs_no_suggestions(generic):
    cards = call(generic, fb.car_t(), fb.temperature(37.0, ago(hours=1)), fb.blood_pressure(84, 50, ago(hours=1)),
                 fb.spo2(97, ago(hours=1)), fb.oxygen_device("room-air", ago(hours=1)))
    assert suggestions(cards) == []


# -------------------------------------------------------------------- warnings

def anc(value: float) -> dict[str, Any]:
    return fb.lab("751-8", value, "10*9/L", ago(hours=3), rid="anc-1")


def warnings_line(cards) -> str:
    """The card's one line of safety warnings (full texts and sources: ``crs-cds grade``)."""
    [line] = [line for line in details(cards).splitlines() if line.startswith("Warnings: ")
              or line.startswith("- Warnings: ")]
    return line


def test_neutropenic_antibiotics_warning_shows_the_anc_and_when(generic):
    warning = warnings_line(call(generic, *crs(2, extra=(anc(0.3),))))
    assert ("neutropenic: start empiric broad-spectrum antibiotics (absolute neutrophil count 0.3 × 10⁹/L, 3 h ago)"
            in warning)


def test_no_antibiotics_warning_with_anc_1_2(generic):
    assert "antibiotic" not in warnings_line(call(generic, *crs(2, extra=(anc(1.2),)))).lower()


def test_gm_csf_icans_and_antifungal_warnings_each_on_the_card_it_is_about(generic):
    cards = call(generic, *crs(3))
    main = warnings_line(cards[:1])
    assert main == ("- Warnings: no GM-CSF (sargramostim) after CAR-T cells; watch for concurrent ICANS (steroids first "
                    "line).")
    # the corticosteroid warnings beside the corticosteroid choice
    choice = warnings_line(cards[1:])
    assert choice == ("Warnings: strongly consider antifungal prophylaxis with steroids; do not withhold steroids in "
                      "severe CRS.")


# ---------------------------------------------------------------- start-up

def test_protocol_settings_accept_ids_and_files_and_name_bad_values():

    s = Settings.from_env({"CRS_CDS_PROTOCOL": " /etc/crs/our-protocol.yaml ",
                           "CRS_CDS_PAEDIATRIC_PROTOCOL": "paediatric-seed004"})
    assert (s.protocol_id, s.paediatric_protocol_id) == ("/etc/crs/our-protocol.yaml", "paediatric-seed004")
    assert Settings.from_env({}).paediatric_protocol_id is None and Settings.from_env({}).protocol_id == "astct-generic"
    with pytest.raises(ConfigError, match="CRS_CDS_PAEDIATRIC_PROTOCOL='Kids Protocol'"):
        Settings.from_env({"CRS_CDS_PAEDIATRIC_PROTOCOL": "Kids Protocol"})


def test_a_protocol_file_with_a_typo_stops_the_service(tmp_path: Path):
    good = PROTOCOL_DATA / "astct-generic.yaml"
    bad = tmp_path / "hospital.yaml"
    bad.write_text(good.read_text().replace("mgPerKg:", "mgPerKgg:", 1))
    with pytest.raises(ConfigError) as err:
        create_app(bootstrap(Settings(protocol_id=str(bad)), clock=lambda: fb.NOW))
    assert "hospital.yaml" in str(err.value) and "mgPerKg" in str(err.value)
    assert all(line.startswith("CRS_CDS_PROTOCOL: ") for line in err.value.problems)


def test_an_unknown_protocol_id_stops_the_service():
    with pytest.raises(ConfigError, match=r"CRS_CDS_PROTOCOL: .*unknown protocol id"):
        create_app(bootstrap(Settings(protocol_id="no-such-protocol"), clock=lambda: fb.NOW))


def test_an_institution_protocol_file_path_is_used(tmp_path: Path):
    good = PROTOCOL_DATA / "christie-doc644-v8.yaml"
    own = tmp_path / "our-protocol.yaml"
    own.write_text(good.read_text())
    orders = med_orders(call(client_for(protocol_id=str(own)), *crs(3)), "dexamethasone")
    assert [dose(mr)[0] for s, mr in orders if s["isRecommended"]] == [9.9]

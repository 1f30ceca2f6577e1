"""Protocol files: the shipped ones validate; mistakes are reported with file, line and JSON path."""
from __future__ import annotations

import dataclasses
import json
import typing
from datetime import timedelta

import pytest
import yaml

from clinical import DrugClass
from protocols import ProtocolError, list_protocols, load_protocol
from protocols.loader import DATA_DIR, SCHEMA_PATH, protocol_path, validate_file
from protocols.model import DoseCheck, MedicationAction, NeverGiveCheck, RegimenCheck
from tests.support.paths import ROOT
from tests.support.protocol_files import GENERIC_FILE, edited, line_of


def test_shipped_protocols_all_validate():
    summaries = list_protocols()
    assert {s.id for s in summaries} == {"astct-generic", "christie-doc644-v8", "paediatric-seed004"}
    for s in summaries:
        assert validate_file(s.path) == []
        assert load_protocol(s.id).grades.keys() == {1, 2, 3, 4}


def test_schema_is_valid_2020_12_and_matches_the_mapping_drug_classes():
    import jsonschema
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(schema["$defs"]["drugClass"]["enum"]) == set(typing.get_args(DrugClass))


def test_typo_in_dose_field_names_file_line_and_path(tmp_path):
    path = edited(tmp_path, "          mgPerKg: 8\n", "          mg_per_kgg: 8\n")
    with pytest.raises(ProtocolError) as err:
        load_protocol(path)
    message = str(err.value)
    line = line_of(path, "mg_per_kgg")
    assert f"edited.yaml:{line}: grades.1.actions[1].dose.mg_per_kgg: unknown field 'mg_per_kgg'" in message
    assert "allowed: " in message and "mgPerKg" in message
    assert err.value.problems[0].line is not None


def test_unknown_field_on_a_medication_action(tmp_path):
    path = edited(tmp_path, "        id: dexamethasone-q12h\n", "        id: dexamethasone-q12h\n        dosage: 10\n")
    with pytest.raises(ProtocolError) as err:
        load_protocol(path)
    assert f":{line_of(path, 'dosage: 10')}: grades.2.actions[3].dosage: unknown field 'dosage'" in str(err.value)


def test_unknown_drug_key(tmp_path):
    path = edited(tmp_path, "        drug: dexamethasone\n        dose: {mg: 10}\n        route: IV\n        frequency: {everyHours: 12}",
                  "        drug: dexamethasonee\n        dose: {mg: 10}\n        route: IV\n        frequency: {everyHours: 12}")
    with pytest.raises(ProtocolError) as err:
        load_protocol(path)
    assert "grades.2.actions[3].drug: unknown drug 'dexamethasonee'" in str(err.value)


def test_unknown_condition_is_rejected(tmp_path):
    path = edited(tmp_path, "recommendedWhen: [{fever_duration_hours_gt: 24}]",
                  "recommendedWhen: [{fever_longer_than: 24}]")
    with pytest.raises(ProtocolError) as err:
        load_protocol(path)
    assert "grades.1.actions[1].recommendedWhen[0].fever_longer_than: unknown field 'fever_longer_than'" in str(err.value)


def test_condition_with_two_keys_is_rejected(tmp_path):
    path = edited(tmp_path, "when: [{febrile: true}]", "when: [{febrile: true, anc_below: 0.5}]")
    with pytest.raises(ProtocolError) as err:
        load_protocol(path)
    assert "allGrades[1].when[0]: expected one term of the condition vocabulary" in str(err.value)


def test_wrong_route_is_rejected(tmp_path):
    path = edited(tmp_path, "dose: {mg: 10}\n        route: IV\n        frequency: {everyHours: 12}",
                  "dose: {mg: 10}\n        route: IM\n        frequency: {everyHours: 12}")
    with pytest.raises(ProtocolError) as err:
        load_protocol(path)
    assert "grades.2.actions[3].route: 'IM' is not one of ['IV', 'SC', 'PO']" in str(err.value)


def test_two_recommended_options_in_one_alternative_group(tmp_path):
    path = edited(tmp_path, "              dose: {mg: 100, maxMgPerDay: 400}\n              route: IV\n"
                            "              frequency: {everyHours: 6}\n              recommended: false",
                  "              dose: {mg: 100, maxMgPerDay: 400}\n              route: IV\n"
                  "              frequency: {everyHours: 6}\n              recommended: true")
    with pytest.raises(ProtocolError) as err:
        load_protocol(path)
    assert "alternative group 'steroid-or-anakinra' has more than one recommended option" in str(err.value)


def test_alternative_group_needs_two_members(tmp_path):
    path = edited(tmp_path, "        alternativeGroup: steroid-or-anakinra\n        note: >-\n          The source gives",
                  "        alternativeGroup: lonely\n        note: >-\n          The source gives")
    with pytest.raises(ProtocolError) as err:
        load_protocol(path)
    assert "grades.4.actions[2].alternativeGroup: alternative group 'lonely' has a single member" in str(err.value)


def test_source_must_be_one_of_the_protocols_documents(tmp_path):
    path = edited(tmp_path, "    source: {document: 001_95f51f42754c33e1.txt, section: Refractory CRS}",
                  "    source: {document: 009_unknown.txt, section: Refractory CRS}")
    with pytest.raises(ProtocolError) as err:
        load_protocol(path)
    assert "grades.4.actions[6].source.document: '009_unknown.txt' is not one of the protocol's sources" in str(err.value)


def test_every_rule_needs_a_source(tmp_path):
    path = edited(tmp_path, "    text: Do not use GM-CSF (sargramostim)\n"
                            "    namesIndexTherapy: true  # the card adds \"not recommended after CAR-T cells\" or \"after a "
                            "T-cell engager\"\n    source: {document: 000_a8ee7285a5023aec.txt, section: Pitfalls to Avoid}\n",
                  "    text: Do not use GM-CSF (sargramostim)\n")
    with pytest.raises(ProtocolError) as err:
        load_protocol(path)
    assert "warnings[0]: 'source' is a required property" in str(err.value)


def test_duplicate_yaml_key_is_an_error(tmp_path):
    path = edited(tmp_path, "  weightMaxAgeDays: 30\n", "  weightMaxAgeDays: 30\n  weightMaxAgeDays: 3\n")
    with pytest.raises(ProtocolError) as err:
        load_protocol(path)
    assert f":{line_of(path, 'weightMaxAgeDays: 3') + 1}: settings.weightMaxAgeDays: duplicate key" in str(err.value)


def test_invalid_yaml_reports_the_line(tmp_path):
    path = edited(tmp_path, "title: ASTCT consensus CRS management (generic)\n", "title: [unclosed\n")
    with pytest.raises(ProtocolError) as err:
        load_protocol(path)
    assert "edited.yaml:" in str(err.value) and "invalid YAML" in str(err.value)


def test_unknown_protocol_id_lists_the_known_ones():
    with pytest.raises(ProtocolError, match=r"unknown protocol id .*astct-generic"):
        load_protocol("no-such-protocol")


def test_regimen_override_must_name_an_option():
    with pytest.raises(ProtocolError, match=r"regimens\.anakinra\.selected: 'boston' is not an option"):
        load_protocol("paediatric-seed004", regimens={"anakinra": "boston"})


def test_regimen_choice_defaults_to_childrens_national():
    p = load_protocol("paediatric-seed004")
    choice = p.regimens["anakinra"]
    assert choice.selected == "childrens-national"
    assert set(choice.options) == {"childrens-national", "seattle-childrens", "chop", "nih", "musc", "st-jude"}
    assert all(o.source.document == "004_9e07d6bcd0a2eec7.txt" for o in choice.options.values())


def test_json_protocol_files_are_accepted(tmp_path):
    data = yaml.safe_load(GENERIC_FILE.read_text())
    path = tmp_path / "generic.json"
    path.write_text(json.dumps({**data, "id": "generic-json"}))
    assert load_protocol(path).id == "generic-json"


def test_protocol_values_are_frozen():
    p = load_protocol("astct-generic")
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.id = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        p.grades[5] = p.grades[4]  # type: ignore[index]
    toci = next(a for a in p.grades[2].actions if isinstance(a, MedicationAction))
    assert toci.drug.rxnorm == "612865" and str(toci.dose.weight_bands[0].below_kg) == "30"


def test_protocol_path_resolves_ids_and_paths():
    assert protocol_path("christie-doc644-v8") == DATA_DIR / "christie-doc644-v8.yaml"
    assert protocol_path(GENERIC_FILE) == GENERIC_FILE


def test_conditions_are_data_not_code():
    """No protocol id appears in the Python that applies protocols."""
    package = ROOT / "protocols"
    for module in package.glob("*.py"):
        text = module.read_text()
        for s in list_protocols():
            if module.name != "loader.py":  # the loader names the default ids
                assert s.id not in text, (module.name, s.id)


def test_unquoted_grade_keys_are_read_as_strings(tmp_path):
    path = edited(tmp_path, '  "2":\n', "  2:\n")
    assert load_protocol(path).grades[2].title.startswith("Fever with hypotension")


# ---------------------------------------------------------------- settings, order checks

def test_settings_name_the_running_window_and_the_anc_age(tmp_path):
    p = load_protocol("astct-generic")
    assert (p.settings.running_window, p.settings.anc_max_age) == (timedelta(hours=24), timedelta(hours=48))
    path = edited(tmp_path, "  ancMaxAgeHours: 48\n", "")
    with pytest.raises(ProtocolError) as err:
        load_protocol(path)
    assert "settings: 'ancMaxAgeHours' is a required property" in str(err.value)


def test_order_checks_are_read_in_file_order():
    checks = load_protocol("astct-generic").order_checks
    assert [(c.check, c.target.drug or c.target.drug_class, c.finding) for c in checks] == [
        ("repeat-limits", "tocilizumab", "tocilizumab-limit"), ("dose", "tocilizumab", "tocilizumab-dose"),
        ("never-give", "gm-csf", "gm-csf"), ("regimen-for-grade", "corticosteroid", "steroid-regimen"),
        ("maximum-dose", "anakinra", "anakinra-dose")]
    dose, never, regimen = checks[1], checks[2], checks[3]
    assert isinstance(dose, DoseCheck) and dose.tolerance_percent == 10
    assert isinstance(never, NeverGiveCheck) and never.warning.id == "no-gm-csf" and never.label == "GM-CSF"
    assert isinstance(regimen, RegimenCheck)
    assert [w.id for w in regimen.reminders] == ["antifungal-prophylaxis", "steroids-and-car-t-efficacy"]


def test_order_check_for_an_unknown_drug(tmp_path):
    path = edited(tmp_path, "  - drug: anakinra\n    check: maximum-dose", "  - drug: anakinraa\n    check: maximum-dose")
    with pytest.raises(ProtocolError) as err:
        load_protocol(path)
    assert (f"edited.yaml:{line_of(path, 'drug: anakinraa')}: orderChecks[4].drug: unknown drug 'anakinraa' "
            "(drugs: anakinra, dexamethasone, methylprednisolone, tocilizumab)") in str(err.value)


def test_order_check_citing_an_unknown_warning(tmp_path):
    path = edited(tmp_path, "    warning: no-gm-csf\n", "    warning: no-gmcsf\n")
    with pytest.raises(ProtocolError) as err:
        load_protocol(path)
    assert f"edited.yaml:{line_of(path, 'warning: no-gmcsf')}: orderChecks[2].warning: unknown warning 'no-gmcsf'" \
        in str(err.value)


def test_order_check_reminding_of_an_unknown_warning(tmp_path):
    path = edited(tmp_path, "reminders: [antifungal-prophylaxis, steroids-and-car-t-efficacy]",
                  "reminders: [antifungal-prophylaxis, steroid-efficacy]")
    with pytest.raises(ProtocolError) as err:
        load_protocol(path)
    assert (f"edited.yaml:{line_of(path, 'steroid-efficacy]')}: orderChecks[3].reminders[1]: "
            "unknown warning 'steroid-efficacy'") in str(err.value)


def test_unknown_order_check_kind(tmp_path):
    path = edited(tmp_path, "    check: maximum-dose", "    check: max-dose")
    with pytest.raises(ProtocolError) as err:
        load_protocol(path)
    assert f"edited.yaml:{line_of(path, 'check: max-dose')}: orderChecks[4].check: 'max-dose' is not one of" \
        in str(err.value)


def test_order_check_kind_needs_its_fields_and_only_them(tmp_path):
    path = edited(tmp_path, "    check: maximum-dose", "    check: maximum-dose\n    tolerancePercent: 10\n    label: x")
    with pytest.raises(ProtocolError) as err:
        load_protocol(path)
    message = str(err.value)
    assert "orderChecks[4].label: 'label' does not apply to a 'maximum-dose' check" in message
    assert (f"edited.yaml:{line_of(path, 'check: maximum-dose') + 1}: orderChecks[4].tolerancePercent: "
            "'tolerancePercent' does not apply to a 'maximum-dose' check") in message
    path = edited(tmp_path, "    check: dose  # the protocol's mg/kg dose and its per-dose cap\n"
                            "    tolerancePercent: 10  # vial sizes, local rounding: within 10 % of the protocol dose passes\n",
                  "    check: dose\n")
    with pytest.raises(ProtocolError) as err:
        load_protocol(path)
    assert "orderChecks[1]: 'tolerancePercent' is a required property" in str(err.value)


def test_order_check_names_one_drug_or_one_class(tmp_path):
    path = edited(tmp_path, "  - drugClass: gm-csf\n", "  - drugClass: gm-csf\n    drug: anakinra\n")
    with pytest.raises(ProtocolError) as err:
        load_protocol(path)
    assert "orderChecks[2]: expected an order check naming exactly one of drug or drugClass" in str(err.value)


def test_order_check_needs_what_it_checks(tmp_path):
    # repeat limits for a drug the protocol sets none for
    path = edited(tmp_path, "  - drug: tocilizumab\n    check: repeat-limits",
                  "  - drug: anakinra\n    check: repeat-limits")
    with pytest.raises(ProtocolError) as err:
        load_protocol(path)
    assert (f"edited.yaml:{line_of(path, '  - drug: anakinra')}: orderChecks[0].drug: a repeat-limits check needs "
            "settings.repeatLimits.anakinra") in str(err.value)
    # a dose check for a drug no action of the protocol doses
    path = edited(tmp_path, '  anakinra: {display: Anakinra, class: il1-antagonist, rxnorm: "72435"}\n',
                  '  anakinra: {display: Anakinra, class: il1-antagonist, rxnorm: "72435"}\n'
                  '  siltuximab: {display: Siltuximab, class: anti-il6}\n')
    path = edited(tmp_path, "  - drug: anakinra\n    check: maximum-dose", "  - drug: siltuximab\n    check: maximum-dose",
                  source=path)
    with pytest.raises(ProtocolError) as err:
        load_protocol(path)
    assert ("orderChecks[4].drug: a maximum-dose check needs a medication action for 'siltuximab'"
            in str(err.value))

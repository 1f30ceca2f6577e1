"""The grading knowledge file (grading/data/astct.json): defaults, validation, overrides."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from grading import GradingConfigError, load_grading_config
from grading.config import DEFAULT_CONFIG_PATH
from tests.support.grading_builders import assess, bp, o2, sat, temp


def write_config(tmp_path: Path, change) -> Path:
    doc = json.loads(DEFAULT_CONFIG_PATH.read_text())
    change(doc)
    path = tmp_path / "astct.json"
    path.write_text(json.dumps(doc))
    return path


def test_packaged_config_holds_the_reference_values() -> None:
    c = load_grading_config()
    assert (c.fever_threshold_c, c.fever_window_hours, c.current_window_hours) == (38.0, 24, 12)
    assert (c.eligibility_required, c.eligibility_window_days) == (True, 30)
    assert c.vasopressors == {"norepinephrine", "epinephrine", "phenylephrine", "dopamine", "vasopressin",
                              "angiotensin-ii"}
    assert c.not_counted_for_multiple == {"vasopressin"}
    assert c.oxygen_device_tiers["nasal-cannula"] == 2 and c.oxygen_device_tiers["cpap"] == 4
    assert (c.low_flow_max_l_min, c.flow_dependent_devices) == (6, {"nasal-cannula"})
    assert c.masking_drug_classes == {"antipyretic", "anti-il6", "il1-antagonist", "corticosteroid"}
    assert (c.adult_systolic_below, c.adult_map_below) == (90, 65)


def test_config_is_immutable() -> None:
    c = load_grading_config()
    with pytest.raises(AttributeError):
        c.fever_threshold_c = 37.5  # type: ignore[misc]
    with pytest.raises(TypeError):
        c.oxygen_device_tiers["cpap"] = 2  # type: ignore[index]


def test_a_bad_value_gives_an_error_naming_the_path_and_the_problem(tmp_path: Path) -> None:
    path = write_config(tmp_path, lambda d: d["fever"].update(threshold_celsius="hot"))
    with pytest.raises(GradingConfigError) as err:
        load_grading_config(path)
    assert "$.fever.threshold_celsius" in str(err.value)
    assert "'hot' is not of type 'number'" in str(err.value)
    assert str(path) in str(err.value)


def test_an_unknown_oxygen_tier_is_rejected(tmp_path: Path) -> None:
    path = write_config(tmp_path, lambda d: d["oxygen"]["device_tiers"].update(cpap=5))
    with pytest.raises(GradingConfigError, match=r"\$\.oxygen\.device_tiers\.cpap"):
        load_grading_config(path)


def test_a_missing_section_is_rejected(tmp_path: Path) -> None:
    path = write_config(tmp_path, lambda d: d.pop("masking"))
    with pytest.raises(GradingConfigError, match="'masking' is a required property"):
        load_grading_config(path)


def test_a_file_that_is_not_json_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "astct.json"
    path.write_text("{not json")
    with pytest.raises(GradingConfigError, match="not JSON"):
        load_grading_config(path)


def test_keyword_overrides_replace_single_values() -> None:
    c = load_grading_config(eligibility_required=False, current_window_hours=8)
    assert (c.eligibility_required, c.current_window_hours) == (False, 8)


def test_unknown_or_invalid_overrides_are_rejected() -> None:
    with pytest.raises(GradingConfigError, match="unknown grading config override"):
        load_grading_config(fever_threshold=38.5)
    with pytest.raises(GradingConfigError, match="current_window_hours: must be a positive number"):
        load_grading_config(current_window_hours=-1)


def test_institution_fever_threshold_changes_the_grade() -> None:
    items = [temp(38.0, 1), bp(120, 1), o2("room-air", 1), sat(97, 1)]
    assert assess(*items).grade == 1
    assert assess(*items, config=load_grading_config(fever_threshold_c=38.3)).grade == 0


def test_institution_current_window_changes_what_is_stale() -> None:
    items = [temp(39.0, 1), bp(84, 10), o2("room-air", 1), sat(97, 1)]
    assert assess(*items).grade == 2
    a = assess(*items, config=load_grading_config(current_window_hours=8))
    assert a.missing == ("cannot grade hypotension: no blood pressure recorded in the last 8 h",)

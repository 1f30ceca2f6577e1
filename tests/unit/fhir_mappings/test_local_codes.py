"""The site-local codes file (CRS_CDS_LOCAL_CODES_FILE): YAML or JSON, schema-checked, every problem
named with the file and line; entries add to the shipped lists for any concept the mapping knows."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from fhir_mappings import CodeListError, load_code_lists, load_local_codes
from tests.support.paths import EXAMPLES

ROW = "urn:oid:1.2.840.114350.1.13.0.1.7.2.707679"


def write(tmp_path: Path, text: str, name: str = "site.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_the_example_file_loads_and_adds_its_rows() -> None:
    codes = load_code_lists(local=load_local_codes(EXAMPLES / "local-codes.example.yaml"))
    assert codes.neuro_codes[(ROW, "3040100101")].concept == "ice-score"
    assert codes.local_roles[(ROW, "6")] == "temperature"
    assert codes.local_drugs[("urn:oid:1.2.840.114350.1.13.0.1.7.2.698288", "118032")][0].key == "norepinephrine"


def test_json_files_are_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, json.dumps({"codes": [{"concept": "ice-score", "system": ROW, "code": "1"}]}), "site.json")
    [entry] = load_local_codes(path)
    assert (entry.concept, entry.system, entry.code) == ("ice-score", ROW, "1")


def test_a_schema_error_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, f"codes:\n  - {{concept: ice-score, system: '{ROW}', code: '1'}}\n"
                           f"  - {{concept: ice-score, system: '{ROW}'}}\n")
    with pytest.raises(CodeListError) as err:
        load_local_codes(path)
    assert f"{path}:3: codes[1]: 'code' is a required property" in str(err.value)


def test_an_unknown_concept_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, f"codes:\n  - {{concept: ice-score, system: '{ROW}', code: '1'}}\n"
                           f"  - {{concept: temprature, system: '{ROW}', code: '6'}}\n")
    with pytest.raises(CodeListError) as err:
        load_code_lists(local=load_local_codes(path))
    assert f"{path}:3: codes[1]: concept: unknown concept 'temprature'" in str(err.value)


def test_an_answer_the_concept_does_not_have_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, f"codes:\n  - concept: consciousness-level\n    system: '{ROW}'\n    code: '9'\n"
                           "    answers: {'1': alert, '2': sleepy}\n")
    with pytest.raises(CodeListError) as err:
        load_code_lists(local=load_local_codes(path))
    assert f"{path}:2: codes[0]: answers['2']: 'sleepy' is not a value of consciousness-level" in str(err.value)


def test_a_score_answer_outside_the_instrument_range_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, f"codes:\n  - {{concept: ice-score, system: '{ROW}', code: '1', answers: {{'A': 12}}}}\n")
    with pytest.raises(CodeListError, match=r"12 is not a value of ice-score \(an integer 0-10 or unarousable\)"):
        load_code_lists(local=load_local_codes(path))


def test_answers_on_a_concept_that_takes_none_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, f"codes:\n  - {{concept: temperature, system: '{ROW}', code: '6', answers: {{'x': 1}}}}\n")
    with pytest.raises(CodeListError, match="concept 'temperature' takes no value or answers"):
        load_code_lists(local=load_local_codes(path))


def test_one_code_for_two_concepts_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, f"codes:\n  - {{concept: temperature, system: '{ROW}', code: '6'}}\n"
                           f"  - {{concept: weight, system: '{ROW}', code: '6'}}\n")
    with pytest.raises(CodeListError, match=r":3: codes\[1\]: .*already listed for another concept"):
        load_code_lists(local=load_local_codes(path))


def test_not_yaml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "codes:\n  - {concept: ice-score\n")
    with pytest.raises(CodeListError, match=re.escape(f"{path}:3: not valid YAML")):
        load_local_codes(path)


def test_a_missing_file_is_said(tmp_path: Path) -> None:
    with pytest.raises(CodeListError, match="cannot read the local codes file"):
        load_local_codes(tmp_path / "nope.yaml")

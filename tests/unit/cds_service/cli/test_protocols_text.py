"""Text behind ``crs-cds protocols list|show|validate``."""
from __future__ import annotations

from cds_service.cli.protocols import list_cmd, show_cmd, validate_cmd
from protocols.loader import DATA_DIR
from tests.support.protocol_files import edited


def test_list_names_every_protocol_and_the_defaults():
    text = list_cmd()
    assert "astct-generic (default)" in text
    assert "paediatric-seed004 (paediatric)" in text
    assert "christie-doc644-v8" in text


def test_show_is_a_grade_by_grade_table_with_sources():
    text = show_cmd("astct-generic")
    for heading in ("All grades", "Grade 1:", "Grade 2:", "Grade 3:", "Grade 4:", "Warnings"):
        assert heading in text
    assert "Tocilizumab 8 mg/kg (12 mg/kg if < 30 kg), max 800 mg per dose IV now" in text
    assert "tocilizumab: may repeat every 8 h, max 3 doses in 24 h, 4 in total" in text
    assert "≥ 1 prior tocilizumab doses and hypotension persisting" in text
    assert "ordered only if fever for > 24 h" in text
    assert "Treatment of CRS (guideline summary), Grade 3 CRS Management" in text


def test_show_lists_regimen_options_and_marks_the_selected_one():
    text = show_cmd("paediatric-seed004")
    assert "* childrens-national: 2 mg/kg, max 100 mg per dose, max 400 mg/day IV every 6 h" in text
    assert "st-jude:" in text and "chop:" in text


def test_validate_accepts_the_shipped_files():
    for path in DATA_DIR.glob("*.yaml"):
        ok, message = validate_cmd(str(path))
        assert ok, message
        assert "valid protocol" in message


def test_validate_reports_a_typo_with_file_line_and_path(tmp_path):
    path = edited(tmp_path, "          mgPerKg: 8\n", "          mg_per_kgg: 8\n")
    ok, message = validate_cmd(str(path))
    assert not ok
    assert "edited.yaml:" in message and "grades.1.actions[1].dose.mg_per_kgg: unknown field" in message

"""The words for the index-class rule: in the protocol listing (``crs-cds protocols show``) and as a reason."""
from __future__ import annotations

from cards.wording.protocol import condition_text
from cards.wording.reasons import reason
from protocols.model import Condition
from protocols.reasons import IndexClassIs


def test_an_index_class_condition_reads_as_the_kind_of_therapy() -> None:
    assert condition_text(Condition("index_class", "car-t")) == "after CAR-T cells"
    assert condition_text(Condition("index_class", "t-cell-engager")) == "after a T-cell engager"


def test_the_reason_names_the_patients_index_therapy_or_says_it_is_not_known() -> None:
    assert reason(IndexClassIs("t-cell-engager", "car-t")) == "index therapy: a T-cell engager"
    assert reason(IndexClassIs(None, "car-t")) == "index therapy class not known (the rule is for CAR-T cells)"

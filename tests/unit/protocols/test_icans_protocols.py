"""ICANS sections of the shipped protocols, with their sources: doses exactly as the ASCO 2021 text gives
them (generic), nothing borrowed where a source is silent (Christie, paediatric), the concurrent-CRS rule
(corticosteroid first, and why), and the start-up refusal of an ICANS section without a source."""
from __future__ import annotations

from pathlib import Path

import pytest

from protocols import ProtocolError, load_protocol
from protocols import recommend_icans as recommend_icans_typed
from tests.support.clinical_data import GRADING
from tests.support.protocol_builders import administration, assessment, snapshot
from tests.support.protocol_files import edited, line_of
from tests.support.protocol_wording import said

GENERIC = load_protocol("astct-generic")
CHRISTIE = load_protocol("christie-doc644-v8")
PAEDIATRIC = load_protocol("paediatric-seed004")
NOW = assessment(0).now


def recommend_icans(icans_grade: int, *, crs: int = 0, protocol=GENERIC, given=(), **kw):
    a = assessment(crs, icans_grade=icans_grade, fever=crs > 0, onset_hours=10 if crs else None)
    if not crs:
        a = type(a)(**{**{f: getattr(a, f) for f in a.__dataclass_fields__}, "status": "graded", "grade": 0})
    return said(recommend_icans_typed(a, snapshot(administrations=tuple(given), **kw), protocol, NOW,
                                      grading=GRADING))


def ids(recs) -> list[str]:
    return [r.action_id for r in recs.items]


def meds(recs) -> dict[str, tuple]:
    return {r.action_id: (r.drug.key, r.dose_mg, r.route, r.every_hours, r.recommended) for r in recs.medications}


# ------------------------------------------------------------------------------------ generic (ASCO 2021)

def test_generic_grade_1_without_crs_is_supportive_care_and_work_up_only() -> None:
    recs = recommend_icans(1)
    assert (recs.syndrome, recs.grade) == ("icans", 1)
    assert ids(recs) == ["neuro-assessment", "seizure-prophylaxis", "supportive-care"]
    assert recs.concurrent is None


def test_generic_grade_2_without_crs_suggests_dexamethasone_10mg_iv_for_high_risk_patients() -> None:
    recs = recommend_icans(2)
    assert meds(recs) == {"icans-dexamethasone": ("dexamethasone", 10, "IV", 6, False),
                          "icans-methylprednisolone": ("methylprednisolone", 70, "IV", 12, False)}
    dex = recs.for_drug("dexamethasone")[0]
    assert "2 doses, then reassess; repeat every 6-12 h if no improvement" in dex.text
    assert {"neuroimaging", "eeg"} <= set(ids(recs))
    assert "icu-with-crs" not in ids(recs)


def test_generic_grade_2_with_concurrent_crs_puts_the_corticosteroid_first_and_says_why() -> None:
    recs = recommend_icans(2, crs=2)
    assert meds(recs)["icans-dexamethasone"] == ("dexamethasone", 10, "IV", 6, True)
    assert "icu-with-crs" in ids(recs) and "tocilizumab-for-the-crs" in ids(recs)
    c = recs.concurrent
    assert c is not None and c.text.startswith("Concurrent CRS and ICANS: corticosteroid first")
    assert "tocilizumab treats the CRS, not the neurotoxicity" in c.text
    assert "(Santomasso et al.)" in c.source.label and c.source.section.endswith("G1 with concurrent CRS")


def test_generic_grade_3_icu_and_dexamethasone_10mg_iv_every_6h_recommended() -> None:
    recs = recommend_icans(3)
    assert meds(recs) == {"icans-dexamethasone": ("dexamethasone", 10, "IV", 6, True),
                          "icans-methylprednisolone": ("methylprednisolone", 70, "IV", 12, False)}
    assert {"icu-transfer", "lumbar-puncture", "eeg", "neuroimaging"} <= set(ids(recs))
    [icu] = [r for r in recs.services if r.action_id == "icu-transfer"]
    assert icu.codes[0].code == "305351004" and icu.priority == "urgent"


def test_generic_grade_4_high_dose_methylprednisolone_is_stated_without_an_unverified_dose() -> None:
    recs = recommend_icans(4)
    [mp] = recs.for_drug("methylprednisolone")
    assert (mp.dose_mg, mp.recommended, mp.orderable) == (None, True, False)
    assert "this protocol gives no dose - prescribe per the ASCO 2021 guideline" in mp.dose_problem


def test_generic_steroid_refractory_icans_offers_anakinra_without_a_dose_and_the_other_options() -> None:
    steroids = (administration("dexamethasone", 5), administration("dexamethasone", 2))
    recs = recommend_icans(3, given=steroids)
    [ana] = recs.for_drug("anakinra")
    assert (ana.dose_mg, ana.recommended) == (None, False)
    assert "more than 200 mg/day IV was associated with lower treatment-related mortality" in ana.dose_problem
    assert "2 corticosteroid doses since onset (needs ≥ 2)" in ana.rationale
    assert "refractory-options" in ids(recommend_icans(3, given=steroids))
    assert "icans-anakinra" not in ids(recommend_icans(3, given=steroids[:1]))


def test_a_steroid_given_before_icans_onset_does_not_make_it_steroid_refractory() -> None:
    before = (administration("dexamethasone", 20), administration("dexamethasone", 8))  # onset 6 h ago
    assert "icans-anakinra" not in ids(recommend_icans(3, given=before))


def test_every_generic_icans_item_cites_its_source() -> None:
    for grade in (1, 2, 3, 4):
        for r in recommend_icans(grade, crs=2).items:
            assert r.sources and r.sources[0].document in ("ASCO 2021", "003_c824dfb39d980f8c.txt",
                                                          "clinical-reference.md"), r.action_id


def test_no_icans_no_icans_actions() -> None:
    a = assessment(2)
    recs = said(recommend_icans_typed(a, snapshot(), GENERIC, NOW, grading=GRADING))
    assert recs.items == () and recs.notes == ("No ICANS grade 1-4 (ICANS status: None): no ICANS actions.",)


# ------------------------------------------------------------------------------ Christie and paediatric

def test_christie_icans_section_says_what_doc644_says_and_borrows_no_dose() -> None:
    recs = recommend_icans(3, crs=2, protocol=CHRISTIE)
    assert ids(recs) == ["assess-neurotoxicity", "no-icans-doses", "icans-steroid"]
    [steroid] = recs.for_drug("dexamethasone")
    assert (steroid.dose_mg, steroid.recommended) == (None, True)
    assert "DOC644 gives no ICANS dose" in steroid.dose_problem
    assert recs.concurrent.source.section == "§6.1 Treatment principles"
    assert all(r.sources[0].document == "002_3ba164531ae4c869.txt" for r in recs.items)


def test_paediatric_icans_grade_3_anakinra_by_the_selected_regimen_once_steroids_are_started() -> None:
    child = {"weight_kg": 20, "birth_date": NOW.date().replace(year=NOW.year - 7)}
    recs = recommend_icans(3, protocol=PAEDIATRIC, given=(administration("dexamethasone", 2),), **child)
    assert meds(recs)["icans-anakinra"] == ("anakinra", 40, "IV", 6, False)
    [steroid] = recs.for_drug("dexamethasone")
    assert steroid.dose_mg is None and "no paediatric ICANS corticosteroid dose" in steroid.dose_problem
    assert "icans-anakinra" not in ids(recommend_icans(3, protocol=PAEDIATRIC, **child))
    assert "icans-anakinra" not in ids(recommend_icans(2, protocol=PAEDIATRIC, given=(
        administration("dexamethasone", 2),), **child))


# ---------------------------------------------------------------------------------------- start-up

@pytest.mark.parametrize("old,new,where", [
    ("  source: {document: ASCO 2021, section: Table 2 ICANS Recommendations}\n", "", "icans"),
    ("    source: {document: ASCO 2021, section: Table 2 ICANS Recommendations - G1 with concurrent CRS}\n"
     "  allGrades:", "  allGrades:", "icans.concurrentCrs"),
])
def test_an_icans_section_that_cites_no_source_is_refused(tmp_path: Path, old: str, new: str, where: str) -> None:
    path = edited(tmp_path, old, new)
    with pytest.raises(ProtocolError) as err:
        load_protocol(path)
    assert f"{where}: 'source' is a required property" in str(err.value)
    assert str(line_of(path, "icans:" if where == "icans" else "concurrentCrs:")) in str(err.value)


def test_an_icans_action_without_a_source_is_refused(tmp_path: Path) -> None:
    path = edited(tmp_path, "          source: {document: ASCO 2021, section: Table 2 ICANS Recommendations - G1}\n", "")
    with pytest.raises(ProtocolError, match=r"icans\.grades\.1\.actions\[0\]: 'source' is a required property"):
        load_protocol(path)


def test_an_icans_source_must_be_one_of_the_protocols_sources(tmp_path: Path) -> None:
    path = edited(tmp_path, "  source: {document: ASCO 2021, section: Table 2 ICANS Recommendations}\n",
                  "  source: {document: ASCO 2022, section: Table 2}\n")
    with pytest.raises(ProtocolError, match=r"icans\.source\.document: 'ASCO 2022' is not one of the protocol's sources"):
        load_protocol(path)

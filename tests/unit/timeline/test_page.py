"""What the timeline page shows, checked on a ward record with known values: the plotted values with
their sources, the threshold lines, the oxygen steps, vasopressor bars, treatment markers, the grade band
(the service's own grade at every point), the evidence table and the protocol section."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from cards.recommendation_cards import status_text
from cards.wording.times import LocalTimes
from cds_service.bootstrap import build_assessor
from cds_service.settings import Settings
from devkit import fhirbuild as fb
from grading import grade_crs, grade_series
from tests.support.pages import shown_grade, ward_record
from timeline import build_page, render_page
from timeline.chart import Panel

ASSESSOR = build_assessor(Settings())
UTC_TIMES = LocalTimes()


def page_of(resources: list[dict], times: LocalTimes = UTC_TIMES):
    r = ASSESSOR.recommend(resources, patient_id="p1", now=fb.NOW)
    page = build_page(patient_id="p1", snapshot=r.snapshot, assessment=r.assessment,
                      recommendations=r.recommendations, grading=ASSESSOR.grading, times=times, data_source="test")
    return r, page, render_page(page, times)


@pytest.fixture(scope="module")
def ward():
    return page_of(ward_record())


def panel(page, css: str) -> Panel:
    return next(p for p in page.chart.panels if p.css == css)


def test_the_page_states_the_services_own_grade(ward) -> None:
    result, page, html = ward
    assert result.assessment.grade == 3
    assert shown_grade(html) == "3" and page.grade == 3
    assert 'data-grade="3"' in html and 'data-status="graded"' in html


def test_every_temperature_is_plotted_with_its_value_time_and_source_and_fever_is_flagged(ward) -> None:
    _, page, html = ward
    temps = panel(page, "temperature")
    high = next(d for d in temps.dots if "Observation/t-high" in d.title)
    assert high.title == "39.1 °C — 2026-11-21 10:00 UTC (2 h ago) — Observation/t-high" and high.flagged
    normal = next(d for d in temps.dots if "Observation/t70" in d.title)
    assert not normal.flagged
    assert len(temps.dots) == 18 + 2  # every 4 h for 70 h, onset and the highest; never the entered-in-error one
    assert "Observation/t-eie" not in "".join(d.title for d in temps.dots)
    assert "Observation/t-eie</span>: entered-in-error" in html  # said, in the section of what was left out
    assert "<title>39.1 °C — 2026-11-21 10:00 UTC (2 h ago) — Observation/t-high</title>" in html


def test_the_fever_line_is_drawn_at_the_grading_threshold(ward) -> None:
    _, page, html = ward
    temps = panel(page, "temperature")
    (rule,) = temps.rules
    assert rule.label == "fever ≥ 38.0"
    above = next(d for d in temps.dots if "t-onset" in d.title)
    below = next(d for d in temps.dots if "Observation/t70" in d.title)
    assert above.y < rule.y < below.y
    assert "fever ≥ 38.0</text>" in html


def test_blood_pressure_is_drawn_against_the_patients_hypotension_thresholds(ward) -> None:
    _, page, _ = ward
    bp = panel(page, "pressure")
    systolic, mean = bp.rules
    assert (systolic.label, mean.label) == ("SBP < 90 (adult)", "MAP < 65")
    low = next(d for d in bp.dots if "Observation/bp-low" in d.title and d.title.startswith("systolic"))
    assert low.title.startswith("systolic 84 mmHg") and low.flagged and low.y > systolic.y
    low_map = next(d for d in bp.dots if "Observation/map-low" in d.title)
    assert low_map.title.startswith("MAP 60 mmHg") and low_map.flagged and low_map.y > mean.y


def test_a_childs_threshold_is_the_age_band_of_the_grading_data() -> None:
    _, page, _ = page_of(ward_record(birth_date="2020-01-01"))  # 6 years old: 70 + 2 × 6
    assert [r.label for r in panel(page, "pressure").rules] == ["SBP < 82 (age 6 y)"]


def test_oxygen_support_is_stepped_by_astct_tier_and_unknown_where_nothing_was_charted(ward) -> None:
    _, page, _ = ward
    o2 = panel(page, "oxygen")
    axis = page.chart.axis
    steps = [(s.css, s.x, round(s.x + s.width, 1), s.label) for s in o2.spans if s.css.startswith("tier")]
    assert steps == [
        ("tier-0", axis.x(fb.NOW - timedelta(hours=20)), axis.x(fb.NOW - timedelta(hours=8)), ""),  # room air: 12 h
        ("tier-2", axis.x(fb.NOW - timedelta(hours=6)), axis.x(fb.NOW), "3 L/min"),  # nasal cannula, low-flow
    ]
    gaps = [(s.x, round(s.x + s.width, 1)) for s in o2.spans if s.css == "no-data"]
    assert (axis.x(fb.NOW - timedelta(hours=8)), axis.x(fb.NOW - timedelta(hours=6))) in gaps
    assert all("no oxygen-support record in the last 12 h" in s.title for s in o2.spans if s.css == "no-data")


def test_a_running_vasopressor_is_a_bar_to_now(ward) -> None:
    _, page, _ = ward
    pressors = panel(page, "vasopressors")
    assert [r.label for r in pressors.rows] == ["norepinephrine"]
    (bar,) = pressors.spans
    assert bar.css == "vasopressor running" and bar.x == page.chart.axis.x(fb.NOW - timedelta(hours=2))
    assert round(bar.x + bar.width, 1) == page.chart.now_x
    assert "MedicationAdministration/norepi" in bar.title and "running until now" in bar.title


def test_treatments_are_markers_in_their_rows_with_dose_and_source(ward) -> None:
    _, page, _ = ward
    treatment = panel(page, "treatment")
    rows = {r.label: r.y for r in treatment.rows}
    by_shape = {m.shape: m for m in treatment.markers}
    assert by_shape["anti-il6"].title.startswith("tocilizumab 560 mg IV, completed — 2026-11-21 07:00 UTC (5 h ago)")
    assert by_shape["anti-il6"].title.endswith("MedicationAdministration/toci-1")
    assert by_shape["anti-il6"].y == rows["Anti-IL-6"]
    assert by_shape["corticosteroid"].y == rows["Corticosteroid"] and "dexa-1" in by_shape["corticosteroid"].title
    assert by_shape["antipyretic"].y == rows["Antipyretic"] and "apap-1" in by_shape["antipyretic"].title
    assert "il1-antagonist" not in by_shape  # no anakinra given: an empty row, never an invented marker


def test_the_grade_band_is_the_services_grade_at_every_moment(ward) -> None:
    result, page, _ = ward
    band, axis = panel(page, "grade"), page.chart.axis
    series = grade_series(result.snapshot, axis.start, axis.end, ASSESSOR.grading)
    runs = [p for i, p in enumerate(series) if i == 0 or (p.status, p.grade, p.lower_bound) != (
        series[i - 1].status, series[i - 1].grade, series[i - 1].lower_bound)]
    assert [s.x for s in band.spans] == [axis.x(p.time) for p in runs]
    for span, run, following in zip(band.spans, runs, [*runs[1:], None], strict=True):
        end = following.time if following else axis.end
        for t in (run.time, run.time + (end - run.time) / 2):  # where it starts, and halfway
            a = grade_crs(result.snapshot, t, ASSESSOR.grading)
            assert span.css.split()[0] == (f"grade-{a.grade}" if a.status == "graded" else a.status), (span, t)
    assert band.spans[-1].css == "grade-3" and band.spans[-1].x == axis.x(fb.NOW - timedelta(hours=2))
    assert band.spans[-1].title.startswith("ASTCT grade 3 from 2026-11-21 10:00 UTC")


def test_the_evidence_table_lists_every_piece_of_evidence_with_its_fhir_reference(ward) -> None:
    result, page, html = ward
    assert len(page.evidence) == len(result.assessment.evidence) > 5
    for e in result.assessment.evidence:
        assert f'<td class="ref">{e.source}</td>' in html
    assert page.evidence[0].role == "fever"
    vasopressor = next(r for r in page.evidence if r.role == "vasopressor")
    assert vasopressor.value == "norepinephrine 0.05 µg/kg/min, running"


def test_the_protocol_section_gives_every_action_its_status_and_source(ward) -> None:
    result, page, html = ward
    recs = result.recommendations
    assert recs.items and page.protocol.title.startswith(recs.protocol_title)
    assert [a.status for a in page.protocol.items] == [status_text(r, recs) for r in recs.items]
    for r in recs.items:
        for citation in r.sources:
            assert citation.label in html.replace("&#39;", "'").replace("&amp;", "&")
    dexamethasone = next(a for a in page.protocol.items if a.text.startswith("Dexamethasone"))
    assert dexamethasone.sources and dexamethasone.status.startswith("order suggested")


def test_times_are_in_the_deployments_zone() -> None:
    _, page, html = page_of(ward_record(), LocalTimes(ZoneInfo("Europe/Paris")))
    assert page.now == "2026-11-21 13:00 CET"
    high = next(d for d in panel(page, "temperature").dots if "t-high" in d.title)
    assert "2026-11-21 11:00 CET (2 h ago)" in high.title
    assert "Times in Europe/Paris" in html


def test_missing_data_is_hatched_and_makes_the_band_a_lower_bound() -> None:
    record = [r for r in ward_record() if not r["id"].startswith(("bp", "map", "norepi"))]
    record.append(fb.blood_pressure(118, 70, fb.ago(hours=20), rid="bp-old"))
    result, page, html = page_of(record)
    assert result.assessment.lower_bound and result.assessment.grade == 2
    bp_gaps = [s for s in panel(page, "pressure").spans if s.css == "no-data"]
    assert round(bp_gaps[-1].x + bp_gaps[-1].width, 1) == page.chart.now_x
    assert bp_gaps[-1].x == page.chart.axis.x(fb.NOW - timedelta(hours=8))
    assert shown_grade(html) == "≥ 2"
    assert "lower-bound" in panel(page, "grade").spans[-1].css
    assert "cannot grade hypotension: no blood pressure recorded in the last 12 h" in html


def test_a_patient_without_index_therapy_gets_a_page_saying_so() -> None:
    record = [r for r in ward_record() if r.get("id") != "cart"]
    _, page, html = page_of(record)
    assert page.status == "not-eligible" and shown_grade(html) == "not assessed (no index therapy)"
    assert page.chart.axis.start == fb.NOW - timedelta(days=7) and page.chart.index_x is None


def test_what_the_ehr_wrote_is_text_never_markup() -> None:
    record = [r for r in ward_record() if r.get("id") != "cart"]
    record.append(fb.car_t(fb.ago(days=3), product="axicabtagene ciloleucel <script>alert(1)</script>", rid="cart"))
    result, _, html = page_of(record)
    assert result.assessment.index_therapy is not None
    assert "<script" not in html
    assert "axicabtagene ciloleucel &lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_page_is_static_and_fits_600_px(ward) -> None:
    _, page, html = ward
    assert "<script" not in html and "http://" not in html.split("<body", 1)[1].replace("http://www.w3.org", "")
    assert 'viewBox="0 0 600.0 ' in html and page.chart.width == 600


def test_a_record_with_nothing_charted_is_all_missing_never_normal() -> None:
    result, page, html = page_of([fb.patient(), fb.car_t(fb.ago(days=2), rid="cart")])
    assert result.assessment.status == "insufficient-data" and shown_grade(html) == "cannot be assessed"
    for css, empty in (("temperature", "no temperature recorded"), ("pressure", "no blood pressure recorded"),
                       ("oxygen", "no oxygen support recorded"), ("vasopressors", "no vasopressor recorded")):
        p = panel(page, css)
        assert p.empty == empty and not p.dots
        if css != "vasopressors":
            (gap,) = [s for s in p.spans if s.css == "no-data"]  # the whole axis, hatched
            assert (gap.x, round(gap.x + gap.width, 1)) == (page.chart.axis.left, page.chart.now_x)
    assert [s.css for s in panel(page, "grade").spans] == ["not-eligible", "insufficient-data"]  # before day 0, after


def test_protocol_evidence_names_each_thing_once(ward) -> None:
    """"acetaminophen 1000 mg given after CRS onset", never "acetaminophen acetaminophen ..."."""
    _, page, _ = ward
    lines = [line for item in (*page.protocol.items, *page.protocol.warnings) for line in item.evidence]
    assert any(line.startswith("acetaminophen 1000 mg") for line in lines)
    for line in lines:
        words = line.split()
        assert words[0] != words[1], line


def test_hypotension_without_fever_is_drawn_as_not_graded_and_says_why() -> None:
    """ASTCT grading starts with fever: hypotension in an afebrile patient is "not graded", never grade 0,
    and the band says what it is rather than leaving "NG" to be read as "not assessed"."""
    record = [r for r in ward_record() if not r["id"].startswith(("t", "o2"))]
    record += [fb.temperature(37.0, fb.ago(hours=h), rid=f"t{h}") for h in range(70, 0, -4)]
    result, page, html = page_of(record)
    assert result.assessment.status == "not-graded"
    last = panel(page, "grade").spans[-1]
    assert last.css == "not-graded" and last.title.startswith("CRS not graded: hypotension or hypoxia without current fever")
    assert "NG: not graded (hypotension or hypoxia without fever)" in html

"""The chart as geometry: panels of dots, lines, steps, bars and markers on one time axis.

Drawn server-side as inline SVG (no script, no CDN: hospital networks are closed and an
EHR's embedded browser may run none). Coordinates are computed here and the template
only writes them out, so the tests can check what is drawn without parsing SVG.

Clinical safety, as the grade reads the data:
- every plotted value carries its FHIR source and time (``title``, the SVG tooltip);
- a line never bridges a gap longer than the grading window of its input, and a stretch
  with no reading in that window is hatched "no data", never drawn as normal;
- oxygen support is stepped by ASTCT tier exactly as grading tiers each record
  (``grading.hypoxia.support_tier``), and holds only for the current window after a record;
- vasopressor periods are grading's own (``vasopressor_periods``): a running infusion
  reaches now.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from cards.wording import readings
from cards.wording.numbers import number
from cards.wording.times import LocalTimes
from clinical import ClinicalSnapshot, DrugAdministration, HypotensionThreshold, OxygenSupport
from grading import GradePoint, GradingConfig
from grading.hypotension import inotrope_periods, vasopressor_periods
from grading.hypoxia import one_support_per_instant, support_tier
from grading.windows import Period, Timed

from .axis import Tick, TimeAxis

WIDTH = 600.0  # the SVG's own units; it scales to the page width (600 px in an EHR's side panel)
LEFT, RIGHT = 84.0, 10.0
GAP = 16.0  # between panels: room for the next panel's title
ROW = 15.0  # one drug row
FLOW_LABEL_WIDTH = 40.0  # a flow label ("12 L/min") is written only where the previous one has ended
TREATMENT_ROWS = (("anti-il6", "Anti-IL-6"), ("corticosteroid", "Corticosteroid"),
                  ("il1-antagonist", "Anakinra (IL-1)"), ("antipyretic", "Antipyretic"))
TIER_ROWS = ((4, "positive pressure"), (3, "high-flow / mask"), (2, "low-flow"), (0, "room air"))
T = TypeVar("T", bound=Timed)
U = TypeVar("U")


@dataclass(frozen=True, slots=True)
class Dot:
    x: float
    y: float
    title: str  # value, time and FHIR source (tooltip)
    flagged: bool = False  # beyond the threshold (fever, hypotension)


@dataclass(frozen=True, slots=True)
class Span:
    """A horizontal stretch of a panel: a grade, a bar, a step, a hatched gap."""

    x: float
    width: float
    title: str
    css: str = ""  # CSS class: grade-2, lower-bound, running, ...
    label: str = ""
    y: float = 0.0
    height: float = 0.0


@dataclass(frozen=True, slots=True)
class Marker:
    x: float
    y: float
    shape: str  # the class of drug: anti-il6, corticosteroid, ...
    title: str


@dataclass(frozen=True, slots=True)
class Rule:
    """A horizontal reference line: the fever threshold, a hypotension threshold."""

    y: float
    label: str
    css: str


@dataclass(frozen=True, slots=True)
class YTick:
    y: float
    label: str


@dataclass(slots=True)
class Panel:
    title: str
    top: float
    height: float
    css: str
    dots: list[Dot] = field(default_factory=list)
    lines: list[tuple[str, str]] = field(default_factory=list)  # (SVG points "x,y x,y", CSS class)
    spans: list[Span] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    yticks: list[YTick] = field(default_factory=list)
    rows: list[YTick] = field(default_factory=list)  # row labels (drugs, oxygen tiers)
    empty: str | None = None  # said in the panel when nothing was recorded
    dot_radius: float = 1.6

    @property
    def bottom(self) -> float:
        return self.top + self.height


@dataclass(frozen=True, slots=True)
class Chart:
    width: float
    height: float
    axis: TimeAxis
    panels: tuple[Panel, ...]
    ticks: tuple[Tick, ...]
    now_x: float
    index_x: float | None  # the index therapy's line
    index_title: str | None

    @property
    def plot_top(self) -> float:
        return self.panels[0].top

    @property
    def plot_bottom(self) -> float:
        return self.panels[-1].bottom


@dataclass(frozen=True, slots=True)
class ChartInput:
    """What the chart is drawn from; ``series`` is grading's own grade over time."""

    snapshot: ClinicalSnapshot
    series: tuple[GradePoint, ...]
    start: datetime
    now: datetime
    threshold: HypotensionThreshold
    grading: GradingConfig
    times: LocalTimes
    index_therapy: DrugAdministration | None


# ------------------------------------------------------------------------------------------ helpers

class _Scale:
    """Values to y within a panel (higher values drawn higher)."""

    def __init__(self, top: float, height: float, low: float, high: float) -> None:
        self.top, self.height, self.low, self.high = top, height, low, high

    def y(self, value: float) -> float:
        share = (min(self.high, max(self.low, value)) - self.low) / (self.high - self.low)
        return round(self.top + self.height * (1 - share), 1)


def _range(values: Iterable[float], low: float, high: float, step: float) -> tuple[float, float]:
    """The panel's value range: the usual clinical range, widened to the data, on whole steps."""
    seen = list(values)
    lo, hi = min([low, *seen]), max([high, *seen])
    return step * (lo // step), step * -(-hi // step)


def _with_next(items: Sequence[U]) -> Iterator[tuple[U, U | None]]:
    """Each item with the one after it (None after the last); nothing for no items."""
    return zip(items, [*items[1:], None], strict=False)


def _within(items: Sequence[T], axis: TimeAxis) -> list[T]:
    return [i for i in items if axis.covers(i.time)]


def _gaps(times: Sequence[datetime], window: timedelta, axis: TimeAxis) -> list[tuple[datetime, datetime]]:
    """Stretches of the axis with no reading in the last ``window``: what grading calls missing."""
    gaps: list[tuple[datetime, datetime]] = []
    covered_until = axis.start
    for t in times:
        if t > covered_until:
            gaps.append((covered_until, t))
        covered_until = max(covered_until, t + window)
    if covered_until < axis.end:
        gaps.append((covered_until, axis.end))
    return [(a, b) for a, b in gaps if b > a]


def _polylines(points: Sequence[tuple[datetime, float, float]], window: timedelta) -> list[str]:
    """Points joined while consecutive readings are within ``window``; a longer gap breaks the line."""
    lines: list[list[str]] = []
    previous: datetime | None = None
    for t, x, y in points:
        if previous is None or t - previous > window:
            lines.append([])
        lines[-1].append(f"{x},{y}")
        previous = t
    return [" ".join(line) for line in lines if len(line) > 1]


def _title(what: str, t: datetime, source: str, ci: ChartInput) -> str:
    return f"{what} — {ci.times.when(t, ci.now)} — {source}"


def _hatch(panel: Panel, axis: TimeAxis, gaps: list[tuple[datetime, datetime]], what: str, ci: ChartInput) -> None:
    for a, b in gaps:
        x0, x1 = axis.x(a), axis.x(b)
        if x1 - x0 >= 0.5:
            panel.spans.append(Span(x0, round(x1 - x0, 1), f"{what} from {ci.times.stamp(a)} to {ci.times.stamp(b)}",
                                    "no-data", y=panel.top, height=panel.height))


# ------------------------------------------------------------------------------------------- panels

GRADE_LABELS = {"not-graded": ("not graded: hypotension or hypoxia without current fever", "NG"),
                "insufficient-data": ("cannot be assessed", "?"), "not-eligible": ("not eligible", "–")}


def grade_band(ci: ChartInput, axis: TimeAxis, top: float) -> Panel:
    """Grading's own grade at every instant (``grade_series``), merged into runs."""
    panel = Panel("ASTCT grade", top, 24.0, "grade")
    runs: list[tuple[GradePoint, datetime]] = []
    for point, following in _with_next(ci.series):
        until = following.time if following is not None else axis.end
        same = runs and (runs[-1][0].status, runs[-1][0].grade, runs[-1][0].lower_bound) == (
            point.status, point.grade, point.lower_bound)
        if same:
            runs[-1] = (runs[-1][0], until)
        else:
            runs.append((point, until))
    for point, until in runs:
        x0, x1 = axis.x(point.time), axis.x(until)
        if point.status == "graded":
            prefix = "≥ " if point.lower_bound else ""
            text = f"ASTCT grade {prefix}{point.grade}" + (" (data missing: at least)" if point.lower_bound else "")
            css, label = f"grade-{point.grade}" + (" lower-bound" if point.lower_bound else ""), \
                f"{prefix}{point.grade}"
        else:
            text, label = GRADE_LABELS[point.status]
            text = f"CRS {text}"
            css = point.status
        panel.spans.append(Span(x0, max(0.6, round(x1 - x0, 1)),
                                f"{text} from {ci.times.stamp(point.time)} to {ci.times.stamp(until)}",
                                css, label if x1 - x0 >= 9 + 4 * len(label) else "", y=top, height=panel.height))
    return panel


def temperature_panel(ci: ChartInput, axis: TimeAxis, top: float) -> Panel:
    threshold = ci.grading.fever_threshold_c
    temps = _within(ci.snapshot.temperatures, axis)
    low, high = _range((t.celsius for t in temps), 35.0, 40.0, 1.0)
    panel = Panel("Temperature °C", top, 96.0, "temperature")
    scale = _Scale(top, panel.height, low, high)
    window = timedelta(hours=ci.grading.fever_window_hours)
    _hatch(panel, axis, _gaps([t.time for t in ci.snapshot.temperatures], window, axis),
           f"no temperature in the last {number(ci.grading.fever_window_hours)} h", ci)
    panel.yticks = [YTick(scale.y(v), number(v)) for v in _steps(low, high, 1.0)]
    panel.rules.append(Rule(scale.y(threshold), f"fever ≥ {threshold:.1f}", "threshold"))
    points = [(t.time, axis.x(t.time), scale.y(t.celsius)) for t in temps]
    panel.lines = [(line, "temperature") for line in _polylines(points, window)]
    panel.dots = [Dot(x, y, _title(readings.temperature(t), t.time, t.source, ci), t.celsius >= threshold)
                  for t, (_, x, y) in zip(temps, points, strict=True)]
    panel.dot_radius = _dot_radius(len(temps), axis)
    panel.empty = None if temps else "no temperature recorded"
    return panel


def _dot_radius(count: int, axis: TimeAxis) -> float:
    """Smaller dots where readings are denser than one per two units of width (15-minute vitals)."""
    return 1.6 if count < axis.width / 2 else 1.0


def _steps(low: float, high: float, step: float) -> list[float]:
    count = round((high - low) / step)
    every = max(1, -(-count // 5))  # at most ~6 labels
    return [low + step * i for i in range(0, count + 1, every)]


def pressure_panel(ci: ChartInput, axis: TimeAxis, top: float) -> Panel:
    thr = ci.threshold
    bps = _within(ci.snapshot.blood_pressures, axis)
    values = [v for b in bps for v in (b.systolic, b.mean) if v is not None]
    low, high = _range(values, 40.0, 160.0, 20.0)
    panel = Panel("Blood pressure mmHg", top, 110.0, "pressure")
    scale = _Scale(top, panel.height, low, high)
    window = timedelta(hours=ci.grading.current_window_hours)
    usable = [b.time for b in ci.snapshot.blood_pressures
              if b.systolic is not None or (thr.map_below is not None and b.mean is not None)]
    _hatch(panel, axis, _gaps(usable, window, axis),
           f"no blood pressure in the last {number(ci.grading.current_window_hours)} h", ci)
    panel.yticks = [YTick(scale.y(v), number(v)) for v in _steps(low, high, 20.0)]
    basis = readings.threshold_basis(thr, formula=False)
    panel.rules.append(Rule(scale.y(thr.systolic_below), f"SBP < {number(thr.systolic_below)} ({basis})",
                            "threshold systolic"))
    if thr.map_below is not None:
        panel.rules.append(Rule(scale.y(thr.map_below), f"MAP < {number(thr.map_below)}", "threshold mean"))
    for measure, css, below in (("systolic", "systolic", thr.systolic_below), ("mean", "mean", thr.map_below)):
        taken = [(b, getattr(b, measure)) for b in bps if getattr(b, measure) is not None]
        points = [(b.time, axis.x(b.time), scale.y(v)) for b, v in taken]
        panel.lines += [(line, css) for line in _polylines(points, window)]
        name = "systolic" if measure == "systolic" else "MAP"
        panel.dots += [Dot(x, y, _title(f"{name} {number(v)} mmHg", b.time, b.source, ci),
                           below is not None and v < below)
                       for (b, v), (_, x, y) in zip(taken, points, strict=True)]
    panel.dot_radius = _dot_radius(len(bps), axis)
    panel.empty = None if values else "no blood pressure recorded"
    return panel


def oxygen_panel(ci: ChartInput, axis: TimeAxis, top: float) -> Panel:
    """Support as steps by ASTCT tier; each record holds until the next or for the current window."""
    panel = Panel("Oxygen support", top, 64.0, "oxygen")
    row_y = {tier: round(top + 8 + i * (panel.height - 16) / 3, 1) for i, (tier, _) in enumerate(TIER_ROWS)}
    panel.rows = [YTick(row_y[tier], label) for tier, label in TIER_ROWS]
    window = timedelta(hours=ci.grading.current_window_hours)
    records = one_support_per_instant(list(ci.snapshot.oxygen))
    tiered: list[tuple[OxygenSupport, int]] = []
    for record in records:
        how = support_tier(record, ci.grading)
        if how.tier is not None and how.tier not in row_y:  # a site's grading data with another tier
            how = type(how)(min(row_y, key=lambda r: abs(r - (how.tier or 0))), how.rule, how.low_flow_tier)
        if how.tier is None:
            if axis.covers(record.time):
                panel.markers.append(Marker(axis.x(record.time), row_y[0], "unknown-support",
                                            _title(readings.support(record, how) + " — tier unknown, not used",
                                                   record.time, record.source, ci)))
            continue
        tiered.append((record, how.tier))
        if axis.covers(record.time):
            panel.dots.append(Dot(axis.x(record.time), row_y[how.tier],
                                  _title(readings.support(record, how), record.time, record.source, ci)))
    _hatch(panel, axis, _gaps([r.time for r, _ in tiered], window, axis),
           f"no oxygen-support record in the last {number(ci.grading.current_window_hours)} h", ci)
    # One step per instant: the most severe tier charted at that time (with its flow when one was charted),
    # held until the next record.
    by_time: dict[datetime, tuple[OxygenSupport, int]] = {}
    for record, tier in tiered:
        held = by_time.get(record.time)
        if held is None or (tier, record.flow_l_min is not None) > (held[1], held[0].flow_l_min is not None):
            by_time[record.time] = (record, tier)
    steps = sorted(by_time.values(), key=lambda rt: rt[0].time)
    last_flow: float | None = None
    labelled_until = axis.left
    for (record, tier), following in _with_next(steps):
        until = min(following[0].time if following else axis.end, record.time + window, axis.end)
        if until < axis.start or record.time > axis.end:
            continue
        x0, x1 = axis.x(record.time), axis.x(until)
        flow = record.flow_l_min
        label = ""
        if flow is not None and flow != last_flow and tier > 0 and x0 >= labelled_until:
            label, labelled_until = f"{number(flow)} L/min", x0 + FLOW_LABEL_WIDTH
        last_flow = flow
        panel.spans.append(Span(x0, round(x1 - x0, 1), "", f"tier-{tier}", label, y=row_y[tier]))
    panel.dot_radius = _dot_radius(len(panel.dots), axis)
    panel.empty = None if tiered else "no oxygen support recorded"
    return panel


def _period_spans(periods: Iterable[Period], rows: dict[str, float], css: str, ci: ChartInput,
                  axis: TimeAxis, note: str = "") -> list[Span]:
    spans = []
    for p in periods:
        if p.end < axis.start:
            continue
        a = p.administration
        x0, x1 = axis.x(p.start), axis.x(p.end)
        state = "running until now" if p.running else f"until {ci.times.stamp(p.end)}"
        title = (f"{readings.administration(a, p.running)}{note} — from {ci.times.stamp(p.start)} {state} — "
                 f"{a.source}")
        spans.append(Span(x0, max(1.5, round(x1 - x0, 1)), title, css + (" running" if p.running else ""),
                          y=rows[p.drug]))
    return spans


def vasopressor_panel(ci: ChartInput, axis: TimeAxis, top: float) -> Panel:
    admins = list(ci.snapshot.administrations)
    pressors = vasopressor_periods(admins, ci.now, ci.grading)
    inotropes = inotrope_periods(admins, ci.now, ci.grading)
    drugs = list(dict.fromkeys(p.drug for p in [*pressors, *inotropes] if p.end >= axis.start))
    panel = Panel("Vasopressors", top, ROW * max(1, len(drugs)), "vasopressors")
    rows = {drug: round(top + ROW * i + ROW / 2, 1) for i, drug in enumerate(drugs)}
    panel.rows = [YTick(y, drug + (" (inotrope)" if drug not in {p.drug for p in pressors} else ""))
                  for drug, y in rows.items()]
    panel.spans = [*_period_spans(pressors, rows, "vasopressor", ci, axis),
                   *_period_spans(inotropes, rows, "inotrope", ci, axis, " (inotrope, not counted by ASTCT)")]
    panel.empty = None if drugs else "no vasopressor recorded"
    return panel


def treatment_panel(ci: ChartInput, axis: TimeAxis, top: float) -> Panel:
    panel = Panel("Treatment", top, ROW * len(TREATMENT_ROWS), "treatment")
    rows = {cls: round(top + ROW * i + ROW / 2, 1) for i, (cls, _) in enumerate(TREATMENT_ROWS)}
    panel.rows = [YTick(rows[cls], label) for cls, label in TREATMENT_ROWS]
    for a in ci.snapshot.administrations:
        if a.drug_class in rows and axis.covers(a.start):
            route = f" {a.route}" if a.route else ""
            panel.markers.append(Marker(axis.x(a.start), rows[a.drug_class], a.drug_class,
                                        _title(f"{a.drug}{readings.dose(a)}{route}, {a.status}", a.start, a.source,
                                               ci)))
    return panel


def build_chart(ci: ChartInput) -> Chart:
    axis = TimeAxis(ci.start, ci.now, LEFT, WIDTH - LEFT - RIGHT)
    panels: list[Panel] = []
    top = 14.0
    makers: list[Callable[[ChartInput, TimeAxis, float], Panel]] = [
        grade_band, temperature_panel, pressure_panel, oxygen_panel, vasopressor_panel, treatment_panel]
    for make in makers:
        panel = make(ci, axis, top)
        panels.append(panel)
        top = panel.bottom + GAP
    index = ci.index_therapy
    index_x = axis.x(index.start) if index is not None and axis.covers(index.start) else None
    index_title = (f"{index.display} (index therapy) — {ci.times.stamp(index.start)} — {index.source}"
                   if index is not None else None)
    return Chart(WIDTH, round(top + 30, 1), axis, tuple(panels),
                 tuple(axis.ticks(ci.times, index.start if index is not None else None)), axis.x(ci.now), index_x,
                 index_title)

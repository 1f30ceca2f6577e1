"""HTML of the timeline page and of its error pages: Jinja2 templates, autoescaped.

Everything on the page that came from the EHR (ids, displays, FHIR references) is text
to the template and escaped by it; the templates hold no logic beyond loops.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from cards.wording.times import LocalTimes

from .page import TimelinePage

# One small path per class of treatment marker, centred on (0, 0).
MARKER_SHAPES = {
    "anti-il6": "M0,-5 L5,0 L0,5 L-5,0 Z",  # diamond
    "corticosteroid": "M0,-5 L5,4 L-5,4 Z",  # triangle
    "il1-antagonist": "M-4,-4 H4 V4 H-4 Z",  # square
    "antipyretic": "M-3.5,0 A3.5,3.5 0 1,0 3.5,0 A3.5,3.5 0 1,0 -3.5,0 Z",  # circle
    "unknown-support": "M-3,-3 L3,3 M3,-3 L-3,3",  # a cross: oxygen recorded, tier unknown
}

_ENV = Environment(loader=PackageLoader("timeline", "templates"),
                   autoescape=select_autoescape(["html", "css"], default_for_string=True, default=True),
                   undefined=StrictUndefined, trim_blocks=False, lstrip_blocks=False)


@dataclass(frozen=True, slots=True)
class ErrorPage:
    """What went wrong, said to the person who opened the page; never a request value or patient data."""

    status: int
    code: str  # stable, e.g. "iss-not-allowed"
    title: str
    message: str
    hint: str | None = None
    request_id: str | None = None


def render_page(page: TimelinePage, times: LocalTimes) -> str:
    return _ENV.get_template("page.html").render(page=page, chart=page.chart, times=times,
                                                 marker_shapes=MARKER_SHAPES)


def render_error(error: ErrorPage) -> str:
    return _ENV.get_template("error.html").render(**asdict(error))

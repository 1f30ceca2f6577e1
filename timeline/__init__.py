"""timeline: the CRS timeline page, server-rendered HTML with an inline SVG chart.

One patient on one time axis from the index therapy to now: the ASTCT grade over time
(grading's own ``grade_series``), temperature, blood pressure, oxygen support, vasopressors
and treatment, then the complete evidence and the protocol section. Built from clinical
values with the cards' wording; knows nothing of HTTP, FHIR or SMART (the service layer
reads the data and the transport serves the HTML).
"""
from .page import TimelinePage, build_page
from .render import ErrorPage, render_error, render_page

__all__ = ["ErrorPage", "TimelinePage", "build_page", "render_error", "render_page"]

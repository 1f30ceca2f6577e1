"""Small GitHub-flavoured-markdown helpers for card details.

EHRs render card ``detail`` differently and some show raw text, so we keep to
plain GFM (bold, lists, pipe tables) and never emit HTML.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from .wording import times


def escape_cell(text: str) -> str:
    """Make ``text`` safe inside a GFM table cell (pipes and newlines break rows)."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(escape_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def bullets(items: Iterable[str]) -> str:
    return "\n".join(f"- {item}" for item in items)


def when(t: datetime, now: datetime) -> str:
    """Absolute UTC time plus how long ago, e.g. ``2026-11-21 10:00 UTC (2 h ago)``.

    Clinicians read the relative part; the absolute part lets them find the
    entry in the chart.
    """
    return times.when(t, now, UTC)


def truncate(text: str, limit: int) -> str:
    """Cut ``text`` to fewer than ``limit`` characters at a word boundary."""
    if len(text) < limit:
        return text
    cut = text[: limit - 2].rsplit(" ", 1)[0].rstrip(";,:")
    return cut + "…"

"""Small GitHub-flavoured-markdown helpers for card details.

EHRs render card ``detail`` differently: some show raw text, and Oracle Health shows cards in a sidebar an
eighth of the screen wide. So we keep to plain GFM -- bold, short paragraphs, bullet lists with one fact a
line -- with no tables and never HTML.
"""
from __future__ import annotations

from collections.abc import Iterable


def bullets(items: Iterable[str]) -> str:
    return "\n".join(f"- {item}" for item in items)


def truncate(text: str, limit: int) -> str:
    """Cut ``text`` to fewer than ``limit`` characters at a word boundary."""
    if len(text) < limit:
        return text
    cut = text[: limit - 2].rsplit(" ", 1)[0].rstrip(";,:")
    return cut + "…"

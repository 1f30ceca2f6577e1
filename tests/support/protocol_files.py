"""Edited copies of the shipped protocol files, for loader and CLI tests."""
from __future__ import annotations

from pathlib import Path

from protocols.loader import DATA_DIR

GENERIC_FILE = DATA_DIR / "astct-generic.yaml"


def edited(tmp_path: Path, old: str, new: str, *, count: int = 1, source: Path = GENERIC_FILE) -> Path:
    """A copy of a shipped protocol with one textual edit (must match exactly ``count`` times)."""
    text = source.read_text()
    assert text.count(old) == count, f"{old!r} occurs {text.count(old)} times"
    path = tmp_path / "edited.yaml"
    path.write_text(text.replace(old, new))
    return path


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)

"""Whole-word, case-insensitive matching of names (drugs, devices, routes) in free text.

EHRs often send product-level codes the code lists do not contain, or only a
text ("Actemra 400 mg/20 mL", "O2 via NC 2 L/min"). Text and names are both
normalised the same way (lower case, every run of punctuation or spaces
becomes one space) so "Solu-Medrol" matches "solu medrol" and "epinephrine"
never matches inside "norepinephrine".
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Generic, TypeVar

T = TypeVar("T")

_NON_WORD = re.compile(r"[^0-9a-z]+")


def normalise(text: str) -> str:
    """Lower case, punctuation and whitespace runs collapsed to single spaces."""
    return _NON_WORD.sub(" ", text.lower()).strip()


class NameMatcher(Generic[T]):
    """Finds listed names as whole words in a text; each name maps to a value.

    One compiled alternation, longest names first: at any position the longest
    name wins and matching resumes after it, so a name inside a longer matched
    name ("nasal cannula" inside "high flow nasal cannula", "invasive
    ventilation" inside "non invasive ventilation") is not reported.
    """

    def __init__(self, entries: Iterable[tuple[str, T]]) -> None:
        self._by_name: dict[str, tuple[str, T]] = {}
        for name, value in entries:
            key = normalise(name)
            if key:
                self._by_name.setdefault(key, (name, value))
        alternatives = sorted(self._by_name, key=len, reverse=True)
        self._pattern = (
            re.compile(r"\b(?:" + "|".join(re.escape(a) for a in alternatives) + r")\b")
            if alternatives else None
        )

    def __len__(self) -> int:
        return len(self._by_name)

    def find(self, text: str) -> list[tuple[str, T]]:
        """(name as listed, value) for every match in ``text``, in text order."""
        if self._pattern is None or not text:
            return []
        return [self._by_name[m.group(0)] for m in self._pattern.finditer(normalise(text))]

    def contains_any(self, normalised_text: str) -> bool:
        """Whether an already normalised text names any listed name."""
        return self._pattern is not None and self._pattern.search(normalised_text) is not None

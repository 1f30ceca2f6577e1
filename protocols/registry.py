"""The protocols a deployment runs, loaded and validated once, and which one applies to a patient."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .loader import load_protocol
from .model import Protocol


@dataclass(frozen=True, slots=True)
class ProtocolRegistry:
    """The configured protocol and, optionally, the one for children.

    Built once by the composition root; a protocol file edited on disk afterwards
    changes nothing until the service restarts (and is validated then).
    """

    default: Protocol
    paediatric: Protocol | None
    adult_age_years: float

    @classmethod
    def load(cls, default: str | Path, paediatric: str | Path | None = None, *,
             adult_age_years: float) -> ProtocolRegistry:
        """Load and validate every configured protocol (``ProtocolError`` names file, line and path)."""
        return cls(load_protocol(default), load_protocol(paediatric) if paediatric else None, adult_age_years)

    def for_age(self, age_years: float | None) -> Protocol:
        """The paediatric protocol under the adult age when one is configured, else the default.

        Unknown age keeps the default (adult) protocol; weight-based dosing still
        applies its own weight bands.
        """
        if self.paediatric is not None and age_years is not None and age_years < self.adult_age_years:
            return self.paediatric
        return self.default

    @property
    def protocols(self) -> tuple[Protocol, ...]:
        return (self.default,) + ((self.paediatric,) if self.paediatric else ())

"""Map, grade, select the protocol, recommend: the clinical step every hook composer shares.

No Flask and no clinical decision here: only the layers wired together with the
clinical knowledge the composition root loaded once (code lists, grading
configuration, protocol registry). ``now`` is always passed in.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from clinical import Assessment, ClinicalSnapshot
from fhir_mappings import CodeLists, map_resources
from grading import GradingConfig, grade
from protocols import Protocol, ProtocolRegistry, Recommendations, recommend, recommend_icans


@dataclass(frozen=True, slots=True)
class Graded:
    """One patient's snapshot, CRS assessment (with ICANS) and the protocol selected for them."""

    snapshot: ClinicalSnapshot
    assessment: Assessment
    protocol: Protocol


@dataclass(frozen=True, slots=True)
class Recommended(Graded):
    """A graded patient and what the selected protocol recommends for them (CRS, and ICANS)."""

    recommendations: Recommendations
    icans_recommendations: Recommendations


@dataclass(frozen=True, slots=True)
class Assessor:
    """The clinical pipeline with its knowledge, built once at start-up."""

    codes: CodeLists
    grading: GradingConfig
    protocols: ProtocolRegistry

    def grade(self, resources: Iterable[dict[str, Any]], *, patient_id: str, now: datetime,
              unavailable: Iterable[str] = ()) -> Graded:
        """Map the FHIR resources, grade CRS and ICANS at ``now`` and select the patient's protocol."""
        snapshot = map_resources(resources, patient_id=patient_id, now=now, codes=self.codes,
                                 unavailable=tuple(unavailable))
        assessment = grade(snapshot, now, self.grading)
        return Graded(snapshot, assessment, self.protocols.for_age(snapshot.age_years(now)))

    def recommend(self, resources: Iterable[dict[str, Any]], *, patient_id: str, now: datetime,
                  unavailable: Iterable[str] = ()) -> Recommended:
        """Map, grade, then apply the protocol selected for this patient."""
        g = self.grade(resources, patient_id=patient_id, now=now, unavailable=unavailable)
        recommendations = recommend(g.assessment, g.snapshot, g.protocol, now, grading=self.grading)
        icans = recommend_icans(g.assessment, g.snapshot, g.protocol, now, grading=self.grading)
        return Recommended(g.snapshot, g.assessment, g.protocol, recommendations, icans)

    def with_protocols(self, protocols: ProtocolRegistry) -> Assessor:
        """The same pipeline under other protocols (``crs-cds grade --protocol``)."""
        return replace(self, protocols=protocols)

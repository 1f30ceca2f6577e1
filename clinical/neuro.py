"""ICANS findings: what the mapping reads out of neurological assessments, as plain values.

One dataclass per ASTCT ICANS domain (ICE score, CAPD score, level of
consciousness, seizure, motor findings, raised intracranial pressure / cerebral
oedema). Each keeps its FHIR source, its clinically relevant time, what was
charted (``original``) and, when a clinician charted that the finding is due to
another cause, that attribution: grading leaves such a finding out and says so.
Which charted answer means which value is data (``fhir_mappings/data/neuro.json``
and the site-local codes file), never Python.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

# ASTCT "depressed level of consciousness": alert (not depressed), awakens spontaneously,
# to voice, only to tactile stimulus, unarousable (or needs vigorous/repetitive stimuli).
ConsciousnessLevel = Literal["alert", "spontaneous", "voice", "tactile", "unarousable"]
# A seizure as charted: present (character unknown), resolved rapidly, prolonged (> 5 min,
# status epilepticus), repetitive without return to baseline, or charted absent.
SeizureCharacter = Literal["seizure", "resolved", "prolonged", "repetitive", "none"]
MotorCharacter = Literal["deep-focal", "none"]
# Raised ICP / cerebral oedema: focal oedema, diffuse oedema, the clinical signs ASTCT lists, an oedema
# whose extent was not charted, or charted absent.
OedemaCharacter = Literal["focal", "diffuse", "posturing", "cranial-nerve-vi-palsy", "papilloedema",
                          "cushings-triad", "unspecified", "none"]
IceItem = Literal["orientation", "naming", "commands", "writing", "attention"]
IcansDomain = Literal["ice", "capd", "consciousness", "seizure", "motor", "oedema"]


@dataclass(frozen=True, slots=True)
class Attribution:
    """A clinician charted the finding as due to another cause (``cause`` as charted, when given)."""

    source: str
    cause: str | None = None


@dataclass(frozen=True, slots=True)
class IceScore:
    """ICE score 0-10 (``score`` None with ``unarousable``: charted as not performable, patient unarousable)."""

    score: int | None
    time: datetime
    source: str
    original: str
    unarousable: bool = False
    items: tuple[tuple[IceItem, int], ...] = ()  # the items, when charted
    attribution: Attribution | None = None

    @property
    def domain(self) -> Literal["ice"]:
        return "ice"


@dataclass(frozen=True, slots=True)
class CapdScore:
    """Cornell Assessment of Pediatric Delirium 0-32 (``score`` None with ``unarousable``: not performable)."""

    score: int | None
    time: datetime
    source: str
    original: str
    unarousable: bool = False
    attribution: Attribution | None = None

    @property
    def domain(self) -> Literal["capd"]:
        return "capd"


@dataclass(frozen=True, slots=True)
class Consciousness:
    """Level of consciousness as charted (e.g. a RASS or a local scale), mapped to the ASTCT levels."""

    level: ConsciousnessLevel
    time: datetime
    source: str
    original: str
    attribution: Attribution | None = None

    @property
    def domain(self) -> Literal["consciousness"]:
        return "consciousness"


@dataclass(frozen=True, slots=True)
class Seizure:
    """A seizure (Observation or Condition); ``duration_minutes`` and ``resolved`` when charted."""

    character: SeizureCharacter
    time: datetime
    source: str
    original: str
    duration_minutes: float | None = None
    resolved: bool | None = None
    attribution: Attribution | None = None

    @property
    def domain(self) -> Literal["seizure"]:
        return "seizure"


@dataclass(frozen=True, slots=True)
class MotorWeakness:
    """Deep focal motor weakness (hemiparesis, paraparesis); tremor and myoclonus are never mapped here."""

    character: MotorCharacter
    time: datetime
    source: str
    original: str
    attribution: Attribution | None = None

    @property
    def domain(self) -> Literal["motor"]:
        return "motor"


@dataclass(frozen=True, slots=True)
class CerebralOedema:
    """Raised intracranial pressure or cerebral oedema on imaging or examination."""

    character: OedemaCharacter
    time: datetime
    source: str
    original: str
    attribution: Attribution | None = None

    @property
    def domain(self) -> Literal["oedema"]:
        return "oedema"


NeuroFinding = IceScore | CapdScore | Consciousness | Seizure | MotorWeakness | CerebralOedema

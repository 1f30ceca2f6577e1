"""The CDS services this server offers, as data.

Discovery publishes these entries and the service route dispatches on them,
so a new hook is a new entry plus a composer (``service.COMPOSERS``), not a
new route. Prefetch templates follow CDS Hooks
2.0: reads and type searches with token parameters, ``_sort`` and ``_count``
only (no ``_include``, no relative dates); older data are fetched with an
explicit date filter when a FHIR server is available.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fhir_mappings import CodeLists

LOINC = "http://loinc.org"

# Newest first; enough for the grading windows of an hourly or ICU record.
OBSERVATION_COUNT = 1000
MEDICATION_ADMINISTRATION_COUNT = 500
CONDITION_COUNT = 200
# Read when the client prefetches them, never fetched (the call's time budget): Conditions add seizures,
# motor deficits and cerebral oedema charted as diagnoses to what the flowsheet rows say; ICANS names the
# domains it misses itself (no ICE score, no level of consciousness in the last 12 h).
PREFETCH_ONLY = ("conditions",)


def loinc_tokens(codes: CodeLists, role: str | None = None) -> tuple[str, ...]:
    """``http://loinc.org|8310-5`` for every LOINC code the mapping reads (of ``role`` only,
    when given): one list, kept in the mapping's data file, so templates cannot drift from it."""
    return tuple(f"{LOINC}|{code}" for code, r in codes.observation_role.items() if role is None or r == role)


def local_tokens(codes: CodeLists, role: str | None = None) -> tuple[str, ...]:
    """``system|code`` of the site-local Observation codes (of ``role`` only, when given)."""
    return tuple(f"{system}|{code}" for (system, code), r in codes.local_roles.items() if role is None or r == role)


def observation_tokens(codes: CodeLists) -> tuple[str, ...]:
    """Every Observation code the mapping reads as a search token: the LOINC lists, then the ICANS
    assessments and the site-local flowsheet rows (``urn:oid:...|3040100101``)."""
    return (*loinc_tokens(codes), *(f"{system}|{code}" for system, code in codes.observation_codings()))


def patient_data_prefetch(codes: CodeLists) -> dict[str, str]:
    """The Patient, the Observations the mapping reads (vital signs, labs, ICANS assessments, site-local
    rows), the MedicationAdministrations and, when prefetched, the Conditions (seizures, motor deficits,
    cerebral oedema charted as diagnoses)."""
    templates = {
        "patient": "Patient/{{context.patientId}}",
        "observations": (f"Observation?patient={{{{context.patientId}}}}&code={','.join(observation_tokens(codes))}"
                         f"&_sort=-date&_count={OBSERVATION_COUNT}"),
        "medicationAdministrations": ("MedicationAdministration?patient={{context.patientId}}"
                                      f"&_sort=-effective-time&_count={MEDICATION_ADMINISTRATION_COUNT}"),
    }
    conditions = [f"{system}|{code}" for (system, code), c in codes.neuro_codes.items() if c.value is not None]
    if conditions:
        templates["conditions"] = (f"Condition?patient={{{{context.patientId}}}}&code={','.join(conditions)}"
                                   f"&_sort=-recorded-date&_count={CONDITION_COUNT}")
    return templates


@dataclass(frozen=True, slots=True)
class ServiceDefinition:
    """One CDS service: what discovery says about it and how a call is served.

    ``required_prefetch`` lists the prefetch keys without which the service
    cannot answer (412 when neither prefetched nor fetchable); the hook names
    the composer that turns the resources into cards.
    """

    id: str
    hook: str
    title: str
    description: str
    prefetch: Mapping[str, str] = field(default_factory=dict)
    required_prefetch: tuple[str, ...] = ()
    prefetch_only: tuple[str, ...] = ()  # read when prefetched, never fetched; omitted without a note
    usage_requirements: str | None = None

    def discovery(self) -> dict[str, Any]:
        """The CDS Hooks discovery entry (internal fields left out)."""
        entry: dict[str, Any] = {"hook": self.hook, "id": self.id, "title": self.title,
                                 "description": self.description}
        if self.prefetch:
            entry["prefetch"] = dict(self.prefetch)
        if self.usage_requirements:
            entry["usageRequirements"] = self.usage_requirements
        return entry


def catalogue(codes: CodeLists) -> tuple[ServiceDefinition, ...]:
    """The services this deployment offers, their templates built from its code lists."""
    prefetch = patient_data_prefetch(codes)
    return (ServiceDefinition(
            id="crs-patient-view",
            hook="patient-view",
            title="Cytokine Release Syndrome and ICANS grading (ASTCT)",
            description=("Grades Cytokine Release Syndrome and immune effector cell-associated neurotoxicity "
                         "syndrome (ICANS) by the ASTCT consensus for patients who received CAR-T cells or a "
                         "bispecific T-cell engager, from temperatures, blood pressures, oxygen support, "
                         "vasopressor administrations and neurological assessments (ICE or CAPD score, level of "
                         "consciousness, seizures, motor findings, cerebral oedema), and shows each grade with "
                         "the observations that drove it and the data that are missing."),
            prefetch=prefetch,
            required_prefetch=("patient", "observations", "medicationAdministrations"),
            prefetch_only=PREFETCH_ONLY,
            usage_requirements=("Needs the Patient, the listed vital-sign Observations and the patient's "
                                "MedicationAdministrations, prefetched or readable on fhirServer; "
                                "answers 412 Precondition Failed when they are unavailable. Conditions are read "
                                "when prefetched (never fetched); ICANS names the assessments it misses."),
        ),
        ServiceDefinition(
            id="crs-order-select",
            hook="order-select",
            title="CRS protocol check of selected orders",
            description=("Checks newly selected tocilizumab, corticosteroid, anakinra and GM-CSF orders of "
                         "patients who received CAR-T cells or a bispecific T-cell engager against the CRS "
                         "protocol: dose (mg/kg and maximum), repeat limits counted with the doses already given, "
                         "and the regimen for the current ASTCT grade; proposes the corrected order."),
            prefetch=prefetch,
            required_prefetch=("patient", "observations", "medicationAdministrations"),
            prefetch_only=PREFETCH_ONLY,
            usage_requirements=("Needs context.selections and context.draftOrders, plus the same Patient, "
                                "Observations and MedicationAdministrations as crs-patient-view."),
        ),
        ServiceDefinition(
            id="crs-order-sign",
            hook="order-sign",
            title="CRS protocol check before signing",
            description=("Checks every tocilizumab, corticosteroid, anakinra and GM-CSF order about to be signed "
                         "against the CRS protocol, counting the orders being signed towards the tocilizumab "
                         "repeat limits; refuses a dose the protocol does not allow and says when the next one is."),
            prefetch=prefetch,
            required_prefetch=("patient", "observations", "medicationAdministrations"),
            prefetch_only=PREFETCH_ONLY,
            usage_requirements=("Needs context.draftOrders, plus the same Patient, Observations and "
                                "MedicationAdministrations as crs-patient-view."),
        ))

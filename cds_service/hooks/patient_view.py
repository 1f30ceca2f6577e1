"""patient-view: the CRS and ICANS assessment card with the protocol's orders (or no card)."""
from __future__ import annotations

from cards import Card, patient_view_cards
from cards.profiles import CardSubjects

from .assess import Assessor
from .call import HookCall


def compose_patient_view(assessor: Assessor, call: HookCall) -> list[Card]:
    patient_id = call.context["patientId"]
    result = assessor.recommend(call.resources, patient_id=patient_id, now=call.now, unavailable=call.unavailable)
    cards = patient_view_cards(result.assessment, protocol_id=result.protocol.id,
                               recommendations=result.recommendations,
                               icans_recommendations=result.icans_recommendations, patient_id=patient_id,
                               encounter_id=call.context.get("encounterId"), timeline_url=call.timeline_url)
    subjects = CardSubjects(result.protocol.version, result.assessment,
                            (result.recommendations, result.icans_recommendations), drugs=result.protocol.drugs)
    return call.shaping.finish(cards, subjects)

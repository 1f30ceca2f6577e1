"""Finish one call's generic cards for the client that called: the profile's rules, in order.

The card builders compose the generic cards (the reference sandbox's shape, today's behaviour);
this step, applied to every card, recodes the orders for the client and the site (orderables),
then applies what the profile says the client supports. The cards are the call's own, built for
it, so they are finished in place.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..card import Card
from ..wording.ehr import DEFAULTS_NOTICE
from .clients import GENERIC, ClientProfile
from .codes import coded_orders
from .orderables import NO_ORDERABLES, Orderables
from .sidebar import narrow
from .subjects import CardSubjects
from .suggestions import single_actions, supported_selection, whole_orders, without_updates
from .topics import topic_code

ASSESSMENT_EXTENSION = "crs-cds.assessment"


def _new_uuid() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True, slots=True)
class ClientShaping:
    """One call's client profile and the site's orderables for it."""

    profile: ClientProfile = GENERIC
    orderables: Orderables = NO_ORDERABLES
    new_uuid: Callable[[], str] = field(default=_new_uuid)

    @property
    def client(self) -> str:
        return self.profile.name

    def finish(self, cards: Sequence[Card], subjects: CardSubjects) -> list[Card]:
        """``cards`` shaped for the client (the same objects, their bodies finished)."""
        for card in cards:
            self._finish(card, subjects)
        return list(cards)

    def _finish(self, card: Card, subjects: CardSubjects) -> None:
        body, profile = card.body, self.profile
        assessment = (body.get("extension") or {}).get(ASSESSMENT_EXTENSION)
        if isinstance(assessment, dict):
            assessment["client"] = profile.name
        coded_orders(body, profile, self.orderables, subjects)
        without_updates(body, profile, self.orderables, subjects, self.new_uuid)
        single_actions(body, profile, self.new_uuid)
        if whole_orders(body, profile, subjects) and isinstance(body.get("detail"), str):
            body["detail"] = f"{DEFAULTS_NOTICE}\n\n{body['detail']}"
        supported_selection(body, profile, subjects)
        if profile.alphanumeric_topics:
            topic = body["source"].get("topic") or {}
            body["source"] = {**body["source"], "topic": {**topic, "code": topic_code(card, subjects)}}
        narrow(card, profile, subjects)

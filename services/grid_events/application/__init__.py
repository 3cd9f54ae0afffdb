"""Grid events application: one family of commands per module, along the domain's
(registry, reports, work items, risks, decisions, erasure). Each command authorises,
loads, lets the domain check and change, seals personal fields, and saves once
(``shared.commands``)."""

from __future__ import annotations

from shared.eventstore import PinganApplication

from ..domain import PERSONAL_FIELDS, Participant
from .common import READERS, Erase, Seal
from .decisions import Decisions
from .erasure import PersonalDataErasure
from .registry import Registry
from .reports import Reports
from .risks import Risks
from .work_items import WorkItems

__all__ = ["READERS", "Erase", "GridEventsApplication", "Seal"]


class GridEventsApplication(Registry, Reports, WorkItems, Risks, Decisions, PersonalDataErasure, PinganApplication):
    name = "grid_events"  # pins the table names: grid_events_events, grid_events_tracking
    # An event carrying one of these unsealed is refused. A participant's name is sealed for a
    # volunteer only (an organisation's is not personal), so the domain decides that one.
    personal_fields = {event: fields for event, fields in PERSONAL_FIELDS.items()
                       if event is not Participant.Registered}

"""Which domain events become which public events (private to this service).

The payload schemas are the public contract (``contracts.py``); this module is
the only place that knows the domain events behind them, so the domain can
change without touching what other systems read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shared.contracts import Contracts, Payload
from shared.jurisdiction import county_of

from . import contracts as c
from .domain import EmergencyWarning, Incident, KeyArea, render_cap

Mapped = Iterable[tuple[str, Payload]]


def _county(code: str) -> str:
    return county_of(code) or code


def published() -> Contracts:
    """The relay's contracts: every public event type with its schema, and the domain events behind it."""
    contracts = Contracts(c.SERVICE)
    for event_type, schema in c.PUBLISHED.items():
        contracts.publishes(event_type, schema)

    @contracts.maps(Incident.Opened)
    def opened(e: Any) -> Mapped:
        yield c.INCIDENT_OPENED, c.IncidentOpened(
            incident_id=e.originator_id, trigger=e.trigger, source_service=e.source_service, source_ref=e.source_ref,
            jurisdiction=e.jurisdiction, county=_county(e.jurisdiction), classification=e.classification,
            level=e.level, commander_unit=e.commander_unit, opened_at=e.opened_at)

    def level_changed(e: Any) -> Mapped:
        yield c.INCIDENT_LEVEL_CHANGED, c.IncidentLevelChanged(
            incident_id=e.originator_id, from_level=e.from_level, to_level=e.to_level, at=e.at)

    contracts.maps(Incident.Escalated)(level_changed)
    contracts.maps(Incident.Deescalated)(level_changed)

    @contracts.maps(Incident.TaskAssigned)
    def assigned(e: Any) -> Mapped:
        yield c.COMMAND_TASK_ASSIGNED, c.CommandTaskAssigned(
            incident_id=e.originator_id, task_id=e.task_id, unit=e.unit, due_at=e.due_at, at=e.at)

    @contracts.maps(Incident.TaskAcknowledged)
    def acknowledged(e: Any) -> Mapped:
        yield c.COMMAND_TASK_ACKNOWLEDGED, c.CommandTaskAcknowledged(incident_id=e.originator_id,
                                                                    task_id=e.task_id, at=e.at)

    @contracts.maps(Incident.Closed)
    def closed(e: Any) -> Mapped:
        yield c.INCIDENT_CLOSED, c.IncidentClosed(incident_id=e.originator_id, at=e.at)

    def warning(e: Any) -> Mapped:
        m = e.message
        yield c.WARNING_PUBLISHED, c.WarningPublished(
            warning_id=e.originator_id, identifier=m["identifier"], msg_type=m["msg_type"], status=m["status"],
            references=m["references"], level=m["level"], severity=m["severity"], areas=m["areas"],
            effective=m["effective"], expires=m["expires"], sent=m["sent"], cap_xml=render_cap(m))

    for event_class in (EmergencyWarning.Issued, EmergencyWarning.Updated, EmergencyWarning.Cancelled):
        contracts.maps(event_class)(warning)

    @contracts.maps(KeyArea.DrillOverdueFlagged)
    def drill_overdue(e: Any) -> Mapped:
        yield c.KEY_AREA_DRILL_OVERDUE, c.KeyAreaDrillOverdue(area_id=e.originator_id, jurisdiction=e.jurisdiction,
                                                              kind=e.kind, due_on=e.due_on)

    @contracts.maps(KeyArea.PlanMissingFlagged)
    def plan_missing(e: Any) -> Mapped:
        yield c.KEY_AREA_PLAN_MISSING, c.KeyAreaPlanMissing(area_id=e.originator_id, jurisdiction=e.jurisdiction,
                                                            kind=e.kind, due_on=e.due_on)

    return contracts

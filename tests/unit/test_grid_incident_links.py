"""grid_events shows the emergency incident a severe event or a red risk opened
(consumed from emergency_command's incident_opened), once per message."""

from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from services.emergency_command import contracts as emergency
from shared.contracts import Envelope
from shared.errors import Conflict
from tests.unit.grid_support import SERVICE, World

AT = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)


def opened(source_ref: str, trigger: str, incident_id=None, notification_id: int = 1):
    payload = emergency.IncidentOpened(
        incident_id=incident_id or uuid4(), trigger=trigger, source_service="grid_events", source_ref=source_ref,
        jurisdiction="433101001001", county="433101", classification="accident", level="III",
        commander_unit="433101:emergency_office", opened_at=AT)
    envelope = Envelope(source="emergency_command", event_type="incident_opened", schema_version=1,
                        notification_id=notification_id, aggregate_id=str(payload.incident_id), aggregate_version=1,
                        occurred_at=AT, audit={}, data=payload.model_dump(mode="json"))
    return envelope, payload


@pytest.fixture
def world():
    return World().seed()


def test_severe_event_shows_the_incident_it_opened(world):
    event_id = world.report(severity="severe")
    envelope, payload = opened(event_id, "severe_grid_event")
    world.app.link_incident(SERVICE, envelope, payload)
    assert world.app.repository.get(UUID(event_id)).incident_id == str(payload.incident_id)


def test_red_risk_shows_the_incident_it_opened(world):
    risk_id = world.risk()
    envelope, payload = opened(risk_id, "red_risk")
    world.app.link_incident(SERVICE, envelope, payload)
    assert world.app.repository.get(UUID(risk_id)).incident_id == str(payload.incident_id)


def test_redelivered_incident_opened_links_once(world):
    event_id = world.report(severity="severe")
    incident_id = uuid4()
    for notification_id in (4, 4, 5):
        world.app.link_incident(SERVICE, *opened(event_id, "severe_grid_event", incident_id, notification_id))
    assert world.events_of(UUID(event_id)).count("IncidentLinked") == 1


def test_another_incident_for_a_linked_event_is_a_conflict_and_stores_nothing(world):
    event_id = world.report(severity="severe")
    world.app.link_incident(SERVICE, *opened(event_id, "severe_grid_event", notification_id=1))
    events = world.stored()
    with pytest.raises(Conflict):
        world.app.link_incident(SERVICE, *opened(event_id, "severe_grid_event", notification_id=2))
    assert world.stored() == events

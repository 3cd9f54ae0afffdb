"""The event store's promises: audited events, idempotent commands, exactly-once consumption."""

from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import Tracking

from shared.errors import InvalidTransition, NotFound
from tests.unit.kernel_fixtures import CALL, Ticket, memory_app


def stored(app):
    return app.recorder.max_notification_id() or 0


def test_stored_event_carries_caller_context():
    app = memory_app()
    ticket_id = app.open(CALL, "a wall")["ticket_id"]
    (opened,) = app.events.get(UUID(ticket_id))
    assert opened.audit == {"actor_id": "officer-7", "role": "county_officer", "jurisdiction": "433101",
                            "call_id": "call-123"}


def test_event_outside_a_call_is_refused():
    with pytest.raises(RuntimeError, match="acting_as"):
        Ticket(title="nobody asked")


def test_repeated_command_id_returns_first_result_and_stores_nothing():
    app = memory_app()
    first = app.open(CALL, "a wall", command_id="c-1")
    after_first = stored(app)
    again = app.open(CALL, "another title", command_id="c-1")
    assert again == first
    assert stored(app) == after_first


def test_distinct_command_ids_each_store():
    app = memory_app()
    app.open(CALL, "one", command_id="c-1")
    app.open(CALL, "two", command_id="c-2")
    assert stored(app) == 4  # two tickets, two command records


def test_consumed_message_with_same_tracking_changes_nothing_second_time():
    app = memory_app()
    tracking = Tracking(application_name="upstream.thing_happened", notification_id=41)
    assert app.open(CALL, "from upstream", tracking=tracking) is not None
    after_first = stored(app)
    assert app.open(CALL, "from upstream", tracking=tracking) is None
    assert stored(app) == after_first


def test_refused_command_stores_nothing():
    app = memory_app()
    ticket_id = app.open(CALL, "a wall")["ticket_id"]
    app.close_ticket(CALL, UUID(ticket_id))
    before = stored(app)
    with pytest.raises(InvalidTransition):
        app.close_ticket(CALL, UUID(ticket_id))
    assert stored(app) == before


def test_load_of_unknown_record_is_not_found():
    app = memory_app()
    with pytest.raises(NotFound):
        app.close_ticket(CALL, uuid4())

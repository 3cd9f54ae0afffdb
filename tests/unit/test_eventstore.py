"""The event store's promises: audited events, idempotent commands, exactly-once consumption."""

from dataclasses import replace
from uuid import UUID, uuid4

import pytest

from shared.context import CallerContext, Role
from shared.errors import Conflict, InvalidTransition, NotFound
from shared.eventstore import payload_digest
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


def opening(title, caller=CALL.caller, method="open"):
    """The call as ``@api`` makes it: method name and payload digest set."""
    return replace(CALL, caller=caller, method=method, payload_digest=payload_digest({"title": title}))


def test_repeated_command_id_returns_first_result_and_stores_nothing():
    app = memory_app()
    first = app.open(opening("a wall"), "a wall", command_id="c-1")
    after_first = stored(app)
    again = app.open(opening("a wall"), "a wall", command_id="c-1")
    assert again == first
    assert stored(app) == after_first


def test_reused_command_id_with_other_payload_is_conflict_and_stores_nothing():
    app = memory_app()
    app.open(opening("a wall"), "a wall", command_id="c-1")
    before = stored(app)
    with pytest.raises(Conflict, match="other arguments"):
        app.open(opening("another wall"), "another wall", command_id="c-1")
    assert stored(app) == before


@pytest.mark.parametrize("other", [
    {"caller": CallerContext(actor_id="worker-9", role=Role.COUNTY_OFFICER, jurisdiction="433101")},
    {"caller": CallerContext(actor_id="officer-7", role=Role.COUNTY_OFFICER, jurisdiction="433122")},
    {"method": "report"},
])
def test_command_id_reused_by_another_caller_or_method_is_conflict_and_stores_nothing(other):
    app = memory_app()
    app.open(opening("a wall"), "a wall", command_id="c-1")
    before = stored(app)
    with pytest.raises(Conflict, match="another caller or method"):
        app.open(opening("a wall", **other), "a wall", command_id="c-1")
    assert stored(app) == before


def test_distinct_command_ids_each_store():
    app = memory_app()
    app.open(CALL, "one", command_id="c-1")
    app.open(CALL, "two", command_id="c-2")
    assert stored(app) == 4  # two tickets, two command records


def test_consumed_message_with_same_inbox_key_changes_nothing_second_time():
    app = memory_app()
    assert app.open(CALL, "from upstream", inbox="upstream.thing_happened:41") is not None
    after_first = stored(app)
    assert app.open(CALL, "from upstream", inbox="upstream.thing_happened:41") is None
    assert stored(app) == after_first


def test_message_older_than_one_consumed_still_takes_effect():
    app = memory_app()
    app.open(CALL, "later", inbox="upstream.thing_happened:42")
    assert app.open(CALL, "earlier", inbox="upstream.thing_happened:41") is not None


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

"""Aggregates read by commands on PostgreSQL (shared/security/links.py, ``select_events``): outside a
transaction the read is one statement in autocommit, and still sees every event committed before it."""

from dataclasses import replace
from uuid import UUID, uuid4

import pytest
from sqlalchemy import create_engine, event

from shared.errors import InvalidTransition
from shared.faults import is_infrastructure
from tests.unit.kernel_fixtures import CALL, TicketsApplication

pytestmark = pytest.mark.integration


def app_for(url):
    return TicketsApplication(env={"PERSISTENCE_MODULE": "eventsourcing_sqlalchemy", "SQLALCHEMY_URL": url})


def test_aggregate_read_sees_a_change_another_replica_stored_just_before(pg_url):
    """Replica one has the ticket cached; replica two closes it; replica one's next command sees it closed."""
    one, two = app_for(pg_url), app_for(pg_url)
    ticket_id = one.open(CALL, "leak")["ticket_id"]
    assert one.repository.get(UUID(ticket_id)).closed is False  # now in replica one's cache
    two.close_ticket(CALL, ticket_id)
    with pytest.raises(InvalidTransition):
        one.close_ticket(CALL, ticket_id)
    assert one.repository.get(UUID(ticket_id)).version == 2


def test_aggregate_read_outside_a_transaction_opens_none(pg_url):
    """No BEGIN and ROLLBACK around the read (two round trips of three)."""
    app = app_for(pg_url)
    ticket_id = UUID(app.open(CALL, "leak")["ticket_id"])
    begun = []
    event.listen(app.recorder.datastore.engine, "begin", lambda conn: begun.append(conn))
    assert app.recorder.select_events(ticket_id)[0].originator_id == ticket_id
    assert begun == []


def test_aggregate_read_inside_a_transaction_sees_its_uncommitted_events(pg_url):
    """Inside an open transaction the read goes through that transaction's session, so it sees its writes."""
    app = app_for(pg_url)
    opened = app.recorder.select_events(UUID(app.open(CALL, "first")["ticket_id"]))[0]
    pending = replace(opened, originator_id=uuid4())
    with app.recorder.transaction(commit=False) as session:  # rolled back at its end
        app.recorder._insert_stored_events(session, [pending])
        assert [e.originator_version for e in app.recorder.select_events(pending.originator_id)] == [1]
    assert app.recorder.select_events(pending.originator_id) == []


def test_aggregate_read_with_the_database_out_of_reach_is_an_infrastructure_error(pg_url):
    """A refused connect is retryable (callers get ServiceUnavailable), as on the session path."""
    app = app_for(pg_url)
    ticket_id = UUID(app.open(CALL, "leak")["ticket_id"])
    app.recorder.datastore.engine = create_engine("postgresql+psycopg2://pingan:pingan@127.0.0.1:1/pingan")
    with pytest.raises(Exception) as error:  # noqa: PT011 (the class is what is checked, below)
        app.recorder.select_events(ticket_id)
    assert is_infrastructure(error.value)

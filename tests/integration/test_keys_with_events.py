"""A command's new person keys on PostgreSQL: written in the transaction that stores its events (none without
the other), with no look-up for a subject the command has just made, and refused for an erased subject."""

from uuid import UUID, uuid4

import pytest
from sqlalchemy import create_engine

from shared.errors import Conflict
from shared.security.personal_data import PersonalData, generate_master_key, load_master_key
from shared.security.sealing import made_here
from tests.integration.test_group_commit import all_at_once, count
from tests.unit.kernel_fixtures import CALL, Ticket, TicketsApplication

pytestmark = pytest.mark.integration


class SealingTickets(TicketsApplication):
    def open_sealed(self, call, seal, title: str, ticket_id: UUID | None = None) -> dict:
        def act():
            new_id = ticket_id or uuid4()
            ticket = Ticket.create_with_id(Ticket.Opened, id=new_id, title=seal(made_here(f"ticket.{new_id}"), title))
            return [ticket], {"ticket_id": str(new_id), "title": ticket.title}

        return self.execute(call, act)


@pytest.fixture
def tickets(pg_url):
    app = SealingTickets(env={"PERSISTENCE_MODULE": "eventsourcing_sqlalchemy", "SQLALCHEMY_URL": pg_url})
    vault = PersonalData(create_engine(pg_url), load_master_key(generate_master_key()))
    vault.create_tables()
    yield app, vault
    vault.engine.dispose()
    app.recorder.datastore.engine.dispose()


def key_rows(url, subject) -> int:
    return count(url, f"SELECT count(*) FROM pingan_person_keys WHERE person_id = '{subject}'")


def test_keys_new_record_key_written_in_its_events_transaction(tickets, pg_url):
    app, vault = tickets
    opened = app.open_sealed(CALL, vault.seal, "a broken wall by Wu Mei's door")
    subject = f"ticket.{opened['ticket_id']}"
    key_transaction = count(pg_url, f"SELECT xmin::text FROM pingan_person_keys WHERE person_id = '{subject}'")
    events_transaction = count(pg_url, f"SELECT xmin::text FROM {app.recorder.events_table_name} "
                                       f"WHERE originator_id = '{opened['ticket_id']}'")
    assert key_transaction == events_transaction
    assert vault.open(opened["title"]) == "a broken wall by Wu Mei's door"


def test_keys_command_whose_events_are_refused_stores_no_key(tickets, pg_url):
    app, vault = tickets
    taken = UUID(app.open(CALL, "first")["ticket_id"])
    with pytest.raises(Conflict):  # the record exists: its events are refused, three times over
        app.open_sealed(CALL, vault.seal, "second", ticket_id=taken)
    assert key_rows(pg_url, f"ticket.{taken}") == 0


def test_keys_erased_subject_made_again_is_refused_and_stores_nothing(tickets, pg_url):
    app, vault = tickets
    ticket_id = uuid4()
    vault.erase(f"ticket.{ticket_id}")  # a tombstone: nothing may be sealed under it again
    with pytest.raises(Conflict, match="erased"):
        app.open_sealed(CALL, vault.seal, "about an erased subject", ticket_id=ticket_id)
    events = app.recorder.events_table_name
    assert count(pg_url, f"SELECT count(*) FROM {events} WHERE originator_id = '{ticket_id}'") == 0
    assert vault.erased(f"ticket.{ticket_id}")


def test_keys_concurrent_commands_under_group_commit_each_store_their_own_key(tickets, pg_url):
    app, vault = tickets
    outcomes = all_at_once(*[lambda n=n: app.open_sealed(CALL, vault.seal, f"report {n}") for n in range(12)])
    assert sorted(vault.open(outcome["title"]) for outcome in outcomes) == sorted(f"report {n}" for n in range(12))
    assert count(pg_url, "SELECT count(*) FROM pingan_person_keys") == 12


def test_keys_group_commit_batch_with_a_taken_key_stores_the_others(tickets, pg_url):
    app, vault = tickets
    erased = uuid4()
    vault.erase(f"ticket.{erased}")
    outcomes = all_at_once(
        *[lambda n=n: app.open_sealed(CALL, vault.seal, f"report {n}") for n in range(6)],
        lambda: app.open_sealed(CALL, vault.seal, "about an erased subject", ticket_id=erased))
    assert isinstance(outcomes[-1], Conflict)
    assert sorted(vault.open(outcome["title"]) for outcome in outcomes[:-1]) == sorted(f"report {n}" for n in range(6))
    assert count(pg_url, "SELECT count(*) FROM pingan_person_keys WHERE wrapped_key IS NOT NULL") == 6


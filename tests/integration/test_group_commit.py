"""Group commit on PostgreSQL (shared/security/links.py, ``GroupCommit``): saves that arrive while another
is being written go into one transaction, and each keeps its own outcome, chain link and command record."""

import os
from uuid import UUID

import eventlet
import psycopg2
import pytest
from sqlalchemy import create_engine

from shared.errors import Conflict
from shared.eventstore import Call
from shared.security.links import configured_link_key
from shared.security.verifier import verify
from tests.unit.kernel_fixtures import CALL, TicketsApplication

pytestmark = pytest.mark.integration


def app_for(url):
    return TicketsApplication(env={"PERSISTENCE_MODULE": "eventsourcing_sqlalchemy", "SQLALCHEMY_URL": url})


def count(url, statement):
    with psycopg2.connect(url.replace("postgresql+psycopg2://", "postgresql://")) as conn, conn.cursor() as cursor:
        cursor.execute(statement)
        return cursor.fetchone()[0]


def counting_writes(app):
    """The recorder's transactions, counted (each one a batch of one or more saves)."""
    group = app.recorder._group
    written = []
    write = group._write

    def counted(events, **kwargs):
        written.append(len(events))
        return write(events, **kwargs)

    group._write = counted
    return written


def all_at_once(*calls):
    pool = eventlet.GreenPool()
    threads = [pool.spawn(call) for call in calls]
    outcomes = []
    for thread in threads:
        try:
            outcomes.append(thread.wait())
        except Exception as error:  # noqa: BLE001 (each caller's own outcome is what is checked)
            outcomes.append(error)
    return outcomes


def chain_finding(url, tmp_path):
    from shared.security.chain import CheckpointStore, EventRows, generate_signing_key, load_public_key

    engine = create_engine(url)
    try:
        public = load_public_key(generate_signing_key()[1])  # no checkpoint: the links alone vouch for the rows
        report = verify(EventRows(engine, "tickets"), CheckpointStore(tmp_path / "checkpoints", "tickets"), public,
                        configured_link_key("tickets", os.environ["PINGAN_CHAIN_KEY"]))
    finally:
        engine.dispose()
    return report.finding


def test_group_commit_concurrent_saves_share_transactions_and_the_chain_verifies(pg_url, tmp_path):
    app = app_for(pg_url)
    app.open(CALL, "first")  # tables made, connections open
    written = counting_writes(app)
    outcomes = all_at_once(*[lambda n=n: app.open(CALL, f"ticket {n}") for n in range(30)])
    assert all(isinstance(outcome, dict) for outcome in outcomes)
    assert count(pg_url, "SELECT count(*) FROM tickets_events") == 31
    assert count(pg_url, "SELECT count(*) FROM tickets_links") == 31
    assert sum(written) == 30 and len(written) < 30  # some transactions carried several saves
    assert chain_finding(pg_url, tmp_path) is None


def test_group_commit_repeated_command_id_from_concurrent_callers_is_stored_once(pg_url):
    app = app_for(pg_url)
    app.open(CALL, "first")
    repeated = [lambda: app.open(CALL, "the same", command_id="cmd-group-1") for _ in range(8)]
    others = [lambda n=n: app.open(CALL, f"other {n}", command_id=f"cmd-other-{n}") for n in range(8)]
    outcomes = all_at_once(*[call for pair in zip(repeated, others, strict=True) for call in pair])
    firsts = {outcome["ticket_id"] for outcome in outcomes[0::2]}
    assert len(firsts) == 1  # every repeat got the first result back
    assert len({outcome["ticket_id"] for outcome in outcomes[1::2]}) == 8
    assert count(pg_url, "SELECT count(*) FROM tickets_events WHERE topic LIKE '%Ticket.Opened'") == 1 + 1 + 8
    assert count(pg_url, "SELECT count(*) FROM tickets_events WHERE topic LIKE '%CommandRecord.Recorded'") == 9
    assert app.repository.get(UUID(firsts.pop())).title == "the same"


def test_group_commit_command_id_reused_with_other_arguments_fails_alone(pg_url):
    app = app_for(pg_url)
    app.open(CALL, "first")
    calls = [Call(CALL.caller, CALL.call_id, "open", payload_digest=f"digest-{n}") for n in range(6)]
    reused = [lambda call=call: app.open(call, "reused", command_id="cmd-group-2") for call in calls]
    others = [lambda n=n: app.open(CALL, f"other {n}") for n in range(6)]
    outcomes = all_at_once(*[call for pair in zip(reused, others, strict=True) for call in pair])
    stored, refused = [o for o in outcomes[0::2] if isinstance(o, dict)], [o for o in outcomes[0::2] if
                                                                           isinstance(o, Conflict)]
    assert (len(stored), len(refused)) == (1, 5)
    assert all(isinstance(outcome, dict) for outcome in outcomes[1::2])
    assert count(pg_url, "SELECT count(*) FROM tickets_events WHERE topic LIKE '%Ticket.Opened'") == 1 + 1 + 6

"""The relay publishes what the contracts say, at least once, from a position that survives restarts."""

import pytest
from sqlalchemy import create_engine

from shared.projections import create_view_tables
from shared.relay import Relay
from tests.unit.kernel_fixtures import CALL, sqlite_app, ticket_contracts


def relay_for(app, tmp_path, publish):
    engine = create_engine(f"sqlite:///{tmp_path / 'views.sqlite'}")
    create_view_tables(engine, [])
    return Relay("tickets", app, engine, ticket_contracts(), publish)


def test_relay_publishes_public_events_as_contracted(tmp_path):
    app = sqlite_app(tmp_path / "events.sqlite")
    ticket_id = app.open(CALL, "a wall")["ticket_id"]
    sent = []
    relay_for(app, tmp_path, sent.append).relay_pending()
    (envelope,) = sent
    assert (envelope.source, envelope.event_type, envelope.schema_version) == ("tickets", "ticket_opened", 1)
    assert envelope.data == {"schema_version": 1, "ticket_id": ticket_id}
    assert envelope.audit["actor_id"] == "officer-7"


def test_relay_skips_private_events(tmp_path):
    app = sqlite_app(tmp_path / "events.sqlite")
    app.open(CALL, "a wall", command_id="c-1")  # a ticket and a private command record
    sent = []
    assert relay_for(app, tmp_path, sent.append).relay_pending() == 2
    assert [e.event_type for e in sent] == ["ticket_opened"]


def test_relay_position_survives_restart(tmp_path):
    app = sqlite_app(tmp_path / "events.sqlite")
    app.open(CALL, "one")
    sent = []
    relay_for(app, tmp_path, sent.append).relay_pending()
    app.open(CALL, "two")
    restarted = relay_for(sqlite_app(tmp_path / "events.sqlite"), tmp_path, sent.append)
    restarted.relay_pending()
    assert [e.notification_id for e in sent] == [1, 2]


def test_relay_failed_publish_is_retried_not_lost(tmp_path):
    app = sqlite_app(tmp_path / "events.sqlite")
    app.open(CALL, "one")

    def broker_down(envelope):
        raise ConnectionError("broker unreachable")

    with pytest.raises(ConnectionError):
        relay_for(app, tmp_path, broker_down).relay_pending()
    sent = []
    relay_for(app, tmp_path, sent.append).relay_pending()
    assert [e.notification_id for e in sent] == [1]

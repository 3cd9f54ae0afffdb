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


def test_relay_on_the_in_memory_broker_publishes_without_confirms(tmp_path):
    """The embedded default runs on kombu's in-memory transport, which has no publisher confirms:
    the relay publishes there and moves on, rather than failing every pass."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from kombu import Connection, Exchange, Queue
    from nameko.standalone.events import get_event_exchange

    from shared.relay import AmqpPublisher
    from shared.security.event_signing import EventSigner

    config = {"AMQP_URI": f"memory://relay-{tmp_path.name}"}
    app = sqlite_app(tmp_path / "events.sqlite")
    app.open(CALL, "one")
    app.open(CALL, "two")
    publisher = AmqpPublisher("tickets", config, EventSigner("tickets", Ed25519PrivateKey.generate()))
    engine = create_engine(f"sqlite:///{tmp_path / 'views.sqlite'}")
    create_view_tables(engine, [])
    relay = Relay("tickets", app, engine, ticket_contracts(), publisher, confirm=publisher.confirm)
    with Connection(config["AMQP_URI"]) as connection:
        exchange = Exchange(get_event_exchange("tickets", config).name, type="topic", durable=True)
        queue = Queue("memory-listener", exchange, routing_key="ticket_opened")
        queue(connection.default_channel).declare()
        assert relay.relay_pending() == 2
        assert relay.lag() == 0
        bound = queue(connection.default_channel)
        received = []
        while (message := bound.get(no_ack=True)) is not None:
            received.append(message.payload["notification_id"])
        assert received == [1, 2]
    publisher.close()

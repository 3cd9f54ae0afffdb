"""The relay's broker confirms, once a batch, on the real RabbitMQ: a batch is published, then confirmed as a
whole before the position moves; a refused or cut batch is published again and nothing is lost."""

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from kombu import Connection, Exchange, Queue
from nameko.standalone.events import get_event_exchange
from sqlalchemy import create_engine

from shared.projections import create_view_tables
from shared.relay import AmqpPublisher, PublishNotConfirmed, Relay
from shared.security.event_signing import EventSigner
from tests.e2e.proxy import TcpProxy
from tests.unit.kernel_fixtures import CALL, sqlite_app, ticket_contracts


def relay_for(app, tmp_path, publisher):
    engine = create_engine(f"sqlite:///{tmp_path / 'views.sqlite'}")
    create_view_tables(engine, [])
    return Relay("tickets", app, engine, ticket_contracts(), publisher, confirm=publisher.confirm)


def publisher_for(config):
    return AmqpPublisher("tickets", config, EventSigner("tickets", Ed25519PrivateKey.generate()))


def listening_queue(connection, config, name, **arguments):
    """A durable queue bound to the tickets event exchange, as a consumer's would be."""
    exchange = Exchange(get_event_exchange("tickets", config).name, type="topic", durable=True)
    queue = Queue(name, exchange, routing_key="ticket_opened", durable=True, queue_arguments=arguments or None)
    queue(connection.default_channel).declare()
    return queue


def received(connection, queue) -> list[int]:
    """Every notification id in the queue, in the order it holds them (drained)."""
    ids = []
    bound = queue(connection.default_channel)
    while (message := bound.get(no_ack=True)) is not None:
        ids.append(message.payload["notification_id"])
    return ids


def test_relay_batch_refused_by_broker_is_published_again(tmp_path, service_config):
    app = sqlite_app(tmp_path / "events.sqlite")
    for title in ("one", "two", "three"):
        app.open(CALL, title)
    publisher = publisher_for(service_config)
    relay = relay_for(app, tmp_path, publisher)
    with Connection(service_config["AMQP_URI"]) as connection:
        consumer = listening_queue(connection, service_config, "relay-confirms-consumer")
        # A full queue that refuses more: the broker nacks the second and third messages of the batch.
        full = listening_queue(connection, service_config, "relay-confirms-full",
                               **{"x-max-length": 1, "x-overflow": "reject-publish"})
        with pytest.raises(PublishNotConfirmed):
            relay.relay_pending()
        assert relay.lag() == 3  # the position did not move past the refused messages
        full(connection.default_channel).delete()

        assert relay.relay_pending() == 3  # nothing refuses now: the whole batch is published again
        assert relay.lag() == 0
        assert received(connection, consumer) == [1, 2, 3, 1, 2, 3]
        consumer(connection.default_channel).delete()
    publisher.close()


def test_relay_batch_cut_from_broker_loses_nothing_and_keeps_order(tmp_path, service_config):
    app = sqlite_app(tmp_path / "events.sqlite")
    for number in range(20):
        app.open(CALL, f"report {number}")
    uri = service_config["AMQP_URI"]
    proxy = TcpProxy(Connection(uri).port or 5672, Connection(uri).hostname or "127.0.0.1")
    try:
        publisher = publisher_for({**service_config, "AMQP_URI": proxy.url(uri)})
        relay = relay_for(app, tmp_path, publisher)
        with Connection(uri) as connection:
            queue = listening_queue(connection, service_config, "relay-confirms-cut")
            dispatched = []

            def cut_after_the_fifth(event_type):  # the broker goes away in the middle of the batch
                dispatched.append(event_type)
                if len(dispatched) == 5:
                    proxy.cut()

            relay.on_dispatched = cut_after_the_fifth
            with pytest.raises(Exception):  # noqa: B017,PT011 (the broken connection's own error)
                relay.relay_pending()
            assert relay.lag() == 20
            relay.on_dispatched = lambda event_type: None
            assert relay.relay_pending() == 20
            assert relay.lag() == 0
            ids = received(connection, queue)
            assert set(ids) == set(range(1, 21))  # every event, some perhaps twice (at least once)
            resent = ids[ids.index(1, 1):] if ids.count(1) > 1 else ids
            assert resent == list(range(1, 21))  # the batch sent again arrives whole and in log order
            queue(connection.default_channel).delete()
        publisher.close()
    finally:
        proxy.close()

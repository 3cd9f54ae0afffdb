"""The outbox relay: the notification log is the outbox.

Commands only store events. The relay follows the log from its stored
position, publishes a batch's public events (per the service's contracts) in
log order on one channel, waits once for the broker to confirm them all, then
advances its position in the same transaction that read the batch. A refused
(nacked) or unconfirmed publish, or a crash before the commit, leaves the
position where it was and the batch is published again: delivery is at least
once, and consumers' tracking records make the effect happen once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from kombu import Connection as BrokerConnection
from kombu import Producer
from kombu.entity import PERSISTENT_DELIVERY_MODE as PERSISTENT
from nameko.standalone.events import get_event_exchange
from sqlalchemy.engine import Connection, Engine

from .contracts import Contracts, Envelope
from .jurisdiction import PREFECTURE
from .projections import LogFollower
from .security.event_signing import EventSigner

# The relay speaks for the service, across the whole prefecture it serves.
SERVICE_JURISDICTION = PREFECTURE  # services act across the whole prefecture

PublishFn = Callable[[Envelope], None]

def envelope_for(service: str, notification: Any, domain_event: Any, event_type: str, payload: Any) -> Envelope:
    return Envelope(
        source=service,
        event_type=event_type,
        schema_version=payload.schema_version,
        notification_id=notification.id,
        aggregate_id=str(domain_event.originator_id),
        aggregate_version=domain_event.originator_version,
        occurred_at=domain_event.timestamp,
        audit=domain_event.audit,
        data=payload.model_dump(mode="json"),
    )


class Relay:
    """``publish`` sends one envelope; ``confirm``, if given, returns once every envelope sent so far is
    confirmed by the broker (raising otherwise), and is called before a batch's position is advanced."""

    def __init__(self, service: str, app: Any, engine: Engine, contracts: Contracts, publish: PublishFn,
                 confirm: Callable[[], None] | None = None):
        self.service = service
        self.app = app
        self.contracts = contracts
        self.publish = publish
        self.confirm = confirm
        self.follower = LogFollower(app, engine, f"relay:{service}")
        self.on_dispatched: Callable[[str], None] = lambda event_type: None

    def relay_pending(self) -> int:
        """Publish every public event not yet relayed; returns notifications read."""

        def dispatch(conn: Connection, notification: Any) -> None:
            domain_event = self.app.mapper.to_domain_event(notification)
            for event_type, payload in self.contracts.public_events(domain_event):
                self.publish(envelope_for(self.service, notification, domain_event, event_type, payload))
                self.on_dispatched(event_type)

        def confirmed(conn: Connection) -> None:
            if self.confirm is not None:
                self.confirm()

        return self.follower.follow(dispatch, before_advance=confirmed)

    def lag(self) -> int:
        return self.follower.lag()


class PublishNotConfirmed(ConnectionError):
    """The broker refused (nacked) a published message, or did not confirm it in time."""


class AmqpPublisher:
    """Publishes envelopes on the service's nameko event exchange, with broker confirms.

    Holds one connection for the relay (the only publisher), rather than
    taking one from a pool per message; a broken connection is dropped and
    the relay retries the batch. Messages are sent without waiting and
    ``confirm`` waits once for all of them (one broker round trip a batch, not
    one a message); order is kept, since one channel delivers in the order
    sent. Each message carries the service's own signature over its envelope
    (shared.security.event_signing), so a consumer can tell a genuine event
    from a changed, copied or made-up one.
    """

    CONFIRM_SECONDS = 30.0

    def __init__(self, service: str, nameko_config: dict, signer: EventSigner):
        self.service = service
        self.amqp_uri = nameko_config["AMQP_URI"]
        self.exchange = get_event_exchange(service, nameko_config)
        self.signer = signer
        self._connection: BrokerConnection | None = None
        self._producer: Producer | None = None
        self._sent = 0  # delivery tags given so far on this channel (the broker numbers them from 1)
        self._unconfirmed: set[int] = set()
        self._refused = False
        self._confirms = True

    def __call__(self, envelope: Envelope) -> None:
        body = envelope.model_dump(mode="json")
        try:
            self._ensure_producer().publish(
                body,
                exchange=self.exchange,
                routing_key=envelope.event_type,
                serializer="json",
                delivery_mode=PERSISTENT,
                headers={
                    **self.signer.headers(body),
                    "nameko.call_id_stack": [envelope.audit.get("call_id") or f"{self.service}.relay"],
                },
            )
        except Exception:
            self.close()
            raise
        if self._confirms:
            self._sent += 1
            self._unconfirmed.add(self._sent)

    def confirm(self) -> None:
        """Return once the broker has confirmed every message sent; raise (and drop the connection,
        so the next batch starts on a fresh channel) if it refused one or did not answer in time."""
        try:
            # Messages wait for a confirm only while their connection is open (``close`` forgets them).
            while self._unconfirmed and not self._refused and self._connection is not None:
                self._connection.drain_events(timeout=self.CONFIRM_SECONDS)
        except TimeoutError:
            self.close()
            raise PublishNotConfirmed("the broker did not confirm the published events in time") from None
        except Exception:
            self.close()
            raise
        if self._refused:
            self.close()
            raise PublishNotConfirmed("the broker refused a published event")

    def _settle(self, delivery_tag: int, multiple: bool) -> None:
        if multiple:
            self._unconfirmed = {tag for tag in self._unconfirmed if tag > delivery_tag}
        else:
            self._unconfirmed.discard(delivery_tag)

    def _nacked(self, delivery_tag: int, multiple: bool) -> None:
        self._refused = True
        self._settle(delivery_tag, multiple)

    def _ensure_producer(self) -> Producer:
        if self._producer is None:
            self._connection = BrokerConnection(self.amqp_uri)
            channel = self._connection.channel()
            # kombu's in-memory transport (the embedded default) has no confirms: a publish there is
            # delivered in process before it returns, so there is nothing to wait for.
            self._confirms = hasattr(channel, "confirm_select")
            if self._confirms:
                channel.confirm_select()
                channel.events["basic_ack"].add(self._settle)
                channel.events["basic_nack"].add(self._nacked)
            self._producer = Producer(channel, exchange=self.exchange)
            self._producer.declare()
        return self._producer

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):  # already broken; nothing more to release
                self._connection.release()
        self._connection = None
        self._producer = None
        self._sent = 0
        self._unconfirmed = set()
        self._refused = False

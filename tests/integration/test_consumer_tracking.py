"""A consumer's effect happens once however often the broker delivers a message."""

import pytest
from eventsourcing.domain import event
from nameko.amqp.publish import Publisher
from nameko.standalone.events import get_event_exchange
from nameko.testing.services import entrypoint_waiter
from sqlalchemy import Column, MetaData, String, Table, func, insert, select

from services.grid_events.contracts import EventReported
from services.grid_events.service import GridEventsService
from shared.contracts import message_key
from shared.dependencies import Store
from shared.entrypoints import ServiceBase, consumes
from shared.eventstore import AuditedAggregate, PinganApplication
from shared.projections import Projection, handles
from shared.security.event_signing import SIGNATURE, SIGNER

pytestmark = pytest.mark.integration

notes = Table("inbox_notes", MetaData(), Column("note_id", String(36), primary_key=True),
              Column("grid_event_id", String(36), nullable=False))


class DisputeNote(AuditedAggregate):
    @event("Noted")
    def __init__(self, grid_event_id: str):
        self.grid_event_id = grid_event_id


class InboxApplication(PinganApplication):
    name = "dispute_inbox"

    def note(self, call, envelope, payload):
        return self.execute(
            call, lambda: ([DisputeNote(grid_event_id=str(payload.event_id))], {}), inbox=message_key(envelope)
        )


class NotesView(Projection):
    name = "dispute_inbox.notes"
    tables = [notes]

    @handles(DisputeNote.Noted)
    def on_noted(self, event, conn):
        conn.execute(insert(notes).values(note_id=str(event.originator_id), grid_event_id=event.grid_event_id))


class DisputeInbox(ServiceBase):
    name = "dispute_inbox"
    store = Store(InboxApplication, [NotesView()])

    @consumes("grid_events", "dispute_reported", EventReported)
    def on_dispute(self, call, envelope, payload):
        self.store.app.note(call, envelope, payload)


def note_count(store):
    store.catch_up()
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(notes)).scalar_one()


def test_relayed_event_redelivered_twice_changes_read_model_once(container_factory, service_config, rpc_as, pg_url):
    grid_events = container_factory(GridEventsService, service_config)
    inbox = container_factory(DisputeInbox, service_config)
    grid_events.start()
    inbox.start()
    received = []
    with rpc_as() as rpc:
        for code in ("433100", "433101", "433101001", "433101001001"):
            rpc.grid_events.register_jurisdiction(code=code, name=code)
        rpc.grid_events.register_grid(code="433101001001001", name="g")
        with entrypoint_waiter(
            inbox,
            "on_dispute",
            timeout=10,
            callback=lambda wc, res, exc: received.append((wc.args[0], wc.context_data)) or True,
        ):
            rpc.grid_events.report_event(
                grid_code="433101001001001",
                category="dispute",
                source="petition",
                severity="low",
                place="p",
                description="d",
            )
    message, context = received[0]
    store = next(d for d in inbox.dependencies if isinstance(d, Store))
    assert note_count(store) == 1

    # The broker delivers the very same message twice more (a relay restart, a lost ack).
    publisher = Publisher(service_config["AMQP_URI"], serializer="json")
    for _ in range(2):
        with entrypoint_waiter(inbox, "on_dispute", timeout=10):
            publisher.publish(
                message,
                exchange=get_event_exchange("grid_events", service_config),
                routing_key="dispute_reported",
                headers={f"nameko.{key}": context[key] for key in (SIGNER, SIGNATURE)},
            )
    assert note_count(store) == 1


def test_unsigned_event_is_refused_and_changes_nothing(container_factory, service_config, pg_url):
    inbox = container_factory(DisputeInbox, service_config)
    inbox.start()
    store = next(d for d in inbox.dependencies if isinstance(d, Store))
    publisher = Publisher(service_config["AMQP_URI"], serializer="json")
    forged = {
        "source": "grid_events",
        "event_type": "dispute_reported",
        "schema_version": 1,
        "notification_id": 7,
        "aggregate_id": "x",
        "aggregate_version": 1,
        "occurred_at": "2026-01-01T00:00:00Z",
        "audit": {},
        "data": {},
    }
    with entrypoint_waiter(inbox, "on_dispute", timeout=10):
        publisher.publish(
            forged, exchange=get_event_exchange("grid_events", service_config), routing_key="dispute_reported"
        )
    assert note_count(store) == 0

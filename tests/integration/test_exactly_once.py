"""Exactly one effect per relayed event, whatever the order, concurrency, replicas or redeliveries;
command ids that answer only their own caller, method and payload."""

import uuid

import pytest
from eventsourcing.domain import event
from nameko.amqp.publish import Publisher
from nameko.standalone.events import get_event_exchange
from sqlalchemy import Column, MetaData, String, Table, func, insert, select

from services.grid_events.contracts import EventReported
from shared.contracts import message_key
from shared.dependencies import Store
from shared.entrypoints import ServiceBase, consumes
from shared.errors import Conflict
from shared.eventstore import AuditedAggregate, PinganApplication
from shared.projections import Projection, handles
from tests.integration.test_grid_events_service import DISPUTE, stored_events
from tests.polling import wait_until

pytestmark = pytest.mark.integration

effects = Table("exactly_once_effects", MetaData(), Column("note_id", String(36), primary_key=True),
                Column("grid_event_id", String(36), nullable=False))
handled: list[int] = []  # every delivery handled to the end, by both replicas (one process)
failed_once: set[int] = set()


class Effect(AuditedAggregate):
    @event("Noted")
    def __init__(self, grid_event_id: str):
        self.grid_event_id = grid_event_id


class EffectsApplication(PinganApplication):
    name = "exactly_once"

    def note(self, call, envelope, payload):
        self.execute(call, lambda: ([Effect(grid_event_id=str(payload.event_id))], {}), inbox=message_key(envelope))


class EffectsView(Projection):
    name = "exactly_once.effects"
    tables = [effects]

    @handles(Effect.Noted)
    def on_noted(self, event, conn):
        conn.execute(insert(effects).values(note_id=str(event.originator_id), grid_event_id=event.grid_event_id))


class EffectsConsumer(ServiceBase):
    name = "exactly_once"
    store = Store(EffectsApplication, [EffectsView()])

    @consumes("grid_events", "dispute_reported", EventReported)
    def on_dispute(self, call, envelope, payload):
        if envelope.notification_id % 4 == 0 and envelope.notification_id not in failed_once:
            failed_once.add(envelope.notification_id)
            raise RuntimeError("fails once: the broker puts it back behind later messages")
        self.store.app.note(call, envelope, payload)
        handled.append(envelope.notification_id)  # after its effect (or its recognition as a duplicate)


def envelope(notification_id: int) -> dict:
    data = EventReported(event_id=uuid.uuid4(), grid_code="433101001001001", jurisdiction="433101001001",
                         county="433101", category="dispute", source="petition", severity="low",
                         reported_at="2026-01-01T00:00:00Z").model_dump(mode="json")
    return {"source": "grid_events", "event_type": "dispute_reported", "schema_version": 1,
            "notification_id": notification_id, "aggregate_id": data["event_id"], "aggregate_version": 1,
            "occurred_at": "2026-01-01T00:00:00Z", "audit": {}, "data": data}


def effect_count(store) -> int:
    store.catch_up()
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(effects)).scalar_one()


def test_two_replicas_with_redeliveries_in_reverse_order_give_one_effect_per_event(
        pg_url, container_factory, service_config, event_headers):
    handled.clear()
    failed_once.clear()
    config = {**service_config, "max_workers": 10}
    replicas = [container_factory(EffectsConsumer, config) for _ in range(2)]
    for replica in replicas:
        replica.start()
    publisher = Publisher(config["AMQP_URI"], serializer="json")
    count = 60
    messages = [envelope(n) for n in range(1, count + 1)]
    for message in reversed(messages + messages):  # every message twice, newest first
        publisher.publish(message, exchange=get_event_exchange("grid_events", config),
                          routing_key="dispute_reported", headers=event_headers("grid_events", message))
    wait_until(lambda: len(handled) >= 2 * count, 60, "both copies of each message handled")  # some after a failed try
    store = next(d for d in replicas[0].dependencies if isinstance(d, Store))
    assert effect_count(store) == count


@pytest.fixture
def seeded_grid(pg_url, container_factory, service_config, rpc_as):
    from services.grid_events.service import GridEventsService
    from tests.integration.test_grid_events_service import seed_registry

    container = container_factory(GridEventsService, service_config)
    container.start()
    with rpc_as() as rpc:
        seed_registry(rpc)
    return container


def test_reused_command_id_with_other_payload_is_conflict_and_stores_nothing(seeded_grid, rpc_as, pg_url):
    with rpc_as() as rpc:
        rpc.grid_events.report_event(**DISPUTE, command_id="cmd-7")
        before = stored_events(pg_url)
        with pytest.raises(Conflict):
            rpc.grid_events.report_event(**{**DISPUTE, "severity": "high"}, command_id="cmd-7")
    assert stored_events(pg_url) == before


def test_command_id_reused_by_another_actor_is_conflict_and_stores_nothing(seeded_grid, rpc_as, pg_url):
    with rpc_as() as rpc:
        rpc.grid_events.report_event(**DISPUTE, command_id="cmd-8")
    before = stored_events(pg_url)
    with rpc_as(actor_id="admin-2") as rpc, pytest.raises(Conflict):
        rpc.grid_events.report_event(**DISPUTE, command_id="cmd-8")
    assert stored_events(pg_url) == before


def test_command_id_reused_for_another_method_is_conflict_and_stores_nothing(seeded_grid, rpc_as, pg_url):
    with rpc_as() as rpc:
        first = rpc.grid_events.report_event(**DISPUTE, command_id="cmd-9")
        before = stored_events(pg_url)
        with pytest.raises(Conflict):
            rpc.grid_events.accept_event(event_id=first["event_id"], command_id="cmd-9")
    assert stored_events(pg_url) == before


def test_command_id_repeated_by_the_same_caller_returns_the_first_result(seeded_grid, rpc_as, pg_url):
    with rpc_as() as rpc:
        first = rpc.grid_events.report_event(**DISPUTE, command_id="cmd-10")
        before = stored_events(pg_url)
        again = rpc.grid_events.report_event(**DISPUTE, command_id="cmd-10")
    assert again == first
    assert stored_events(pg_url) == before

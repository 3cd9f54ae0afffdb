"""grid_events against real RabbitMQ and PostgreSQL: the write path end to end."""

from datetime import UTC
from uuid import UUID

import pytest
from nameko.events import event_handler
from nameko.testing.services import entrypoint_waiter
from sqlalchemy import create_engine, text

from services.grid_events.contracts import EventReported
from services.grid_events.service import GridEventsService
from shared.context import Role
from shared.contracts import Envelope
from shared.dependencies import Store
from shared.errors import Forbidden, InvalidTransition, NotFound, Unauthenticated, ValidationFailed

pytestmark = pytest.mark.integration

GRID = "433101001001001"
WORKER = "gw-1001"


def seed_registry(rpc):
    for code in ("433100", "433101", "433101001", "433101001001"):
        rpc.grid_events.register_jurisdiction(code=code, name=f"unit {code}")
    rpc.grid_events.register_grid(code=GRID, name="grid 1")
    rpc.grid_events.assign_worker(grid_code=GRID, worker_id=WORKER)
    rpc.grid_events.register_member_unit(body_code="433101", unit_code="justice-bureau",
                                         name="Jishou Justice Bureau", duties=["mediation"])


def stored_events(pg_url) -> int:
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM grid_events_events")).scalar_one()
    engine.dispose()
    return count


DISPUTE = dict(grid_code=GRID, category="dispute", source="petition", severity="medium",
               place="courtyard", description="boundary wall")


@pytest.fixture
def grid_events(pg_url, container_factory, service_config):
    # pg_url first: the database outlives the container, so teardown never races a live service
    container = container_factory(GridEventsService, service_config)
    container.start()
    return container


@pytest.fixture
def seeded(grid_events, rpc_as):
    with rpc_as() as rpc:
        seed_registry(rpc)
    return grid_events


class DisputeListener:
    """Receives the relayed message as any consumer would, and keeps it raw."""

    name = "dispute_listener"
    received = []

    @event_handler("grid_events", "dispute_reported")
    def on_dispute(self, payload):
        DisputeListener.received.append(payload)


def test_report_event_is_stored_relayed_projected_and_queryable(
    seeded, container_factory, service_config, rpc_as, pg_url
):
    DisputeListener.received = []
    listener = container_factory(DisputeListener, service_config)
    listener.start()
    before = stored_events(pg_url)

    with (entrypoint_waiter(listener, "on_dispute", timeout=10),
          rpc_as(role=Role.GRID_WORKER, jurisdiction="433101001001", actor_id=WORKER) as rpc):
        result = rpc.grid_events.report_event(**DISPUTE)

    assert stored_events(pg_url) == before + 1
    envelope = Envelope.model_validate(DisputeListener.received[0])
    payload = EventReported.model_validate(envelope.data)
    assert (envelope.source, envelope.event_type, envelope.schema_version) == ("grid_events", "dispute_reported", 1)
    assert str(payload.event_id) == result["event_id"]
    assert envelope.audit["actor_id"] == WORKER and envelope.audit["role"] == "grid_worker"
    assert "description" not in envelope.data and "place" not in envelope.data  # no personal data on the bus
    with rpc_as(role=Role.COUNTY_OFFICER, jurisdiction="433101") as rpc:
        listed = rpc.grid_events.list_events(grid_code=GRID)
    assert [item["event_id"] for item in listed["items"]] == [result["event_id"]]
    assert listed["items"][0]["status"] == "reported"


def test_report_event_stamps_caller_context_on_stored_event(seeded, rpc_as):
    with rpc_as(role=Role.GRID_WORKER, jurisdiction="433101001001", actor_id=WORKER) as rpc:
        result = rpc.grid_events.report_event(**DISPUTE)
    store = next(d for d in seeded.dependencies if isinstance(d, Store))
    first = list(store.app.events.get(UUID(result["event_id"])))[0]
    assert first.audit["actor_id"] == WORKER
    assert first.audit["jurisdiction"] == "433101001001"
    assert first.audit["call_id"]


def test_repeated_command_id_returns_first_result_and_stores_nothing(seeded, rpc_as, pg_url):
    with rpc_as() as rpc:
        first = rpc.grid_events.report_event(**DISPUTE, command_id="cmd-42")
        after_first = stored_events(pg_url)
        again = rpc.grid_events.report_event(**DISPUTE, command_id="cmd-42")
    assert again == first
    assert stored_events(pg_url) == after_first


@pytest.mark.parametrize(
    "change, error",
    [
        ({"category": None}, ValidationFailed),  # wrong type
        ({"severity": "apocalyptic"}, ValidationFailed),  # not one of the levels
        ({"grid_code": "43310100100100"}, ValidationFailed),  # bad jurisdiction code (14 digits)
        ({"description": "x" * 4001}, ValidationFailed),  # oversize text
        ({"unexpected": 1}, ValidationFailed),  # unknown field
        ({"grid_code": "433101001001009"}, NotFound),  # well-formed but unknown grid
    ],
)
def test_report_event_bad_payload_is_refused_and_stores_nothing(seeded, rpc_as, pg_url, change, error):
    payload = {**DISPUTE, **change}
    before = stored_events(pg_url)
    with rpc_as() as rpc, pytest.raises(error):
        rpc.grid_events.report_event(**payload)
    assert stored_events(pg_url) == before


def test_report_event_missing_field_is_refused_with_field_named(seeded, rpc_as, pg_url):
    payload = {k: v for k, v in DISPUTE.items() if k != "source"}
    before = stored_events(pg_url)
    with rpc_as() as rpc, pytest.raises(ValidationFailed, match="source"):
        rpc.grid_events.report_event(**payload)
    assert stored_events(pg_url) == before


def test_call_without_token_is_refused_and_stores_nothing(seeded, rpc_as, pg_url):
    before = stored_events(pg_url)
    with rpc_as(token=False) as rpc, pytest.raises(Unauthenticated):
        rpc.grid_events.report_event(**DISPUTE)
    assert stored_events(pg_url) == before


def test_report_event_outside_jurisdiction_is_forbidden_and_stores_nothing(seeded, rpc_as, pg_url):
    before = stored_events(pg_url)
    with rpc_as(role=Role.COUNTY_OFFICER, jurisdiction="433123") as rpc, pytest.raises(Forbidden):
        rpc.grid_events.report_event(**DISPUTE)
    assert stored_events(pg_url) == before


def test_close_event_without_feedback_is_refused_and_stores_nothing(seeded, rpc_as, pg_url):
    with rpc_as() as rpc:
        event_id = rpc.grid_events.report_event(**DISPUTE)["event_id"]
        rpc.grid_events.accept_event(event_id=event_id)
        rpc.grid_events.assign_event(event_id=event_id, unit="justice-bureau")
        rpc.grid_events.record_handling(event_id=event_id, note="met both households")
        before = stored_events(pg_url)
        with pytest.raises(InvalidTransition, match="feedback"):
            rpc.grid_events.close_event(event_id=event_id)
    assert stored_events(pg_url) == before


def test_event_lifecycle_reaches_closed_and_read_model_follows(seeded, rpc_as):
    with rpc_as() as rpc:
        event_id = rpc.grid_events.report_event(**DISPUTE)["event_id"]
        rpc.grid_events.accept_event(event_id=event_id)
        rpc.grid_events.assign_event(event_id=event_id, unit="justice-bureau")
        rpc.grid_events.record_handling(event_id=event_id, note="mediated")
        rpc.grid_events.record_feedback(event_id=event_id, feedback="both satisfied", satisfied=True)
        for step in rpc.grid_events.get_event(event_id=event_id)["required_steps"]:
            rpc.grid_events.tick_checklist_step(event_id=event_id, step=step)
        closed = rpc.grid_events.close_event(event_id=event_id)
        shown = rpc.grid_events.get_event(event_id=event_id)
        with pytest.raises(InvalidTransition, match="closed"):
            rpc.grid_events.accept_event(event_id=event_id)
    assert closed["status"] == "closed"
    assert shown["status"] == "closed" and shown["closed_at"] and shown["assigned_unit"] == "433101:justice-bureau"


def test_list_events_is_paginated_and_scoped(seeded, rpc_as):
    with rpc_as() as rpc:
        ids = [rpc.grid_events.report_event(**DISPUTE)["event_id"] for _ in range(5)]
        first = rpc.grid_events.list_events(jurisdiction="433101", page=1, page_size=2)
        third = rpc.grid_events.list_events(jurisdiction="433101", page=3, page_size=2)
        elsewhere = rpc.grid_events.list_events(jurisdiction="433123")
    assert first["total"] == 5 and len(first["items"]) == 2 and len(third["items"]) == 1
    assert set(ids) >= {item["event_id"] for item in first["items"] + third["items"]}
    assert elsewhere["total"] == 0


def test_mediation_case_opened_links_grid_event_once(seeded, rpc_as, service_config, event_headers):
    from datetime import datetime
    from uuid import uuid4

    from nameko.amqp.publish import Publisher
    from nameko.standalone.events import get_event_exchange

    with rpc_as() as rpc:
        event_id = rpc.grid_events.report_event(**DISPUTE)["event_id"]
    case_id = str(uuid4())
    message = {
        "source": "mediation",
        "event_type": "case_opened",
        "schema_version": 1,
        "notification_id": 1,
        "aggregate_id": case_id,
        "aggregate_version": 1,
        "occurred_at": datetime.now(UTC).isoformat(),
        "audit": {},
        "data": {
            "schema_version": 1,
            "case_id": case_id,
            "grid_event_id": event_id,
            "jurisdiction": "433101001001",
            "county": "433101",
            "tier": "village",
            "source": "petition",
            "opened_at": datetime.now(UTC).isoformat(),
        },
    }
    publisher = Publisher(service_config["AMQP_URI"], serializer="json")
    for _ in range(2):  # delivered twice: linked once
        with entrypoint_waiter(seeded, "on_mediation_case_opened", timeout=10):
            publisher.publish(
                message,
                exchange=get_event_exchange("mediation", service_config),
                routing_key="case_opened",
                headers=event_headers("mediation", message),
            )
    with rpc_as() as rpc:
        shown = rpc.grid_events.get_event(event_id=event_id)
    store = next(d for d in seeded.dependencies if isinstance(d, Store))
    linked = [e for e in store.app.events.get(UUID(event_id)) if type(e).__name__ == "MediationCaseLinked"]
    assert shown["mediation_case_id"] == case_id
    assert len(linked) == 1

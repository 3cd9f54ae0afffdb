"""emergency_command on real RabbitMQ and PostgreSQL: the command flow through RPC,
refusals that store nothing, incidents opened exactly once from redelivered grid
events on two replicas, warnings published as valid CAP 1.2, and the overdue-drill
timer on a movable clock across a restart."""

import uuid
from datetime import datetime, timedelta, timezone
from urllib.request import urlopen

import pytest
from nameko.amqp.publish import Publisher
from nameko.events import event_handler
from nameko.extensions import DependencyProvider
from nameko.standalone.events import get_event_exchange
from nameko.testing.services import entrypoint_waiter
from sqlalchemy import create_engine, text

from services.emergency_command.service import EmergencyCommandService
from services.grid_events.contracts import EventReported
from shared.context import Role
from shared.dependencies import Store
from shared.errors import InvalidTransition
from tests.conftest import signed_headers
from tests.polling import wait_until
from tests.unit.test_emergency_command_cap_schema import cap_schema

pytestmark = pytest.mark.integration

CST = timezone(timedelta(hours=8))
VILLAGE = "433101001001"
OFFICE = dict(role=Role.EMERGENCY_OFFICE, jurisdiction="433101", actor_id="eoc-1")
TOWNSHIP = dict(role=Role.TOWNSHIP_OFFICER, jurisdiction="433101001", actor_id="town-1")
CLOCK = {"now": datetime(2026, 12, 2, 9, 0, tzinfo=CST)}


class MovableClock(DependencyProvider):
    def get_dependency(self, worker_ctx):
        return lambda: CLOCK["now"]


class EmergencyCommandOnTestClock(EmergencyCommandService):
    now = MovableClock()


class Listener:
    """Another system: takes emergency_command's public events."""

    name = "emergency_listener"
    received: list = []

    @event_handler("emergency_command", "warning_published")
    def on_warning(self, payload):
        Listener.received.append(payload)

    @event_handler("emergency_command", "key_area_drill_overdue")
    def on_drill_overdue(self, payload):
        Listener.received.append(payload)


@pytest.fixture
def clock():
    CLOCK["now"] = datetime(2026, 12, 2, 9, 0, tzinfo=CST)
    return CLOCK


def start(container_factory, config):
    container = container_factory(EmergencyCommandOnTestClock, config)
    container.start()
    return container


def store_of(container) -> Store:
    return next(d for d in container.dependencies if isinstance(d, Store))


def stored_events(pg_url) -> int:
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM emergency_command_events")).scalar_one()
    engine.dispose()
    return count


def open_with_task(rpc, clock) -> tuple[str, str]:
    incident_id = rpc.emergency_command.open_incident(
        incident_ref=f"op-{uuid.uuid4().hex[:6]}", jurisdiction=VILLAGE, classification="natural_disaster",
        level="II", commander_unit="433101:emergency_office")["incident_id"]
    clock["now"] += timedelta(minutes=3)
    task_id = rpc.emergency_command.assign_task(incident_id=incident_id, unit="433101:rescue_team",
                                                instructions="Search the slope",
                                                due_at=(clock["now"] + timedelta(hours=1)).isoformat())["task_id"]
    return incident_id, task_id


def test_incident_flow_over_rpc_shows_in_figures(pg_url, clock, container_factory, service_config, rpc_as):
    start(container_factory, service_config)
    with rpc_as(**OFFICE) as rpc:
        incident_id, task_id = open_with_task(rpc, clock)
    clock["now"] += timedelta(minutes=7)
    with rpc_as(**TOWNSHIP) as rpc:
        rpc.emergency_command.acknowledge_task(incident_id=incident_id, task_id=task_id)
        listed = rpc.emergency_command.list_incidents(status="open")
    scraped = urlopen(f"http://{service_config['WEB_SERVER_ADDRESS']}/metrics", timeout=10).read().decode()
    assert [i["incident_id"] for i in listed["items"]] == [incident_id]
    assert 'pingan_emergency_incidents_open{county="433101",level="II",service="emergency_command"} 1.0' in scraped
    assert ('pingan_emergency_first_acknowledgement_seconds_bucket{le="900.0",service="emergency_command"} 1.0'
            in scraped)


def test_acknowledging_a_task_of_a_closed_incident_is_refused_and_stores_nothing(
        pg_url, clock, container_factory, service_config, rpc_as):
    start(container_factory, service_config)
    with rpc_as(**OFFICE) as rpc:
        incident_id, task_id = open_with_task(rpc, clock)
        rpc.emergency_command.cancel_task(incident_id=incident_id, task_id=task_id)
        rpc.emergency_command.close_incident(incident_id=incident_id, summary="Slope stable")
        before = stored_events(pg_url)
        with pytest.raises(InvalidTransition):
            rpc.emergency_command.acknowledge_task(incident_id=incident_id, task_id=task_id)
    assert stored_events(pg_url) == before


def test_warning_issued_and_cancelled_is_published_as_valid_cap(
        pg_url, clock, container_factory, service_config, rpc_as):
    Listener.received = []
    listener = container_factory(Listener, service_config)
    listener.start()
    service = start(container_factory, service_config)
    info = {"categories": ["Met"], "event": "暴雨", "urgency": "Expected", "severity": "Severe",
            "certainty": "Likely", "level": "orange", "effective": clock["now"].isoformat(),
            "expires": (clock["now"] + timedelta(hours=6)).isoformat(), "areas": ["433101001"]}
    with rpc_as(**OFFICE) as rpc:
        warning_id = rpc.emergency_command.issue_warning(command_id="w-int-1", jurisdiction="433101",
                                                         info=info)["warning_id"]
        clock["now"] += timedelta(minutes=20)
        with entrypoint_waiter(listener, "on_warning", timeout=30,
                               callback=lambda ctx, result, exc: len(Listener.received) >= 2):
            rpc.emergency_command.cancel_warning(warning_id=warning_id)
            store_of(service).relay_pending()
    published = [m["data"] for m in Listener.received]
    assert [m["msg_type"] for m in published] == ["Alert", "Cancel"]
    for message in published:
        cap_schema().validate(message["cap_xml"])


def severe_envelope(notification_id: int, event_id: str) -> dict:
    data = EventReported(event_id=event_id, grid_code=VILLAGE + "001", jurisdiction=VILLAGE, county="433101",
                         category="fire", source="patrol", severity="severe",
                         reported_at="2026-12-02T00:30:00Z").model_dump(mode="json")
    return {"source": "grid_events", "event_type": "severe_event_reported", "schema_version": 1,
            "notification_id": notification_id, "aggregate_id": event_id, "aggregate_version": 1,
            "occurred_at": "2026-12-02T00:30:00Z", "audit": {}, "data": data}


def incident_count(store: Store) -> int:
    store.catch_up()
    with store.engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM emergency_incidents_view")).scalar_one()


def test_redelivered_severe_events_on_two_replicas_open_one_incident_each(
        pg_url, clock, container_factory, service_config):
    config = {**service_config, "max_workers": 10}
    replicas = [start(container_factory, config) for _ in range(2)]
    publisher = Publisher(config["AMQP_URI"], serializer="json")
    count = 20
    messages = [severe_envelope(n, str(uuid.uuid4())) for n in range(1, count + 1)]
    # Every message twice, newest first; then each event again under a new notification (a replay upstream).
    replayed = [{**m, "notification_id": m["notification_id"] + 1000} for m in messages]
    for message in list(reversed(messages + messages)) + replayed:
        publisher.publish(message, exchange=get_event_exchange("grid_events", config),
                          routing_key="severe_event_reported", headers=signed_headers("grid_events", message))
    store = store_of(replicas[0])
    # Every message handled: the inbox holds one record per distinct message (2 per event).
    wait_until(lambda: _inbox_records(pg_url) >= 2 * count, 60, "every copy of every message handled")
    assert incident_count(store) == count


def _inbox_records(pg_url) -> int:
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        found = conn.execute(text(
            "SELECT count(*) FROM emergency_command_events WHERE topic LIKE '%InboxRecord%'")).scalar_one()
    engine.dispose()
    return found


def test_overdue_drill_is_published_once_per_due_date_across_restart(
        pg_url, clock, monkeypatch, container_factory, service_config, rpc_as):
    monkeypatch.setenv("PINGAN_OVERDUE_CHECK_INTERVAL", "0.05")
    Listener.received = []
    listener = container_factory(Listener, service_config)
    listener.start()
    first = start(container_factory, service_config)
    with rpc_as(**OFFICE) as rpc:
        area_id = rpc.emergency_command.register_key_area(
            registry_ref="jishou-station", jurisdiction=VILLAGE, kind="station", managing_unit="433101:rail",
            drill_every_days=30, registered_on="2026-10-20")["area_id"]  # first drill due 2026-11-19
        rpc.emergency_command.adopt_plan(area_id=area_id, version=1, approved_by="433101:gov",
                                         approved_on="2026-10-21", document_ref="plan-station-1")
    overdue = lambda: sorted(m["data"]["due_on"] for m in Listener.received  # noqa: E731
                             if m.get("event_type") == "key_area_drill_overdue")
    let_timer_run(first)
    assert wait_until(overdue, 30, "the overdue drill flagged") == ["2026-11-19"]

    first.stop()
    second = start(container_factory, service_config)
    let_timer_run(second)
    with rpc_as(**TOWNSHIP) as rpc:
        rpc.emergency_command.record_drill(area_id=area_id, held_on="2026-12-01", scenario="fire",
                                           participant_count=45)
    clock["now"] = datetime(2027, 1, 5, 9, 0, tzinfo=CST)  # the next drill was due 2026-12-31
    let_timer_run(second)
    both = wait_until(lambda: len(overdue()) == 2 and overdue(), 30, "both overdue drills flagged")
    assert both == ["2026-11-19", "2026-12-31"]


def let_timer_run(container, ticks=3):
    """Wait for ``ticks`` checks to finish, then publish whatever they stored."""
    seen = []
    with entrypoint_waiter(container, "check_key_areas", timeout=15,
                           callback=lambda worker_ctx, result, exc_info: seen.append(result) or len(seen) >= ticks):
        pass
    store_of(container).relay_pending()

"""A grid event of the highest severity opens an incident under command, a task is
dispatched and acknowledged, a warning is issued and cancelled, and the grid event
shows the incident — grid_events and two emergency_command replicas each in its own
OS process, with their own PostgreSQL databases, over real RabbitMQ. Redelivered
severe events, newest first, open no second incident and lose none."""

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from nameko.amqp.publish import Publisher
from nameko.events import event_handler
from nameko.standalone.events import get_event_exchange
from nameko.testing.services import entrypoint_waiter

from shared.context import Role
from tests.conftest import signed_headers
from tests.e2e.processes import ServiceProcess, databases_for
from tests.polling import wait_until
from tests.unit.test_emergency_command_cap_schema import cap_schema

pytestmark = pytest.mark.e2e

VILLAGE = "433101001001"
GRID = VILLAGE + "001"
WORKER = "gw-3001"
OFFICE = dict(role=Role.EMERGENCY_OFFICE, jurisdiction="433101", actor_id="eoc-31")
TOWNSHIP = dict(role=Role.TOWNSHIP_OFFICER, jurisdiction="433101001", actor_id="town-31")
SERVICES = ("grid_events", "emergency_command")


@pytest.fixture
def service_databases(monkeypatch):
    with databases_for(monkeypatch, SERVICES):
        yield


class Watcher:
    """Stands for other systems: grid_events' severe events (to redeliver them) and the CAP warnings."""

    name = "emergency_watcher"
    severe: list = []
    warnings: list = []

    @event_handler("grid_events", "severe_event_reported")
    def on_severe(self, payload):
        Watcher.severe.append(payload)

    @event_handler("emergency_command", "warning_published")
    def on_warning(self, payload):
        Watcher.warnings.append(payload)


def eventually(check, timeout=30.0):
    return wait_until(check, timeout, "the flow's next step")


def incidents_from_grid(rpc) -> dict:
    items = rpc.emergency_command.list_incidents(page_size=100)["items"]
    return {i["source_ref"]: i for i in items if i["trigger"] == "severe_grid_event"}


def test_severe_grid_event_opens_one_incident_commanded_to_a_cancelled_warning(
        service_databases, service_config, container_factory, rpc_as, tmp_path):
    processes = [ServiceProcess("grid_events", service_config["AMQP_URI"], tmp_path / "grid_events.log")] + [
        ServiceProcess("emergency_command", service_config["AMQP_URI"], tmp_path / f"emergency_command_{n}.log")
        for n in (1, 2)]
    Watcher.severe, Watcher.warnings = [], []
    watcher = container_factory(Watcher, service_config)
    watcher.start()
    try:
        for process in processes:
            process.start()
        with rpc_as() as rpc:
            for code in ("433100", "433101", "433101001", VILLAGE):
                rpc.grid_events.register_jurisdiction(code=code, name=f"unit {code}")
            rpc.grid_events.register_grid(code=GRID, name="grid 1")
            rpc.grid_events.assign_worker(grid_code=GRID, worker_id=WORKER)
        with rpc_as(role=Role.GRID_WORKER, jurisdiction=VILLAGE, actor_id=WORKER) as rpc:
            event_ids = [rpc.grid_events.report_event(grid_code=GRID, category=category, source="patrol",
                                                      severity="severe", place="the river bank",
                                                      description="landslip over the road")["event_id"]
                         for category in ("safety_hazard", "fire", "public_health")]
            rpc.grid_events.report_event(grid_code=GRID, category="fire", source="patrol", severity="high",
                                         place="the mill", description="smoke")  # not the highest: no incident

        with rpc_as(**OFFICE) as rpc:
            opened = eventually(lambda: len(incidents_from_grid(rpc)) == 3 and incidents_from_grid(rpc))
            assert opened and set(opened) == set(event_ids)
            incident = opened[event_ids[0]]
            assert (incident["level"], incident["classification"], incident["commander_unit"]) == (
                "III", "accident", "433101:emergency_office")
            incident_id = incident["incident_id"]
            task_id = rpc.emergency_command.assign_task(
                incident_id=incident_id, unit="433101:fire_brigade", instructions="Clear the road",
                due_at=(datetime.now(UTC) + timedelta(hours=2)).isoformat())["task_id"]
        with rpc_as(**TOWNSHIP) as rpc:
            acknowledged = rpc.emergency_command.acknowledge_task(incident_id=incident_id, task_id=task_id)
        assert acknowledged["tasks"] == {task_id: "acknowledged"}

        now = datetime.now(timezone(timedelta(hours=8))).replace(microsecond=0)
        info = {"categories": ["Geo"], "event": "山体滑坡", "urgency": "Immediate", "severity": "Extreme",
                "certainty": "Observed", "level": "red", "effective": now.isoformat(),
                "expires": (now + timedelta(hours=12)).isoformat(), "areas": ["433101001"]}
        with rpc_as(**OFFICE) as rpc:
            warning_id = rpc.emergency_command.issue_warning(command_id=f"w-{uuid.uuid4().hex[:6]}",
                                                             jurisdiction="433101", info=info,
                                                             incident_id=incident_id)["warning_id"]
            with entrypoint_waiter(watcher, "on_warning", timeout=30,
                                   callback=lambda ctx, result, exc: len(Watcher.warnings) >= 2):
                rpc.emergency_command.cancel_warning(warning_id=warning_id)
        assert [m["data"]["msg_type"] for m in Watcher.warnings] == ["Alert", "Cancel"]
        for message in Watcher.warnings:
            cap_schema().validate(message["data"]["cap_xml"])

        with rpc_as() as rpc:
            linked = eventually(lambda: rpc.grid_events.get_event(event_id=event_ids[0])["incident_id"])
        assert linked == incident_id

        # Redeliver every severe event twice, newest first, to both replicas' queue.
        assert eventually(lambda: len(Watcher.severe) == 3)
        publisher = Publisher(service_config["AMQP_URI"], serializer="json")
        for message in list(reversed(Watcher.severe)) * 2:
            publisher.publish(message, exchange=get_event_exchange("grid_events", service_config),
                              routing_key="severe_event_reported", headers=signed_headers("grid_events", message))
        marker_id = rpc_report_marker(rpc_as)  # queued behind the copies: its incident shows they were taken
        with rpc_as(**OFFICE) as rpc:
            after = eventually(lambda: marker_id in incidents_from_grid(rpc) and incidents_from_grid(rpc))
            total = rpc.emergency_command.list_incidents(page_size=100)["total"]
        assert after and set(after) == {*event_ids, marker_id} and total == 4
    finally:
        for process in processes:
            process.stop()


def rpc_report_marker(rpc_as) -> str:
    with rpc_as(role=Role.GRID_WORKER, jurisdiction=VILLAGE, actor_id=WORKER) as rpc:
        return rpc.grid_events.report_event(grid_code=GRID, category="traffic", source="patrol", severity="severe",
                                            place="the bridge", description="truck overturned")["event_id"]

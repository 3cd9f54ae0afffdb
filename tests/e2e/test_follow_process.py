"""`pingan follow`: the relay and projector of a service in a process of their own (the service at
PINGAN_FOLLOW_LOG=off), on real RabbitMQ and PostgreSQL: every event published and projected, once,
with two followers at once and across a follower killed mid-stream."""

import re
from collections import Counter

import eventlet
import pytest
from kombu import Connection, Exchange, Queue

from shared.context import Role
from shared.dependencies import Store
from tests.e2e.processes import ServiceProcess
from tests.e2e.test_restart_midstream import noted, noted_once_each
from tests.integration.test_consumer_tracking import DisputeInbox
from tests.polling import wait_until

pytestmark = pytest.mark.e2e

GRID = "433101001001001"


def lag(process: ServiceProcess, metric: str) -> list[float]:
    """Every figure of ``metric`` (relay or projection lag) the process exposes for grid_events."""
    return [float(value) for value in
            re.findall(rf'^{metric}\{{[^}}]*service="grid_events"[^}}]*\}} (\S+)$', process.metrics(), re.M)]


def caught_up(process: ServiceProcess) -> bool:
    relay, projections = lag(process, "pingan_relay_lag_events"), lag(process, "pingan_projection_lag_events")
    return relay == [0.0] and bool(projections) and not any(projections)


def published(service_config: dict, queue: Queue) -> list[dict]:
    """Every message waiting in ``queue``, taken off it."""
    bodies = []
    with Connection(service_config["AMQP_URI"]) as connection:
        bound = queue(connection.default_channel)
        while (message := bound.get(accept=["json"], no_ack=True)) is not None:
            bodies.append(message.payload)
    return bodies


def in_log(rpc) -> Counter:
    """Each public event the log holds, as the relay would publish it (the service's own catch-up read)."""
    found, position = Counter(), 0
    while True:
        page = rpc.grid_events.events_since(position=position, limit=500)
        found.update((item["body"]["notification_id"], item["body"]["event_type"]) for item in page["items"])
        position = page["position"]
        if not page["more"]:
            return found


@pytest.fixture
def tap(service_config):
    """A queue bound to every event grid_events publishes, declared before any is."""
    queue = Queue("follow-tap", Exchange("grid_events.events", type="topic", durable=True), routing_key="#")
    with Connection(service_config["AMQP_URI"]) as connection:
        queue(connection.default_channel).declare()
    return queue


@pytest.fixture
def service_off(service_config, pg_url, tmp_path, rpc_as):
    """grid_events under `pingan serve` with its log followed by no one in it, its registry seeded."""
    service = ServiceProcess("grid_events", service_config["AMQP_URI"], tmp_path / "serve.log",
                             PINGAN_FOLLOW_LOG="off").start()
    with rpc_as(role=Role.ADMIN, jurisdiction="433100") as rpc:
        for code in ("433100", "433101", "433101001", "433101001001"):
            rpc.grid_events.register_jurisdiction(code=code, name=code)
        rpc.grid_events.register_grid(code=GRID, name="grid")
    yield service
    service.stop()


def follower(service_config: dict, tmp_path, number: int) -> ServiceProcess:
    return ServiceProcess("grid_events", service_config["AMQP_URI"], tmp_path / f"follow-{number}.log",
                          command="follow")


def report(rpc_as, number: int) -> str:
    with rpc_as(role=Role.ADMIN, jurisdiction="433100") as rpc:
        return rpc.grid_events.report_event(grid_code=GRID, category="dispute", source="petition", severity="low",
                                            place="p", description=f"dispute {number}",
                                            command_id=f"follow-{number}")["event_id"]


def report_concurrently(rpc_as, count: int) -> list:
    pool = eventlet.GreenPool(5)
    return [pool.spawn(report, rpc_as, number) for number in range(count)]


def test_follow_process_publishes_and_projects_every_event_once(service_off, service_config, rpc_as, tap, tmp_path):
    followers = [follower(service_config, tmp_path, 1).start()]
    try:
        reported = [result.wait() for result in report_concurrently(rpc_as, 20)]
        wait_until(lambda: caught_up(followers[0]), 30, "the follower relayed and projected everything")
        with rpc_as(role=Role.ADMIN, jurisdiction="433100") as rpc:
            expected = in_log(rpc)
            listed = rpc.grid_events.list_events(jurisdiction="433101", page_size=50)
        sent = Counter((body["notification_id"], body["event_type"]) for body in published(service_config, tap))
        assert sent == expected and max(sent.values()) == 1
        assert sorted(item["event_id"] for item in listed["items"]) == sorted(reported)
    finally:
        for process in followers:
            process.stop()


def test_follow_processes_two_at_once_publish_every_event_once(service_off, service_config, rpc_as, tap, tmp_path):
    followers = [follower(service_config, tmp_path, number).start() for number in (1, 2)]
    try:
        for result in report_concurrently(rpc_as, 40):
            result.wait()
        wait_until(lambda: all(caught_up(process) for process in followers), 30, "both followers caught up")
        with rpc_as(role=Role.ADMIN, jurisdiction="433100") as rpc:
            expected = in_log(rpc)
        sent = Counter((body["notification_id"], body["event_type"]) for body in published(service_config, tap))
        assert sent == expected and max(sent.values()) == 1
    finally:
        for process in followers:
            process.stop()


def test_follow_process_killed_midstream_loses_no_event_and_duplicates_no_effect(
    service_off, container_factory, service_config, rpc_as, tmp_path
):
    inbox = container_factory(DisputeInbox, service_config)
    inbox.start()
    store = next(d for d in inbox.dependencies if isinstance(d, Store))
    first = follower(service_config, tmp_path, 1).start()
    second = follower(service_config, tmp_path, 2)
    try:
        results = report_concurrently(rpc_as, 60)
        wait_until(lambda: noted(store) >= 10, 60, "some disputes noted", interval=0.01)
        first.kill()  # SIGKILL mid-stream: a batch may be published and not yet marked as relayed
        reported = [result.wait() for result in results]
        second.start()
        wait_until(lambda: noted(store) >= len(reported), 30, "every reported dispute noted")
        # every event once: none lost, none twice
        assert noted_once_each(inbox, store, service_config, lambda: caught_up(second)) == sorted(reported)
    finally:
        first.stop()
        second.stop()


def test_follow_process_is_woken_by_the_services_saves_not_its_poll(service_off, service_config, rpc_as, tmp_path):
    # A poll every 10 minutes: only the service's NOTIFY after its saves can have woken it in time.
    slow = ServiceProcess("grid_events", service_config["AMQP_URI"], tmp_path / "follow-slow.log", command="follow",
                          PINGAN_RELAY_INTERVAL="600").start()
    try:
        wait_until(lambda: caught_up(slow), 30, "the follower's first pass")
        report(rpc_as, 1)
        wait_until(lambda: lag(slow, "pingan_relay_lag_events") == [0.0] and caught_up(slow), 30,
                   "the report relayed and projected")
    finally:
        slow.stop()


def test_follow_process_stops_at_sigterm_after_its_last_pass(service_off, service_config, tmp_path):
    process = follower(service_config, tmp_path, 1).start()
    process.process.terminate()
    assert process.process.wait(timeout=15) == 0
    assert '"event": "followed"' in process.log_path.read_text()

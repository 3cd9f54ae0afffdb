"""A service killed mid-stream and restarted loses no event and relays none twice into a consumer's effect."""

import re

import eventlet
import pytest
from kombu import Connection
from sqlalchemy import func, select

from shared.context import Role
from shared.dependencies import Store
from tests.e2e.processes import ServiceProcess
from tests.integration.test_consumer_tracking import DisputeInbox, notes
from tests.polling import wait_until

pytestmark = pytest.mark.e2e

GRID = "433101001001001"
REPORTS = 60
KILL_AFTER = 25


def test_service_killed_midstream_loses_no_event_and_duplicates_no_effect(
    container_factory, service_config, rpc_as, pg_url, tmp_path
):
    grid_events = ServiceProcess("grid_events", service_config["AMQP_URI"], tmp_path / "grid_events.log").start()
    inbox = container_factory(DisputeInbox, service_config)
    inbox.start()
    store = next(d for d in inbox.dependencies if isinstance(d, Store))
    try:
        with rpc_as(role=Role.ADMIN, jurisdiction="433100") as rpc:
            for code in ("433100", "433101", "433101001", "433101001001"):
                rpc.grid_events.register_jurisdiction(code=code, name=code)
            rpc.grid_events.register_grid(code=GRID, name="grid")

        def report(number):
            # Commands sent while the service is down wait in its durable RPC queue.
            with rpc_as(role=Role.ADMIN, jurisdiction="433100") as sender:
                return sender.grid_events.report_event(
                    grid_code=GRID, category="dispute", source="petition", severity="low",
                    place="p", description=f"dispute {number}", command_id=f"e2e-{number}")["event_id"]

        # Five callers write concurrently; the service is killed while they do,
        # so events are stored but not yet relayed, and commands are in flight.
        pool = eventlet.GreenPool(5)
        results = [pool.spawn(report, number) for number in range(REPORTS)]
        wait_until(lambda: sum(result.dead for result in results) >= KILL_AFTER, 60,
                   f"{KILL_AFTER} reports answered", interval=0.01)
        grid_events.kill()
        grid_events.start()
        reported = [result.wait() for result in results]

        wait_until(lambda: noted(store) >= REPORTS, 30, "every reported dispute noted")
        assert noted_once_each(inbox, store, service_config, lambda: relay_lag(grid_events) == 0) == sorted(reported)
    finally:
        grid_events.stop()


def noted_once_each(inbox, store, service_config: dict, relayed) -> list:
    """The grid events the inbox noted, sorted, once ``relayed()`` holds and the inbox queue is drained
    (a late duplicate would come from the relay, not caught up, or the broker, still queued)."""
    queue = next(e.queue.name for e in inbox.entrypoints if getattr(e, "queue", None) is not None)
    wait_until(lambda: relayed() and queued(service_config, queue) == 0, 30,
               "the relay caught up and the inbox queue drained")
    with store.engine.connect() as conn:
        return sorted(row[0] for row in conn.execute(select(notes.c.grid_event_id)))


def relay_lag(service: ServiceProcess) -> float | None:
    found = re.search(r'^pingan_relay_lag_events\{[^}]*service="grid_events"[^}]*\} (\S+)$', service.metrics(), re.M)
    return float(found.group(1)) if found else None


def queued(service_config: dict, queue: str) -> int:
    with Connection(service_config["AMQP_URI"]) as connection:
        return connection.default_channel.queue_declare(queue=queue, passive=True).message_count


def noted(store) -> int:
    store.catch_up()
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(notes)).scalar_one()

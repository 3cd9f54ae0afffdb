"""Overdue detection in a running service (Art. 5(2)): with a short timer and a
movable clock, each item raises exactly one work_item_overdue per due date,
also across a restart of the service."""

from datetime import date
from urllib.request import urlopen

import pytest
from nameko.amqp.publish import Publisher
from nameko.events import event_handler
from nameko.extensions import DependencyProvider
from nameko.standalone.events import get_event_exchange
from nameko.testing.services import entrypoint_waiter

from services.grid_events.service import GridEventsService
from shared.context import Role
from shared.dependencies import Store

pytestmark = pytest.mark.integration

GRID = "433101001001001"
WORKER = "gw-1001"
TODAY = {"date": date(2026, 11, 10)}


class MovableClock(DependencyProvider):
    def get_dependency(self, worker_ctx):
        return lambda: TODAY["date"]


class GridEventsOnTestClock(GridEventsService):
    today = MovableClock()


class OverdueListener:
    """A consumer of work_item_overdue, as any other system would be."""

    name = "overdue_listener"
    received: list = []

    @event_handler("grid_events", "work_item_overdue")
    def on_overdue(self, payload):
        OverdueListener.received.append(payload)


@pytest.fixture
def short_timer(monkeypatch):
    monkeypatch.setenv("PINGAN_OVERDUE_CHECK_INTERVAL", "0.05")
    TODAY["date"] = date(2026, 11, 10)


def start_grid_events(container_factory, service_config):
    container = container_factory(GridEventsOnTestClock, service_config)
    container.start()
    return container


def let_timer_run(container, ticks=3):
    """Wait for ``ticks`` overdue checks to finish, then publish whatever they stored."""
    seen = []
    with entrypoint_waiter(container, "check_overdue", timeout=15,
                           callback=lambda worker_ctx, result, exc_info: seen.append(result) or len(seen) >= ticks):
        pass
    next(d for d in container.dependencies if isinstance(d, Store)).relay_pending()


def overdue_messages(listener, service_config, round_number):
    """Everything relayed so far has reached the listener once a marker sent after it has."""
    marker = {"marker": round_number}
    publisher = Publisher(service_config["AMQP_URI"], serializer="json")
    with entrypoint_waiter(listener, "on_overdue", timeout=15,
                           callback=lambda worker_ctx, result, exc_info: worker_ctx.args[0] == marker):
        publisher.publish(marker, exchange=get_event_exchange("grid_events", service_config),
                          routing_key="work_item_overdue")
    return sorted((m["data"]["item_id"], m["data"]["due_date"]) for m in OverdueListener.received if "data" in m)


def seed(rpc):
    for code in ("433100", "433101", "433101001", "433101001001"):
        rpc.grid_events.register_jurisdiction(code=code, name=f"unit {code}")
    rpc.grid_events.register_grid(code=GRID, name="grid 1")
    rpc.grid_events.assign_worker(grid_code=GRID, worker_id=WORKER)


def add_item(rpc, due, every_days=None):
    return rpc.grid_events.add_work_item(grid_code=GRID, kind="patrol", title="patrol", due_date=due,
                                         every_days=every_days, assignee_kind="grid_worker",
                                         assignee_id=WORKER)["item_id"]


def test_overdue_items_raise_one_event_per_due_date_across_restart(
        pg_url, short_timer, container_factory, service_config, rpc_as):
    OverdueListener.received = []
    listener = container_factory(OverdueListener, service_config)
    listener.start()
    first = start_grid_events(container_factory, service_config)
    with rpc_as() as rpc:
        seed(rpc)
        one_off = add_item(rpc, "2026-11-05")
        weekly = add_item(rpc, "2026-11-09", every_days=7)
        add_item(rpc, "2026-11-20")  # not yet due

    let_timer_run(first)
    assert overdue_messages(listener, service_config, 1) == sorted([(one_off, "2026-11-05"), (weekly, "2026-11-09")])

    first.stop()
    second = start_grid_events(container_factory, service_config)
    let_timer_run(second)
    assert overdue_messages(listener, service_config, 2) == sorted([(one_off, "2026-11-05"), (weekly, "2026-11-09")])

    with rpc_as(role=Role.GRID_WORKER, jurisdiction="433101001001", actor_id=WORKER) as rpc:
        rpc.grid_events.complete_work_item(item_id=weekly, note="late patrol done")  # next due 2026-11-16
    TODAY["date"] = date(2026, 11, 17)
    let_timer_run(second)
    assert overdue_messages(listener, service_config, 3) == sorted(
        [(one_off, "2026-11-05"), (weekly, "2026-11-09"), (weekly, "2026-11-16")])


def test_overdue_items_are_listed_and_counted_per_county(
    pg_url, short_timer, container_factory, service_config, rpc_as
):
    service = start_grid_events(container_factory, service_config)
    with rpc_as() as rpc:
        seed(rpc)
        late = [add_item(rpc, "2026-11-01") for _ in range(3)]
        add_item(rpc, "2026-12-01")
    let_timer_run(service)
    with rpc_as(role=Role.TOWNSHIP_OFFICER, jurisdiction="433101001") as rpc:
        page = rpc.grid_events.list_work_items(overdue=True, page=1, page_size=2)
        rest = rpc.grid_events.list_work_items(overdue=True, page=2, page_size=2)
    with rpc_as(role=Role.COUNTY_OFFICER, jurisdiction="433123") as rpc:
        elsewhere = rpc.grid_events.list_work_items(overdue=True)
    scraped = urlopen(f"http://{service_config['WEB_SERVER_ADDRESS']}/metrics", timeout=10).read().decode()

    assert page["total"] == 3 and {i["item_id"] for i in page["items"] + rest["items"]} == set(late)
    assert elsewhere["total"] == 0
    assert 'pingan_work_items_overdue{county="433101",service="grid_events"} 3.0' in scraped

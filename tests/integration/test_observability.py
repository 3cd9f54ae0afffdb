"""Every service exposes RED metrics, relay and projection lag, /health and /ready."""

import pytest
import requests
from nameko.events import event_handler
from nameko.testing.services import entrypoint_waiter

from services.grid_events.service import GridEventsService
from shared.errors import ValidationFailed
from tests.polling import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def grid_events(container_factory, service_config, pg_url):
    container = container_factory(GridEventsService, service_config)
    container.start()
    return container


def scraped(port: int, name: str, **labels: str) -> float | None:
    """One sample's value from the service's /metrics, None when absent."""
    from prometheus_client.parser import text_string_to_metric_families

    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return None


def test_metrics_count_calls_and_errors_per_entrypoint(grid_events, rpc_as, web_config_port):
    # Counters are per process and other tests ran before: compare before and after.
    labels = dict(service="grid_events", entrypoint="register_jurisdiction", kind="rpc")
    calls = scraped(web_config_port, "pingan_entrypoint_calls_total", **labels) or 0
    errors = scraped(web_config_port, "pingan_entrypoint_errors_total", error="ValidationFailed", **labels) or 0
    timed = scraped(web_config_port, "pingan_entrypoint_duration_seconds_count", **labels) or 0
    with rpc_as() as rpc:
        rpc.grid_events.register_jurisdiction(code="433100", name="Xiangxi")
        with pytest.raises(ValidationFailed):
            rpc.grid_events.register_jurisdiction(code="4331", name="bad")
    assert scraped(web_config_port, "pingan_entrypoint_calls_total", **labels) == calls + 2
    assert scraped(web_config_port, "pingan_entrypoint_errors_total", error="ValidationFailed", **labels) == errors + 1
    assert scraped(web_config_port, "pingan_entrypoint_duration_seconds_count", **labels) == timed + 2


def test_metrics_show_relay_and_projection_lag(grid_events, rpc_as, web_config_port):
    with rpc_as() as rpc:
        rpc.grid_events.register_jurisdiction(code="433100", name="Xiangxi")
    assert scraped(web_config_port, "pingan_up", service="grid_events") == 1
    # The background loop catches up by itself (reads write audit events, so poll rather than read).
    def lag():
        return {
            "relay": scraped(web_config_port, "pingan_relay_lag_events", service="grid_events"),
            "registry": scraped(web_config_port, "pingan_projection_lag_events", service="grid_events",
                                projection="grid_events.registry"),
        }

    # Present (None when absent) and caught up.
    wait_until(lambda: lag() == {"relay": 0, "registry": 0}, 5, "relay and registry lag 0")


def test_health_and_ready_answer_when_broker_and_database_are_up(grid_events, web_config_port):
    health = requests.get(f"http://127.0.0.1:{web_config_port}/health", timeout=5)
    ready = requests.get(f"http://127.0.0.1:{web_config_port}/ready", timeout=5)
    assert health.status_code == 200
    assert ready.status_code == 200 and ready.json() == {"service": "grid_events", "database": True, "broker": True,
                                                    "stalled_projections": {}}


def test_ready_is_503_when_database_is_gone(grid_events, web_config_port, pg_url):
    import psycopg2

    from tests.conftest import PG_ADMIN_DSN

    name = pg_url.rsplit("/", 1)[1]
    admin = psycopg2.connect(PG_ADMIN_DSN)
    admin.autocommit = True
    admin.cursor().execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    admin.cursor().execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
    try:
        ready = requests.get(f"http://127.0.0.1:{web_config_port}/ready", timeout=15)
    finally:
        admin.cursor().execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        admin.close()
    assert ready.status_code == 503 and ready.json()["database"] is False


class CallIdListener:
    name = "call_id_listener"

    @event_handler("grid_events", "dispute_reported")
    def on_dispute(self, payload):
        return payload


def test_call_id_follows_command_into_relayed_event(grid_events, container_factory, service_config, rpc_as):
    listener = container_factory(CallIdListener, service_config)
    listener.start()
    seen = []
    with rpc_as() as rpc:
        for code in ("433100", "433101", "433101001", "433101001001"):
            rpc.grid_events.register_jurisdiction(code=code, name=code)
        rpc.grid_events.register_grid(code="433101001001001", name="g")
        with entrypoint_waiter(listener, "on_dispute", timeout=10,
                               callback=lambda worker_ctx, result, exc: seen.append(worker_ctx) or True):
            rpc.grid_events.report_event(grid_code="433101001001001", category="dispute", source="petition",
                                         severity="low", place="p", description="d")
    (worker_ctx,) = seen
    envelope = worker_ctx.args[0]
    assert envelope["audit"]["call_id"].startswith("standalone_rpc_proxy.call.")
    assert worker_ctx.call_id_stack[0] == envelope["audit"]["call_id"]

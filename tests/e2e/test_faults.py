"""The fault suite: broker connections cut under load, the database out of reach, control
characters in every text field of every command, a projection that cannot apply an event,
and poison messages — each on real RabbitMQ and PostgreSQL, through TCP proxies the test
controls (the shared servers are never restarted), each bounded in time (docs/reliability.md)."""

import subprocess
import time
from uuid import UUID

import eventlet
import pytest
from kombu import Connection
from nameko.amqp.publish import Publisher
from nameko.standalone.events import get_event_exchange
from prometheus_client.parser import text_string_to_metric_families

from services.grid_events import contracts as grid
from services.grid_events.application import GridEventsApplication
from services.mediation.domain import case_id_for
from shared.config import load_settings
from shared.context import CallerContext, Role
from shared.dead_letters import dead_letter_queue
from shared.errors import ReadModelStalled, ServiceUnavailable, ValidationFailed
from shared.eventstore import Call, application_env
from shared.registry import service_classes, service_names
from tests.e2e.faults_support import Databases, calling, eventually, ready, start_services, until_done
from tests.e2e.processes import PINGAN
from tests.e2e.proxy import TcpProxy

pytestmark = pytest.mark.e2e

VILLAGE = "433101001001"
GRID = VILLAGE + "001"
REPORTS = 40
BACK_WITHIN = 15  # seconds: a service answers again this soon after its broker returns


@pytest.fixture
def databases():
    found = Databases()
    yield found
    found.drop()


@pytest.fixture
def broker():
    proxy = TcpProxy(5672)
    yield proxy
    proxy.close()


@pytest.fixture
def database():
    proxy = TcpProxy(5432)
    yield proxy
    proxy.close()


@pytest.fixture
def services(databases, broker, database, service_config, tmp_path, monkeypatch):
    monkeypatch.setenv("PINGAN_DATABASE_URL", databases.url())  # for in-test stores: direct
    processes = start_services(broker.url(service_config["AMQP_URI"]), databases.url(database.port), tmp_path)
    yield processes
    for process in processes.values():
        process.stop()


@pytest.fixture
def admin(token_for):
    return token_for(role=Role.ADMIN, jurisdiction="433100")


def register_village(service_config, admin):
    with calling(service_config, admin) as rpc:
        for code in ("433100", "433101", "433101001", VILLAGE):
            rpc.grid_events.register_jurisdiction(code=code, name=f"unit {code}")
        rpc.grid_events.register_grid(code=GRID, name="grid 1")


def report(service_config, admin, number, tag):
    return until_done(service_config, admin, lambda rpc: rpc.grid_events.report_event(
        grid_code=GRID, category="dispute", source="petition", severity="low", place="p",
        description=f"dispute {number}", command_id=f"{tag}-{number}"))["event_id"]


def stored_events(service_config, admin) -> list[str]:
    with calling(service_config, admin, timeout=15) as rpc:
        page = rpc.grid_events.list_events(jurisdiction=VILLAGE, page_size=500)
    return [item["event_id"] for item in page["items"]]


def open_cases(service_config, admin) -> int:
    with calling(service_config, admin, timeout=15) as rpc:
        return rpc.mediation.list_cases(jurisdiction=VILLAGE, page_size=500)["total"]


def alive(processes) -> bool:
    return all(process.process.poll() is None for process in processes.values())


def answers(service_config, admin, service) -> bool:
    try:
        with calling(service_config, admin, timeout=2) as rpc:
            return getattr(rpc, service).health()["ok"]
    except Exception:
        return False


def test_fault_broker_cut_under_load_loses_nothing_and_no_process_exits(services, broker, service_config, admin):
    register_village(service_config, admin)
    pool = eventlet.GreenPool(5)
    results = [pool.spawn(report, service_config, admin, number, "cut") for number in range(REPORTS)]
    assert eventually(lambda: sum(r.dead for r in results) >= REPORTS // 4)
    assert broker.cut() > 0  # every service connection dropped mid-load, as a broker restart does
    assert eventually(lambda: sum(r.dead for r in results) >= REPORTS // 2, within=60)

    broker.block()  # the broker stays away for a while: not ready, but alive
    assert eventually(lambda: not any(ready(p) for p in services.values()))
    broker.unblock()
    back = time.monotonic()
    assert eventually(lambda: all(answers(service_config, admin, s) for s in services), within=BACK_WITHIN)
    assert time.monotonic() - back <= BACK_WITHIN
    assert eventually(lambda: all(ready(p) for p in services.values()), within=BACK_WITHIN)

    reported = [result.wait() for result in results]
    assert alive(services)
    stored = stored_events(service_config, admin)
    assert sorted(stored) == sorted(set(reported)) and len(stored) == REPORTS  # each acknowledged command once
    assert eventually(lambda: open_cases(service_config, admin) >= REPORTS, within=60)
    assert open_cases(service_config, admin) == REPORTS  # each consumer effect once
    with calling(service_config, admin) as rpc:
        cases = [rpc.mediation.get_case(case_id=str(case_id_for(UUID(e))))["grid_event_id"] for e in reported]
    assert sorted(cases) == sorted(reported)


def test_fault_database_unreachable_gives_service_unavailable_then_recovers(
        services, database, service_config, admin, databases):
    register_village(service_config, admin)
    before = report(service_config, admin, 0, "db")
    database.block()
    refused = 0
    try:
        for number in range(1, 6):
            # a timeout would fail the test
            with calling(service_config, admin, timeout=8) as rpc, pytest.raises(ServiceUnavailable) as error:
                rpc.grid_events.report_event(grid_code=GRID, category="dispute", source="petition",
                                             severity="low", place="p", description=f"dispute {number}",
                                             command_id=f"db-{number}")
            assert "SELECT" not in error.value.message and "INSERT" not in error.value.message
            assert "pingan_fault" not in error.value.message
            refused += 1
        assert eventually(lambda: not ready(services["grid_events"]))
        assert alive(services)
    finally:
        database.unblock()
    assert refused == 5
    assert eventually(lambda: ready(services["grid_events"]), within=BACK_WITHIN)
    retried = [report(service_config, admin, number, "db") for number in range(1, 6)]  # same command ids
    stored = stored_events(service_config, admin)
    assert sorted(stored) == sorted([before] + retried)
    assert eventually(lambda: open_cases(service_config, admin) == 6, within=60)


def command_methods():
    """(service, method, model) of every RPC of every registered service."""
    for service in service_classes():
        for name in dir(service):
            model = getattr(getattr(service, name), "command_model", None)
            if model is not None:
                yield service.name, name, model


def test_fault_control_character_in_every_field_of_every_command_is_refused(
        services, service_config, admin, databases):
    register_village(service_config, admin)
    stored = {service: databases.stored(service) for service in service_names()}
    checked = 0
    with calling(service_config, admin) as rpc:
        for service, method, model in command_methods():
            for field in model.model_fields:
                for char in ("\x00", "\x1b", "\x85"):
                    with pytest.raises(ValidationFailed) as refused:
                        getattr(getattr(rpc, service), method)(**{field: f"a{char}b"})
                    assert field in refused.value.message and char not in refused.value.message
                    checked += 1
    assert checked > 300
    assert {service: databases.stored(service) for service in service_names()} == stored  # nothing stored


def test_fault_projection_that_cannot_apply_an_event_stalls_alone(services, service_config, admin):
    register_village(service_config, admin)
    # An event stored before the contract refused control characters (as in an older release):
    # PostgreSQL text cannot hold its NUL, so the registry read model cannot apply it.
    app = GridEventsApplication(env=application_env("grid_events", load_settings()))
    call = Call(caller=CallerContext(actor_id="admin-1", role=Role.ADMIN, jurisdiction="433100"), call_id="old")
    app.register_jurisdiction(call, grid.RegisterJurisdiction.model_construct(code="433102", name="a\x00b",
                                                                             command_id=None))
    grid_events = services["grid_events"]
    assert eventually(lambda: not ready(grid_events))
    with calling(service_config, admin) as rpc:
        with pytest.raises(ReadModelStalled):
            rpc.grid_events.list_jurisdictions()
        event_id = rpc.grid_events.report_event(grid_code=GRID, category="dispute", source="petition",
                                                severity="low", place="p", description="after the stall")
        listed = rpc.grid_events.list_events(jurisdiction=VILLAGE)["items"]
        assert event_id["event_id"] in [e["event_id"] for e in listed]
    assert not ready(grid_events) and ready(services["mediation"])
    metrics = grid_events.metrics()
    assert any(
        line.startswith("pingan_projection_errors_total{")
        and "grid_events.registry" in line
        and not line.endswith(" 0.0")
        for line in metrics.splitlines()
    )


def poison(service_config):
    """One message of each kind a consumer can never handle, on grid_events' dispute events."""
    publisher = Publisher(service_config["AMQP_URI"])
    exchange = get_event_exchange("grid_events", service_config)
    good = {
        "source": "grid_events",
        "event_type": "dispute_reported",
        "schema_version": 1,
        "notification_id": 1,
        "aggregate_id": "x",
        "aggregate_version": 1,
        "occurred_at": "2026-01-01T00:00:00Z",
        "audit": {},
        "data": {},
    }
    publisher.publish(
        b"{not json",
        exchange=exchange,
        routing_key="dispute_reported",
        content_type="application/json",
        serializer=None,
    )
    publisher.publish(good, exchange=exchange, routing_key="dispute_reported", serializer="json")  # unsigned


def dead_lettered(process) -> dict[str, float]:
    return {
        sample.labels["reason"]: sample.value
        for family in text_string_to_metric_families(process.metrics())
        if family.name == "pingan_dead_letters"
        for sample in family.samples
        if sample.name == "pingan_dead_letters_total"
    }


def dead_letters(command, *args, env):
    result = subprocess.run(
        [PINGAN, "dead-letters", command, "mediation", *args], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def letters_ready(service_config) -> int:
    """Mediation's dead letters ready to be taken. A listing takes each letter and leaves it unsettled;
    the broker puts them back after the listing's channel closes, but not before that close returns, so
    a replay or drop right after a listing can find fewer than there are."""
    with Connection(service_config["AMQP_URI"]) as conn:
        return dead_letter_queue("mediation")(conn.default_channel).queue_declare(passive=True).message_count


def test_fault_poison_messages_dead_lettered_listed_and_replayable(services, service_config):
    env = {**services["mediation"].env, "AMQP_URI": service_config["AMQP_URI"]}
    poison(service_config)
    assert eventually(lambda: all(r in dead_letters("list", env=env) for r in ("undecodable", "unauthenticated")))
    assert alive(services)
    assert eventually(lambda: letters_ready(service_config) == 2)
    assert "replayed 2" in dead_letters("replay", env=env)
    # Replayed into the queue they came from, they are refused and kept again: nothing is lost.
    assert eventually(lambda: dead_lettered(services["mediation"]) == {"undecodable": 2, "unauthenticated": 2})
    assert eventually(lambda: len(dead_letters("list", env=env).splitlines()) == 2)
    assert eventually(lambda: letters_ready(service_config) == 2)
    assert "dropped 2" in dead_letters("drop", env=env)
    assert dead_letters("list", env=env) == ""

"""key_populations on real RabbitMQ and PostgreSQL: a person reaching the highest risk opens exactly one
emergency incident on two emergency_command replicas, however often and in whatever order the event is
redelivered; the minor-dependants referral is published; refused commands change no table; denied reads
are audited; the overdue timer publishes once per due date across a restart; and a canary name is found
nowhere in plaintext — database dump, messages, logs, /metrics."""

import json
import os
import subprocess
import uuid
from datetime import date
from urllib.request import urlopen

import pytest
from nameko.amqp.publish import Publisher
from nameko.events import event_handler
from nameko.extensions import DependencyProvider
from nameko.standalone.events import get_event_exchange
from nameko.testing.services import entrypoint_waiter
from sqlalchemy import create_engine, inspect, text
from structlog.testing import capture_logs

from services.emergency_command.service import EmergencyCommandService
from services.key_populations.service import KeyPopulationsService
from shared.context import Role
from shared.dependencies import Store
from shared.errors import Forbidden, ValidationFailed
from shared.security.audit_log import AuditTrail
from shared.security.personal_data import generate_master_key
from tests.canary import unconsumed_queue, vhost_messages, wait_for_in_flight
from tests.polling import wait_until

pytestmark = pytest.mark.integration

VILLAGE = "433101001001"
OTHER_VILLAGE = "433122002003"
KP = ("community_correction", "released_persons", "severe_mental_disorder", "drug_users")
TOWNSHIP = dict(role=Role.TOWNSHIP_OFFICER, jurisdiction="433101001", actor_id="town-1", categories=KP)
POLICE = dict(role=Role.POLICE, jurisdiction="433101", actor_id="police-1", categories=KP)
ELSEWHERE = dict(role=Role.POLICE, jurisdiction="433122", actor_id="police-2", categories=KP)
CLOCK = {"today": date(2026, 12, 2)}
ENROLLED = date(2026, 11, 20)
CANARY = f"Canary{uuid.uuid4().hex[:12]}"
ID_NUMBER = "433101199001010012"


class MovableClock(DependencyProvider):
    def get_dependency(self, worker_ctx):
        return lambda: CLOCK["today"]


class KeyPopulationsOnTestClock(KeyPopulationsService):
    today = MovableClock()


class Listener:
    """Another system: takes key_populations' public events."""

    name = "key_populations_listener"
    received: list = []

    @event_handler("key_populations", "person_assessed_highest_risk")
    def on_highest(self, payload):
        Listener.received.append(payload)

    @event_handler("key_populations", "minor_dependants_reported")
    def on_minors(self, payload):
        Listener.received.append(payload)

    @event_handler("key_populations", "follow_up_overdue")
    def on_overdue(self, payload):
        Listener.received.append(payload)


@pytest.fixture(autouse=True)
def master_key(monkeypatch):
    monkeypatch.setenv("PINGAN_PERSONAL_DATA_KEY", generate_master_key())


@pytest.fixture(autouse=True)
def clock():
    CLOCK["today"] = date(2026, 12, 2)
    return CLOCK


def start(container_factory, config, service=KeyPopulationsOnTestClock):
    container = container_factory(service, config)
    container.start()
    return container


def store_of(container) -> Store:
    return next(d for d in container.dependencies if isinstance(d, Store))


def settled(container) -> None:
    """Relay and project what is stored, as the background follower does after a save (its first relay
    pass adds the relay's position row): counts taken after this change only by what the test does."""
    store = store_of(container)
    store.relay_pending()
    store.catch_up()


def team() -> list[dict]:
    return [{"member_id": "m-town", "role": "township_official", "name": "Tian Hua"},
            {"member_id": "m-police", "role": "police_officer", "name": "Peng Jun"},
            {"member_id": "m-social", "role": "social_worker", "name": "Xiang Li"}]


def drug_user(rpc, person_id="kp-1", name="Long Wei", **changes) -> str:
    kp = rpc.key_populations
    kp.register_person(person_id=person_id, jurisdiction=VILLAGE, name=name, id_number=ID_NUMBER)
    return kp.enrol(person_id=person_id, category="drug_users", enrolled_on=ENROLLED.isoformat(),
                    facts={"measure": "community_drug_rehabilitation", "measure_start": ENROLLED.isoformat(),
                           "test_every_days": 30},
                    team=team(), responsible_id="m-town", risk_level=3, **changes)["enrolment_id"]


def table_counts(pg_url) -> dict:
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        names = inspect(conn).get_table_names()
        counts = {name: conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one() for name in names}
    engine.dispose()
    return counts


def incidents(pg_url) -> list[tuple]:
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT source_service, source_ref FROM emergency_incidents_view")).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def test_highest_risk_opens_one_incident_on_two_emergency_replicas_under_redelivery(
        pg_url, container_factory, service_config, rpc_as, event_headers):
    config = {**service_config, "max_workers": 10}
    Listener.received = []
    start(container_factory, config, Listener)
    service = start(container_factory, config)
    for _ in range(2):
        start(container_factory, config, EmergencyCommandService)
    with rpc_as(**TOWNSHIP) as rpc:
        enrolment_id = drug_user(rpc)
        rpc.key_populations.reassess_risk(enrolment_id=enrolment_id, level=5, assessed_on="2026-12-01")
    store_of(service).relay_pending()
    highest = wait_until(lambda: [m for m in Listener.received if m["event_type"] == "person_assessed_highest_risk"],
                         30, "the highest-risk event")
    assessment_id = highest[0]["data"]["assessment_id"]
    assert set(highest[0]["data"]) >= {"assessment_id", "person_id", "jurisdiction", "assessed_at"}
    wait_until(lambda: incidents(pg_url) == [("key_populations", assessment_id)], 30, "one incident")

    # The same message again, many times, and under new notification ids (a replay upstream), newest first.
    publisher = Publisher(config["AMQP_URI"], serializer="json")
    message = highest[0]
    copies = [message] * 3 + [{**message, "notification_id": message["notification_id"] + n} for n in (1000, 999)]
    for body in reversed(copies):
        publisher.publish(body, exchange=get_event_exchange("key_populations", config),
                          routing_key="person_assessed_highest_risk",
                          headers=event_headers("key_populations", body))
    engine = create_engine(pg_url)

    def inbox_records() -> int:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM emergency_command_events "
                                     "WHERE topic LIKE '%InboxRecord%'")).scalar_one()

    wait_until(lambda: inbox_records() >= 3, 30, "the replays handled")  # the original and two new ids
    engine.dispose()
    assert incidents(pg_url) == [("key_populations", assessment_id)]


def test_minor_dependants_are_referred_without_personal_data(
        pg_url, container_factory, service_config, rpc_as):
    Listener.received = []
    start(container_factory, service_config, Listener)
    service = start(container_factory, service_config)
    with rpc_as(**TOWNSHIP) as rpc:
        enrolment_id = drug_user(rpc, name=CANARY, minor_dependants=2)
    store_of(service).relay_pending()
    referral = wait_until(lambda: [m["data"] for m in Listener.received
                                   if m["event_type"] == "minor_dependants_reported"], 30, "the referral")
    assert (referral[0]["enrolment_id"], referral[0]["minor_dependants"]) == (enrolment_id, 2)
    assert CANARY not in json.dumps(referral)


@pytest.mark.parametrize("bad", [
    dict(category="gamblers"),
    dict(facts={"measure": "community_drug_rehabilitation"}),
    dict(team=team()[:1]),
    dict(enrolled_on="2027-01-01"),
])
def test_refused_enrolment_changes_no_table(bad, pg_url, container_factory, service_config, rpc_as):
    container = start(container_factory, service_config)
    with rpc_as(**TOWNSHIP) as rpc:
        kp = rpc.key_populations
        kp.register_person(person_id="kp-2", jurisdiction=VILLAGE, name="Long Wei")
        kp.list_enrolments(category="drug_users", purpose="case_work")  # read models created and caught up
        settled(container)
        before = table_counts(pg_url)
        arguments = dict(person_id="kp-2", category="drug_users", enrolled_on=ENROLLED.isoformat(),
                         facts={"measure": "community_drug_rehabilitation", "measure_start": ENROLLED.isoformat(),
                                "test_every_days": 30}, team=team(), responsible_id="m-town", risk_level=1)
        with pytest.raises(ValidationFailed):
            kp.enrol(**{**arguments, **bad})
    assert table_counts(pg_url) == before


def test_refused_follow_up_and_transfer_change_no_table(pg_url, container_factory, service_config, rpc_as):
    container = start(container_factory, service_config)
    with rpc_as(**TOWNSHIP) as rpc:
        kp = rpc.key_populations
        enrolment_id = drug_user(rpc)
        kp.list_enrolments(category="drug_users", purpose="case_work")
        settled(container)
        before = table_counts(pg_url)
        with pytest.raises(ValidationFailed):
            kp.record_follow_up(enrolment_id=enrolment_id, held_on="2026-12-03", kind="phone", outcome="stable",
                                note=CANARY)
        with pytest.raises(ValidationFailed):
            kp.record_follow_up(enrolment_id=enrolment_id, held_on="2026-11-19", kind="phone", outcome="stable")
        with pytest.raises(ValidationFailed):
            kp.initiate_transfer(enrolment_id=enrolment_id, to_jurisdiction="431101001001")
    with rpc_as(**ELSEWHERE) as rpc, pytest.raises(Forbidden):
        rpc.key_populations.record_follow_up(enrolment_id=enrolment_id, held_on="2026-12-01", kind="phone",
                                             outcome="stable")
    assert table_counts(pg_url) == before


def test_denied_read_is_audited_once_and_returns_nothing(pg_url, container_factory, service_config, rpc_as):
    service = start(container_factory, service_config)
    with rpc_as(**TOWNSHIP) as rpc:
        enrolment_id = drug_user(rpc)
    audits = lambda: [(e.outcome, e.purpose) for e in AuditTrail(store_of(service).app).entries()  # noqa: E731
                      if enrolment_id in e.record_ids]
    with rpc_as(**ELSEWHERE) as rpc, pytest.raises(Forbidden):
        rpc.key_populations.get_enrolment(enrolment_id=enrolment_id, purpose="supervision")
    with rpc_as(**POLICE) as rpc:
        assert rpc.key_populations.get_enrolment(enrolment_id=enrolment_id, purpose="supervision")["team"][0][
            "name"] == "Tian Hua"
    assert audits() == [("denied", "supervision"), ("allowed", "supervision")]


def test_overdue_follow_up_is_published_once_per_due_date_across_restart_and_replicas(
        pg_url, monkeypatch, container_factory, service_config, rpc_as):
    monkeypatch.setenv("PINGAN_KEY_POPULATION_CHECK_INTERVAL", "0.05")
    Listener.received = []
    start(container_factory, service_config, Listener)
    first = start(container_factory, service_config)
    with rpc_as(**TOWNSHIP) as rpc:
        drug_user(rpc)  # risk 3: follow-up every 30 days, first due 2026-12-20
    CLOCK["today"] = date(2026, 12, 22)
    overdue = lambda: sorted(m["data"]["due_on"] for m in Listener.received  # noqa: E731
                             if m["event_type"] == "follow_up_overdue")
    let_timer_run(first)
    assert wait_until(overdue, 30, "the first overdue event") == ["2026-12-20"]
    first.stop()
    second, third = start(container_factory, service_config), start(container_factory, service_config)
    let_timer_run(second)
    let_timer_run(third)
    CLOCK["today"] = date(2027, 1, 30)  # nothing recorded since: the same due date, still overdue
    let_timer_run(second)
    let_timer_run(third)
    assert overdue() == ["2026-12-20"]


def let_timer_run(container, ticks=3):
    """Wait for ``ticks`` checks to finish, then publish whatever they stored."""
    seen = []
    with entrypoint_waiter(container, "check_enrolments", timeout=15,
                           callback=lambda worker_ctx, result, exc_info: seen.append(result) or len(seen) >= ticks):
        pass
    store_of(container).relay_pending()


def test_canary_is_found_nowhere_in_plaintext(pg_url, container_factory, service_config, rpc_as, debug_logs,
                                              rabbit_config):
    with unconsumed_queue(service_config, "key_populations") as in_flight, capture_logs() as structured:
        service = start(container_factory, service_config)
        with rpc_as(**TOWNSHIP) as rpc:
            kp = rpc.key_populations
            kp.register_person(person_id="kp-9", jurisdiction=VILLAGE, name=CANARY, id_number=ID_NUMBER,
                               address=f"{CANARY} lane 3", contact=CANARY)
            enrolment_id = kp.enrol(person_id="kp-9", category="severe_mental_disorder",
                                    enrolled_on=ENROLLED.isoformat(),
                                    facts={"diagnosis": "schizophrenia", "guardian_name": CANARY,
                                           "guardian_contact": CANARY, "treatment_status": "outpatient"},
                                    team=[{**m, "name": CANARY} for m in team()], responsible_id="m-town",
                                    risk_level=5, minor_dependants=1)["enrolment_id"]
            kp.record_follow_up(enrolment_id=enrolment_id, held_on="2026-12-01", kind="home_visit",
                                outcome="concern", note=f"{CANARY} was agitated")
            with pytest.raises(ValidationFailed):
                kp.record_follow_up(enrolment_id=enrolment_id, held_on="2027-01-01", kind="phone",
                                    outcome="stable", note=CANARY)
            shown = kp.get_person(person_id="kp-9", category="severe_mental_disorder", purpose="follow_up")
            listed = kp.list_enrolments(category="severe_mental_disorder", purpose="follow_up")
        store_of(service).relay_pending()
        wait_for_in_flight(in_flight, 4)  # enrolled, minors, highest risk, joint handling
        with urlopen(f"http://{service_config['WEB_SERVER_ADDRESS']}/metrics", timeout=5) as answer:
            metrics_text = answer.read().decode()
        queues, in_vhost = vhost_messages(rabbit_config["vhost"])
    db = pg_url.rsplit("/", 1)[1]
    dump = subprocess.run(["pg_dump", "-h", "127.0.0.1", "-U", "pingan", db], capture_output=True, check=True,
                          env={**os.environ, "PGPASSWORD": "pingan"}).stdout.decode()
    assert shown["name"] == CANARY and CANARY not in json.dumps(listed)
    assert "kp_persons_view" in dump and "pii1:" in dump and "person_assessed_highest_risk" in in_vhost
    places = {"database dump": dump, "messages in the vhost": in_vhost, "structured logs": repr(structured),
              "stdlib logs": debug_logs.text, "metrics": metrics_text}
    assert [where for where, found in places.items() if CANARY in found or ID_NUMBER in found] == []

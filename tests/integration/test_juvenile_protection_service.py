"""juvenile_protection on real RabbitMQ and PostgreSQL: intake to a coordinated plan over RPC,
refused commands that store nothing, denied reads that are audited and open nothing, referrals
from key_populations received once under redelivery on two replicas, the figures on /metrics,
and no plaintext canary in events, rows or published payloads."""

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

from services.juvenile_protection.service import JuvenileProtectionService
from services.key_populations import contracts as key_populations
from shared.context import Role
from shared.dependencies import Store
from shared.errors import Forbidden, InvalidTransition
from tests.polling import wait_until

pytestmark = pytest.mark.integration

CST = timezone(timedelta(hours=8))
VILLAGE = "433123001002"
CANARY = "CANARY-龙小明-4409"
CIVIL_AFFAIRS = dict(role=Role.CIVIL_AFFAIRS, jurisdiction="433123", actor_id="ca-1", categories=["minors"])
ELSEWHERE = dict(role=Role.CIVIL_AFFAIRS, jurisdiction="433101", actor_id="ca-9", categories=["minors"])
SCHOOL = dict(role=Role.VILLAGE_COMMITTEE, jurisdiction=VILLAGE, actor_id="vc-1")
CLOCK = {"now": datetime(2026, 12, 2, 9, 0, tzinfo=CST)}


class MovableNow(DependencyProvider):
    def get_dependency(self, worker_ctx):
        return lambda: CLOCK["now"]


class MovableToday(DependencyProvider):
    def get_dependency(self, worker_ctx):
        return lambda: CLOCK["now"].date()


class JuvenileProtectionOnTestClock(JuvenileProtectionService):
    now = MovableNow()
    today = MovableToday()


class Listener:
    """Another system: takes juvenile_protection's public events."""

    name = "juvenile_listener"
    received: list = []

    @event_handler("juvenile_protection", "case_opened")
    def on_case_opened(self, payload):
        Listener.received.append(payload)

    @event_handler("juvenile_protection", "plan_task_assigned")
    def on_task(self, payload):
        Listener.received.append(payload)


@pytest.fixture(autouse=True)
def clock():
    CLOCK["now"] = datetime(2026, 12, 2, 9, 0, tzinfo=CST)
    return CLOCK


def start(container_factory, config):
    container = container_factory(JuvenileProtectionOnTestClock, config)
    container.start()
    return container


def store_of(container) -> Store:
    return next(d for d in container.dependencies if isinstance(d, Store))


def scalar(pg_url, sql):
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        found = conn.execute(text(sql)).scalar_one()
    engine.dispose()
    return found


def all_text(pg_url, tables) -> str:
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        rows = [str(tuple(row)) for table in tables for row in conn.execute(text(f"SELECT * FROM {table}"))]
    engine.dispose()
    return "\n".join(rows)


def open_case(rpc_as) -> str:
    with rpc_as(**SCHOOL) as rpc:
        report_id = rpc.juvenile_protection.receive_report(
            source="school", reference=uuid.uuid4().hex, jurisdiction=VILLAGE, summary=f"absent, {CANARY}")["report_id"]
    with rpc_as(**CIVIL_AFFAIRS) as rpc:
        return rpc.juvenile_protection.accept_report(
            report_id=report_id, minor_id=f"m-{uuid.uuid4().hex[:8]}", birth_month="2012-03",
            date_of_birth="2012-03-14", name=CANARY, address=f"{CANARY} lane", categories=["left_behind"])["case_id"]


def test_case_and_plan_over_rpc_publish_without_personal_data_and_show_in_figures(
        pg_url, container_factory, service_config, rpc_as):
    Listener.received = []
    listener = container_factory(Listener, service_config)
    listener.start()
    service = start(container_factory, service_config)
    case_id = open_case(rpc_as)
    with rpc_as(**CIVIL_AFFAIRS) as rpc:
        plan_id = rpc.juvenile_protection.draw_up_plan(case_id=case_id, lead_department="civil_affairs",
                                                       first_review_on="2027-03-01")["plan_id"]
        with entrypoint_waiter(listener, "on_task", timeout=30):
            rpc.juvenile_protection.assign_plan_task(plan_id=plan_id, department="education", due_on="2026-12-20",
                                                     description=f"enrol {CANARY}")
            store_of(service).relay_pending()
        found = rpc.juvenile_protection.get_case(case_id=case_id, purpose="case_work")
    scraped = urlopen(f"http://{service_config['WEB_SERVER_ADDRESS']}/metrics", timeout=10).read().decode()
    events = scalar(pg_url, "SELECT string_agg(encode(state, 'escape'), '') FROM juvenile_protection_events")
    rows = all_text(pg_url, ["jp_cases_view", "jp_reports_view", "jp_plan_tasks_view"])
    assert found["name"] == CANARY and {m["event_type"] for m in Listener.received} >= {"case_opened",
                                                                                       "plan_task_assigned"}
    assert ('pingan_juvenile_open_cases{category="left_behind",county="433123",service="juvenile_protection"} 1.0'
            in scraped)
    assert VILLAGE in events and VILLAGE in rows  # stored readable: the canary's absence means it was sealed
    assert CANARY not in events + rows + str(Listener.received)


def test_refused_acceptance_stores_nothing(pg_url, container_factory, service_config, rpc_as):
    start(container_factory, service_config)
    with rpc_as(**SCHOOL) as rpc:
        report_id = rpc.juvenile_protection.receive_report(source="police", reference="p-1",
                                                           jurisdiction=VILLAGE)["report_id"]
    with rpc_as(**CIVIL_AFFAIRS) as rpc:
        rpc.juvenile_protection.redirect_report(report_id=report_id, to_department="health", note="medical")
        before = scalar(pg_url, "SELECT count(*) FROM juvenile_protection_events")
        with pytest.raises(InvalidTransition):
            rpc.juvenile_protection.accept_report(report_id=report_id, minor_id="m-1", birth_month="2012-03",
                                                  date_of_birth="2012-03-14", name=CANARY, categories=["victim"])
    assert scalar(pg_url, "SELECT count(*) FROM juvenile_protection_events") == before


def test_denied_read_is_audited_and_opens_nothing(pg_url, container_factory, service_config, rpc_as):
    start(container_factory, service_config)
    case_id = open_case(rpc_as)
    with rpc_as(**ELSEWHERE) as rpc, pytest.raises(Forbidden) as denied:
        rpc.juvenile_protection.get_case(case_id=case_id, purpose="case_work")
    audits = scalar(pg_url, "SELECT count(*) FROM juvenile_protection_events WHERE topic LIKE '%ReadAudited%'")
    assert CANARY not in str(denied.value) and audits >= 1


def referral(notification_id: int, person_id: str) -> dict:
    # Made with the producer's own contract, so the consumer's view is checked against what is sent.
    data = key_populations.MinorDependantsReported(
        referral_id=f"ref-{person_id}", enrolment_id=uuid.uuid4(), person_id=person_id, category="drug_users",
        jurisdiction=VILLAGE, county=VILLAGE[:6], minor_dependants=2,
        reported_at="2026-12-02T00:30:00Z").model_dump(mode="json")
    return {"source": "key_populations", "event_type": "minor_dependants_reported", "schema_version": 1,
            "notification_id": notification_id, "aggregate_id": str(uuid.uuid4()), "aggregate_version": 1,
            "occurred_at": "2026-12-02T00:30:00Z", "audit": {}, "data": data}


def test_redelivered_referrals_on_two_replicas_receive_one_report_each(
        pg_url, container_factory, service_config, event_headers):
    config = {**service_config, "max_workers": 10}
    [start(container_factory, config) for _ in range(2)]
    publisher = Publisher(config["AMQP_URI"], serializer="json")
    count = 12
    messages = [referral(n, f"kp-{uuid.uuid4().hex[:10]}") for n in range(1, count + 1)]
    # Every message twice, newest first; then each again under a new notification (a replay upstream).
    replayed = [{**m, "notification_id": m["notification_id"] + 1000} for m in messages]
    for message in list(reversed(messages + messages)) + replayed:
        publisher.publish(message, exchange=get_event_exchange("key_populations", config),
                          routing_key="minor_dependants_reported", headers=event_headers("key_populations", message))
    inbox = "SELECT count(*) FROM juvenile_protection_events WHERE topic LIKE '%InboxRecord%'"
    wait_until(lambda: scalar(pg_url, inbox) >= 2 * count, 60, "every distinct message handled")
    received = "SELECT count(*) FROM juvenile_protection_events WHERE topic LIKE '%Report.Received%'"
    assert scalar(pg_url, received) == count


def let_timer_run(container, ticks=3):
    """Wait for ``ticks`` deadline checks of ``container`` to finish."""
    seen = []
    with entrypoint_waiter(container, "check_deadlines", timeout=15,
                           callback=lambda worker_ctx, result, exc_info: seen.append(result) or len(seen) >= ticks):
        pass


def test_overdue_report_is_flagged_once_by_two_replicas_timers(
        pg_url, monkeypatch, container_factory, service_config, rpc_as, caplog):
    monkeypatch.setenv("PINGAN_OVERDUE_CHECK_INTERVAL", "0.05")
    replicas = [start(container_factory, service_config) for _ in range(2)]
    with rpc_as(**SCHOOL) as rpc:
        rpc.juvenile_protection.receive_report(source="hospital", reference="h-1", jurisdiction=VILLAGE,
                                               summary=f"injuries, {CANARY}", deadline_hours=1)
    CLOCK["now"] += timedelta(hours=1, minutes=1)
    flagged = "SELECT count(*) FROM juvenile_protection_events WHERE topic LIKE '%Report.OverdueFlagged%'"
    wait_until(lambda: scalar(pg_url, flagged) >= 1, 30, "the report flagged overdue")
    for replica in replicas:
        let_timer_run(replica)
    assert scalar(pg_url, flagged) == 1 and CANARY not in caplog.text


def test_overdue_plan_review_is_flagged_once_by_two_replicas_and_after_a_restart(
        pg_url, monkeypatch, container_factory, service_config, rpc_as):
    monkeypatch.setenv("PINGAN_OVERDUE_CHECK_INTERVAL", "0.05")
    replicas = [start(container_factory, service_config) for _ in range(2)]
    case_id = open_case(rpc_as)
    with rpc_as(**CIVIL_AFFAIRS) as rpc:
        rpc.juvenile_protection.draw_up_plan(case_id=case_id, lead_department="civil_affairs",
                                             first_review_on="2026-12-10")
    CLOCK["now"] += timedelta(days=9)  # 2026-12-11: the review day has passed
    flags, scraped = review_flags_after_replicas_and_restart(pg_url, "ProtectionPlan", replicas, container_factory,
                                                             service_config)
    assert flags == 1
    assert ('pingan_juvenile_reviews_overdue{county="433123",kind="plan",service="juvenile_protection"} 1.0'
            in scraped)


def review_flags_after_replicas_and_restart(pg_url, aggregate, replicas, container_factory, service_config):
    """Once a review is flagged: let every replica's timer run again, stop them, start one more and let it run;
    then the number of review-overdue flags stored for ``aggregate``, and the restarted service's /metrics."""
    flagged = ("SELECT count(*) FROM juvenile_protection_events "
               f"WHERE topic LIKE '%{aggregate}.ReviewOverdueFlagged%'")
    wait_until(lambda: scalar(pg_url, flagged) >= 1, 30, f"{aggregate}'s review flagged overdue")
    for replica in replicas:
        let_timer_run(replica)
        replica.stop()
    restarted = start(container_factory, service_config)
    let_timer_run(restarted)
    scraped = urlopen(f"http://{service_config['WEB_SERVER_ADDRESS']}/metrics", timeout=10).read().decode()
    return scalar(pg_url, flagged), scraped


EDUCATION = dict(role=Role.EDUCATION, jurisdiction="433123", actor_id="edu-1", categories=["minors"])
POLICE = dict(role=Role.POLICE, jurisdiction="433123", actor_id="police-1", categories=["minors"])


def placed_in_special_school(rpc_as, first_review_on) -> str:
    """A child with serious misconduct, referred, assessed by both departments, admitted and placed."""
    with rpc_as(**SCHOOL) as rpc:
        report_id = rpc.juvenile_protection.receive_report(
            source="school", reference=uuid.uuid4().hex, jurisdiction=VILLAGE, summary="fights")["report_id"]
    with rpc_as(**CIVIL_AFFAIRS) as rpc:
        case_id = rpc.juvenile_protection.accept_report(
            report_id=report_id, minor_id=f"m-{uuid.uuid4().hex[:8]}", birth_month="2011-05",
            date_of_birth="2011-05-02", name=CANARY, address=f"{CANARY} lane",
            categories=["serious_misconduct"])["case_id"]
        referral_id = rpc.juvenile_protection.propose_special_school(
            case_id=case_id, proposed_by="education", grounds="repeated fights")["referral_id"]
    with rpc_as(**EDUCATION) as rpc:
        rpc.juvenile_protection.assess_referral(referral_id=referral_id, by="education", recommends=True,
                                                findings="agreed")
    with rpc_as(**POLICE) as rpc:
        rpc.juvenile_protection.assess_referral(referral_id=referral_id, by="public_security", recommends=True,
                                                findings="agreed")
    with rpc_as(**CIVIL_AFFAIRS) as rpc:
        rpc.juvenile_protection.hear_guardian(referral_id=referral_id, view="agrees")
    with rpc_as(**EDUCATION) as rpc:
        rpc.juvenile_protection.decide_referral(referral_id=referral_id, admitted=True,
                                                basis="evaluation committee")
    with rpc_as(**CIVIL_AFFAIRS) as rpc:
        rpc.juvenile_protection.place_in_special_school(referral_id=referral_id, school_id="special-school-1",
                                                        first_review_on=first_review_on.isoformat())
    return referral_id


def test_overdue_placement_review_is_flagged_once_by_two_replicas_and_after_a_restart(
        pg_url, monkeypatch, container_factory, service_config, rpc_as):
    monkeypatch.setenv("PINGAN_OVERDUE_CHECK_INTERVAL", "0.05")
    replicas = [start(container_factory, service_config) for _ in range(2)]
    placed_in_special_school(rpc_as, first_review_on=CLOCK["now"].date() + timedelta(days=1))
    CLOCK["now"] += timedelta(days=2)  # the placement's review day has passed
    flags, scraped = review_flags_after_replicas_and_restart(pg_url, "SpecialSchoolReferral", replicas,
                                                             container_factory, service_config)
    assert flags == 1
    assert ('pingan_juvenile_reviews_overdue{county="433123",kind="placement",service="juvenile_protection"} 1.0'
            in scraped)

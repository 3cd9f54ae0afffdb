"""A person enrolled in key_populations with minor dependants is referred to juvenile_protection:
one intake report per person, accepted into a minor's case — key_populations and two
juvenile_protection replicas each in its own OS process, with their own PostgreSQL databases, over
real RabbitMQ. The referrals redelivered newest first, twice, store nothing more; no message
carries a name in clear."""

import json
import re
import uuid
from datetime import date, timedelta

import pytest
from nameko.amqp.publish import Publisher
from nameko.events import event_handler
from nameko.standalone.events import get_event_exchange
from nameko.testing.services import entrypoint_waiter

from shared.context import Role
from tests.conftest import signed_headers
from tests.e2e.processes import ServiceProcess, databases_for
from tests.polling import wait_until

pytestmark = pytest.mark.e2e

VILLAGE = "433101001001"
TOWNSHIP = dict(role=Role.TOWNSHIP_OFFICER, jurisdiction="433101001", actor_id="officer-41",
                categories=["drug_users", "community_correction", "released_persons", "severe_mental_disorder"])
CIVIL_AFFAIRS = dict(role=Role.CIVIL_AFFAIRS, jurisdiction="433101", actor_id="ca-41", categories=["minors"])
CANARY = "CANARY-龙晓梅-5521"  # every name and free text: never in a message in clear
PERSONS = 4
SERVICES = ("key_populations", "juvenile_protection")


@pytest.fixture
def service_databases(monkeypatch):
    with databases_for(monkeypatch, SERVICES):
        yield


class Watcher:
    """Stands for other systems: key_populations' referrals (to redeliver them) and juvenile cases opened."""

    name = "juvenile_watcher"
    referrals: list = []
    cases: list = []

    @event_handler("key_populations", "minor_dependants_reported")
    def on_referral(self, payload):
        Watcher.referrals.append(payload)

    @event_handler("juvenile_protection", "case_opened")
    def on_case_opened(self, payload):
        Watcher.cases.append(payload)


def enrol(rpc, minor_dependants: int) -> str:
    person_id = f"kp-{uuid.uuid4().hex[:10]}"
    enrolled_on = date.today() - timedelta(days=3)
    rpc.key_populations.register_person(person_id=person_id, jurisdiction=VILLAGE, name=CANARY, id_number=CANARY,
                                        address=CANARY, contact=CANARY)
    rpc.key_populations.enrol(
        person_id=person_id, category="drug_users", enrolled_on=str(enrolled_on),
        facts={"measure": "community_drug_rehabilitation", "measure_start": str(enrolled_on), "test_every_days": 30},
        team=[{"member_id": "m-township", "role": "township_official", "name": CANARY},
              {"member_id": "m-police", "role": "police_officer", "name": CANARY},
              {"member_id": "m-social", "role": "social_worker", "name": CANARY}],
        responsible_id="m-township", risk_level=1, minor_dependants=minor_dependants)
    return person_id


def consumed(replicas) -> int:
    """Referral deliveries both replicas have finished handling (their own /metrics)."""
    pattern = r'^pingan_entrypoint_calls_total\{[^}]*entrypoint="on_minor_dependants_reported"[^}]*\} (\S+)$'
    return int(sum(float(found) for replica in replicas for found in re.findall(pattern, replica.metrics(), re.M)))


def referral_reports(rpc) -> list[dict]:
    items = rpc.juvenile_protection.list_reports(purpose="case_work", page_size=100)["items"]
    return [item for item in items if item["source"] == "key_populations"]


def test_enrolled_persons_minor_dependants_become_one_juvenile_case_each_under_redelivery(
        service_databases, service_config, container_factory, rpc_as, tmp_path):
    amqp = service_config["AMQP_URI"]
    key_populations = ServiceProcess("key_populations", amqp, tmp_path / "key_populations.log")
    replicas = [ServiceProcess("juvenile_protection", amqp, tmp_path / f"juvenile_protection_{n}.log")
                for n in (1, 2)]
    Watcher.referrals, Watcher.cases = [], []
    watcher = container_factory(Watcher, service_config)
    watcher.start()
    try:
        for process in (key_populations, *replicas):
            process.start()
        with rpc_as(**TOWNSHIP) as rpc:
            persons = [enrol(rpc, minor_dependants=2) for _ in range(PERSONS)]
            enrol(rpc, minor_dependants=0)  # no minor dependants: no referral
        with rpc_as(**CIVIL_AFFAIRS) as rpc:
            received = wait_until(lambda: len(referral_reports(rpc)) >= PERSONS and referral_reports(rpc), 60,
                                  "a report per referred person")
        assert sorted(r["reference"] for r in received) == sorted(persons)
        assert {(r["status"], r["jurisdiction"]) for r in received} == {("received", VILLAGE)}

        # Every referral again, newest first, twice, to the queue both replicas consume.
        wait_until(lambda: len(Watcher.referrals) == PERSONS and consumed(replicas) >= PERSONS, 30,
                   "the referrals delivered once")
        captured, handled = list(Watcher.referrals), consumed(replicas)
        publisher = Publisher(amqp, serializer="json")
        for message in list(reversed(captured)) * 2:
            publisher.publish(message, exchange=get_event_exchange("key_populations", service_config),
                              routing_key="minor_dependants_reported", headers=signed_headers("key_populations",
                                                                                              message))
        wait_until(lambda: consumed(replicas) >= handled + 2 * PERSONS, 60, "every redelivery handled")
        with rpc_as(**CIVIL_AFFAIRS) as rpc:
            after = referral_reports(rpc)
            report = next(r for r in after if r["reference"] == persons[0])
            with entrypoint_waiter(watcher, "on_case_opened", timeout=30):
                case_id = rpc.juvenile_protection.accept_report(
                    report_id=report["report_id"], minor_id=f"m-{uuid.uuid4().hex[:8]}", birth_month="2015-06",
                    date_of_birth="2015-06-09", name=CANARY, address=CANARY, categories=["left_behind"])["case_id"]
            cases = rpc.juvenile_protection.list_cases(purpose="case_work", page_size=100)
        assert sorted(r["report_id"] for r in after) == sorted(r["report_id"] for r in received)
        assert [c["case_id"] for c in cases["items"]] == [case_id] and cases["items"][0]["name"] == CANARY
        assert [m["data"]["case_id"] for m in Watcher.cases] == [case_id]

        sent = json.dumps(captured + Watcher.cases, ensure_ascii=False)
        assert persons[0] in sent and CANARY not in sent  # ids travel, names and text never in clear
    finally:
        for process in (key_populations, *replicas):
            process.stop()

"""mediation against real RabbitMQ and PostgreSQL, beside grid_events: intake from a
reported dispute, escalation, joint summaries, the follow-up timer, bad input, figures."""

import json
from datetime import timedelta
from urllib.request import urlopen
from uuid import UUID

import pytest
from nameko.amqp.publish import Publisher
from nameko.events import event_handler
from nameko.standalone.events import get_event_exchange
from nameko.testing.services import entrypoint_hook, entrypoint_waiter
from sqlalchemy import create_engine, text

from services.grid_events.service import GridEventsService
from services.mediation.contracts import CaseEscalated, JointCaseShared
from services.mediation.domain import case_id_for
from services.mediation.service import MediationService
from shared.clock import local_today
from shared.context import Role
from shared.contracts import Envelope
from shared.dependencies import Store
from shared.errors import Forbidden, InvalidTransition, NotFound, Unauthenticated, ValidationFailed
from shared.security.audit_log import AuditTrail
from shared.security.personal_data import generate_master_key

pytestmark = pytest.mark.integration

VILLAGE = "433101001001"
GRID = VILLAGE + "001"
TODAY = local_today()
MEDIATOR = dict(role=Role.MEDIATOR, jurisdiction=VILLAGE, actor_id="med-11")
PARTIES = [
    {"name": "Zhang San", "languages": ["mandarin"], "understands_mandarin": True},
    {"name": "Long Mei", "id_number": "433101199001010012", "languages": ["miao"], "understands_mandarin": False},
]
INTERPRETER = [{"party_id": "P2", "language": "miao", "interpreter_id": "interp-3"}]


@pytest.fixture(autouse=True)
def master_key(monkeypatch):
    """A configured vault master key, as in a deployment (the data-folder fallback is for the embedded run)."""
    monkeypatch.setenv("PINGAN_PERSONAL_DATA_KEY", generate_master_key())


def stored_events(pg_url) -> int:
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM mediation_events")).scalar_one()
    engine.dispose()
    return count


class MediationListener:
    """Receives mediation's relayed messages raw, as any other system would."""

    name = "mediation_listener"
    received: list = []

    @event_handler("mediation", "case_escalated")
    def on_escalated(self, payload):
        MediationListener.received.append(payload)

    @event_handler("mediation", "joint_case_shared")
    def on_joint(self, payload):
        MediationListener.received.append(payload)

    @event_handler("mediation", "follow_up_overdue")
    def on_overdue(self, payload):
        MediationListener.received.append(payload)


@pytest.fixture
def start_service(pg_url, container_factory, service_config):
    """Start a service container; at the end stop it and close its database connections,
    so the test database is dropped with no session left open."""
    started = []

    def start(service_class):
        container = container_factory(service_class, service_config)
        container.start()
        started.append(container)
        return container

    yield start
    for container in started:
        container.kill()  # no graceful drain needed at the end of a test
        store = store_of(container)
        store.engine.dispose()
        store.app.recorder.datastore.engine.dispose()


@pytest.fixture
def mediation(start_service):
    return start_service(MediationService)


@pytest.fixture
def listener(container_factory, service_config):
    MediationListener.received = []
    container = container_factory(MediationListener, service_config)
    container.start()
    return container


def store_of(container) -> Store:
    return next(d for d in container.dependencies if isinstance(d, Store))


def ready_case(rpc, **changes) -> str:
    case_id = rpc.mediation.open_case(jurisdiction=VILLAGE, source="police_call", subject="irrigation channel",
                                      parties=PARTIES, **changes)["case_id"]
    rpc.mediation.record_risk_check(case_id=case_id, level="medium", note="heated words, no violence")
    rpc.mediation.accept_case(case_id=case_id)
    return case_id


def attempt(rpc, case_id, tier="village", outcome="failed", **changes) -> dict:
    return rpc.mediation.record_attempt(**{
        "case_id": case_id, "tier": tier, "mode": "peoples", "mediator_ids": ["med-11"], "place": "threshing floor",
        "on_site": True, "held_on": TODAY.isoformat(), "outcome": outcome, "interpreters": INTERPRETER, **changes})


def test_dispute_reported_opens_case_and_grid_event_shows_link(mediation, start_service, rpc_as):
    grid_events = start_service(GridEventsService)
    with rpc_as() as rpc:
        for code in ("433100", "433101", "433101001", VILLAGE):
            rpc.grid_events.register_jurisdiction(code=code, name=f"unit {code}")
        rpc.grid_events.register_grid(code=GRID, name="grid 1")
        with entrypoint_waiter(grid_events, "on_mediation_case_opened", timeout=15):
            event_id = rpc.grid_events.report_event(grid_code=GRID, category="dispute", source="patrol",
                                                    severity="medium", place="field", description="a fence")["event_id"]
        shown = rpc.grid_events.get_event(event_id=event_id)
        case = rpc.mediation.get_case(case_id=str(case_id_for(UUID(event_id))))
    assert shown["mediation_case_id"] == case["case_id"]
    assert (case["grid_event_id"], case["tier"], case["source"], case["reported_source"]) == (
        event_id, "village", "risk", "patrol")


def test_third_village_failure_publishes_case_escalated(mediation, listener, rpc_as):
    with rpc_as(**MEDIATOR) as rpc:
        case_id = ready_case(rpc)
        attempt(rpc, case_id)
        attempt(rpc, case_id)
        with entrypoint_waiter(listener, "on_escalated", timeout=15):
            third = attempt(rpc, case_id)
    envelope = Envelope.model_validate(MediationListener.received[-1])
    payload = CaseEscalated.model_validate(envelope.data)
    assert third["tier"] == "township"
    assert (str(payload.case_id), payload.from_tier, payload.to_tier, payload.failed_attempts) == (
        case_id, "village", "township", 3)
    assert envelope.audit["actor_id"] == "med-11"


def test_joint_case_summary_is_published_without_personal_data(mediation, listener, rpc_as):
    with rpc_as(**MEDIATOR) as rpc:
        case_id = ready_case(rpc)
        with entrypoint_waiter(listener, "on_joint", timeout=15):
            rpc.mediation.add_party(case_id=case_id, name="Tian Hua", id_number="522201198503030021",
                                    languages=["tujia", "mandarin"], understands_mandarin=True, residence="522201")
    raw = json.dumps(MediationListener.received[-1], ensure_ascii=False)
    summary = JointCaseShared.model_validate(Envelope.model_validate(MediationListener.received[-1]).data)
    assert (str(summary.case_id), summary.partner_jurisdiction, summary.partner_province, summary.party_count) == (
        case_id, "522201", "guizhou", 3)
    for personal in ("Tian Hua", "522201198503030021", "Zhang San", "Long Mei", "irrigation"):
        assert personal not in raw


def test_follow_up_timer_flags_overdue_agreement_once(mediation, listener, rpc_as):
    with rpc_as(**MEDIATOR) as rpc:
        case_id = ready_case(rpc)
        attempt(rpc, case_id, outcome="agreement", held_on=(TODAY - timedelta(days=10)).isoformat(),
                agreement={"terms": "channel shared on alternate days",
                           "follow_up_on": (TODAY - timedelta(days=1)).isoformat()})
    with entrypoint_waiter(listener, "on_overdue", timeout=15), entrypoint_hook(mediation, "check_follow_ups") as check:
        first = check()
    with entrypoint_hook(mediation, "check_follow_ups") as check:
        second = check()
    with rpc_as(**MEDIATOR) as rpc:
        shown = rpc.mediation.get_case(case_id=case_id)
    assert (first, second) == (1, 0)
    assert shown["follow_up_overdue"] is True


@pytest.mark.parametrize("bad, error", [
    ({"tier": "township"}, InvalidTransition),  # not the case's tier
    ({"interpreters": []}, InvalidTransition),  # P2 needs a Miao interpreter
    ({"interpreters": [*INTERPRETER, {"party_id": "P7", "language": "miao", "interpreter_id": "i"}]}, NotFound),
    ({"mode": "arm-wrestling"}, ValidationFailed),  # malformed payload
    ({"held_on": "yesterday"}, ValidationFailed),
    ({"mediator_ids": []}, ValidationFailed),
    ({"surprise": 1}, ValidationFailed),
])
def test_record_attempt_bad_input_is_refused_and_stores_nothing(mediation, rpc_as, pg_url, bad, error):
    with rpc_as(**MEDIATOR) as rpc:
        case_id = ready_case(rpc)
        before = stored_events(pg_url)
        with pytest.raises(error):
            attempt(rpc, case_id, **bad)
    assert stored_events(pg_url) == before


def test_attempt_on_concluded_case_is_refused_and_stores_nothing(mediation, rpc_as, pg_url):
    with rpc_as(role=Role.JUSTICE, jurisdiction="433101") as rpc:
        case_id = ready_case(rpc)
        for tier in ["village"] * 3 + ["township"] * 2:
            attempt(rpc, case_id, tier)
        referral = {"route": "litigation", "note": "to the county court"}
        assert attempt(rpc, case_id, "county", referral=referral)["status"] == "concluded"
        before = stored_events(pg_url)
        with pytest.raises(InvalidTransition, match="concluded"):
            attempt(rpc, case_id, "county", referral=referral)
    assert stored_events(pg_url) == before


def test_village_mediator_cannot_handle_escalated_case_and_stores_nothing(mediation, rpc_as, pg_url):
    with rpc_as(**MEDIATOR) as rpc:
        case_id = ready_case(rpc)
        for _ in range(3):
            attempt(rpc, case_id)
        before = stored_events(pg_url)
        with pytest.raises(Forbidden, match="township tier"):
            attempt(rpc, case_id, "township")
    with rpc_as(role=Role.TOWNSHIP_OFFICER, jurisdiction="433101001") as rpc:
        assert attempt(rpc, case_id, "township")["failures"]["township"] == 1
    assert stored_events(pg_url) == before + 1


@pytest.mark.parametrize("data", [
    {"event_id": "not-a-uuid"},  # malformed and incomplete
    {"schema_version": 1, "event_id": "6b1f1c1e-5f43-4a5e-9a53-0c4b0d7bd001", "grid_code": GRID,
     "jurisdiction": VILLAGE, "county": "433101", "category": "dispute", "source": "gossip", "severity": "low",
     "reported_at": "2026-11-01T08:00:00+00:00"},  # a source grid_events does not have
])
def test_malformed_dispute_message_is_refused_and_stores_nothing(mediation, service_config, event_headers, pg_url,
                                                                 data):
    message = {"source": "grid_events", "event_type": "dispute_reported", "schema_version": 1, "notification_id": 9,
               "aggregate_id": "x", "aggregate_version": 1, "occurred_at": "2026-11-01T08:00:00+00:00",
               "audit": {}, "data": data}
    with entrypoint_waiter(mediation, "on_dispute_reported", timeout=15):
        Publisher(service_config["AMQP_URI"], serializer="json").publish(
            message, exchange=get_event_exchange("grid_events", service_config), routing_key="dispute_reported",
            headers=event_headers("grid_events", message))
    assert stored_events(pg_url) == 0


def test_open_case_without_token_is_refused_and_stores_nothing(mediation, rpc_as, pg_url):
    with rpc_as(token=False) as rpc, pytest.raises(Unauthenticated):
        rpc.mediation.open_case(jurisdiction=VILLAGE, source="petition", subject="s", parties=PARTIES)
    assert stored_events(pg_url) == 0


def test_get_case_read_is_audited_and_outsider_refused(mediation, rpc_as):
    with rpc_as(**MEDIATOR) as rpc:
        case_id = ready_case(rpc)
        shown = rpc.mediation.get_case(case_id=case_id, purpose="case_work")
    with rpc_as(role=Role.MEDIATOR, jurisdiction="433123100201", actor_id="med-99") as rpc, pytest.raises(Forbidden):
        rpc.mediation.get_case(case_id=case_id)
    entries = [e for e in AuditTrail(store_of(mediation).app).entries() if case_id in e.record_ids]
    assert [p["name"] for p in shown["parties"]] == ["Zhang San", "Long Mei"]
    assert [(e.outcome, e.audit["actor_id"]) for e in entries] == [("allowed", "med-11"), ("denied", "med-99")]


def test_metrics_expose_open_cases_and_local_resolution(mediation, rpc_as, service_config):
    with rpc_as(**MEDIATOR) as rpc:
        agreed = ready_case(rpc)
        attempt(rpc, agreed, outcome="agreement", agreement={
            "terms": "t", "follow_up_on": (TODAY + timedelta(days=30)).isoformat()})
        ready_case(rpc)
        rpc.mediation.list_cases()  # the read model has caught up
    with urlopen(f"http://{service_config['WEB_SERVER_ADDRESS']}/metrics", timeout=5) as answer:
        scraped = answer.read().decode()
    assert ('pingan_mediation_cases_open{county="433101",service="mediation",source="police_call",tier="village"} 2.0'
            in scraped)
    assert 'pingan_mediation_local_resolution_ratio{county="433101",service="mediation",tier="village"} 1.0' in scraped


def test_party_erasure_over_rpc_reads_erased_and_tables_hold_only_sealed_values(mediation, rpc_as, pg_url):
    with rpc_as(**MEDIATOR) as rpc:
        case_id = ready_case(rpc)
        with pytest.raises(Forbidden):  # a village mediator may not erase
            rpc.mediation.erase_party(case_id=case_id, party_id="P2", reason="consent_withdrawn")
    with rpc_as(role=Role.ADMIN, jurisdiction="433100") as rpc:
        rpc.mediation.erase_party(case_id=case_id, party_id="P2", reason="consent_withdrawn")
        shown = rpc.mediation.get_case(case_id=case_id, purpose="supervision")
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        names = conn.execute(text("SELECT name FROM mediation_parties_view")).scalars().all()
        subjects = conn.execute(text("SELECT subject FROM mediation_cases_view")).scalars().all()
        states = b"".join(bytes(s) for s in conn.execute(text("SELECT state FROM mediation_events")).scalars())
    engine.dispose()
    assert [(p["name"], p["erased"]) for p in shown["parties"]] == [("Zhang San", False), ("[erased]", True)]
    assert shown["subject"] == "irrigation channel"
    assert all(value.startswith("pii1:") for value in names + subjects) and len(names) == 2
    assert not [word for word in (b"Zhang San", b"Long Mei", b"433101199001010012", b"irrigation", b"heated",
                                  b"threshing") if word in states]

"""A refused command leaves nothing behind in its service: no event, no read-model
row, no key in pingan_person_keys — every table counted before and after, on PostgreSQL."""

import pytest
from sqlalchemy import create_engine, func, inspect, select, table

from services.grid_events.service import GridEventsService
from services.juvenile_protection.service import JuvenileProtectionService
from services.mediation.service import MediationService
from shared.context import Role
from shared.dependencies import Store
from shared.errors import Conflict, InvalidTransition, ValidationFailed
from shared.security.personal_data import generate_master_key

pytestmark = pytest.mark.integration

VILLAGE = "433101001001"
PARTY = {"name": "Wu Mei", "id_number": "433101199001010012", "languages": ["mandarin"], "understands_mandarin": True}


@pytest.fixture(autouse=True)
def master_key(monkeypatch):
    monkeypatch.setenv("PINGAN_PERSONAL_DATA_KEY", generate_master_key())


@pytest.fixture
def start(pg_url, container_factory, service_config):
    started = []

    def run(service_class):
        container = container_factory(service_class, service_config)
        container.start()
        started.append(container)
        return container

    yield run
    for container in started:
        container.kill()
        store = store_of(container)
        store.engine.dispose()
        store.app.recorder.datastore.engine.dispose()


def store_of(container) -> Store:
    return next(d for d in container.dependencies if isinstance(d, Store))


def every_table(pg_url, container) -> dict[str, int]:
    """Row counts of every table in the service's database, once its relay and read models have caught up."""
    store = store_of(container)
    store.relay_pending()
    store.catch_up()
    engine = create_engine(pg_url)
    try:
        with engine.connect() as conn:
            names = inspect(conn).get_table_names()
            return {name: conn.execute(select(func.count()).select_from(table(name))).scalar_one() for name in names}
    finally:
        engine.dispose()


@pytest.mark.parametrize("person_id", ["bad id!", "risk.taken", "433101199003074573"])
def test_register_risk_with_bad_person_id_changes_no_table(start, rpc_as, pg_url, person_id):
    grid_events = start(GridEventsService)
    with rpc_as() as rpc:
        for code in ("433100", "433101", "433101001", VILLAGE):
            rpc.grid_events.register_jurisdiction(code=code, name=f"unit {code}")
        rpc.grid_events.register_member_unit(body_code="433101", unit_code="finance-office",
                                             name="Finance Office", duties=["lending risks"])
        before = every_table(pg_url, grid_events)
        assert before["pingan_person_keys"] == 0
        with pytest.raises(ValidationFailed):
            rpc.grid_events.register_risk(
                jurisdiction=VILLAGE, category="lending", source="risk", level="yellow", place="the market",
                description="illegal lending", responsible_unit="finance-office", responsible_person_id=person_id,
                responsible_person_name="Officer Zhang San")
    assert every_table(pg_url, grid_events) == before


def test_add_party_to_concluded_case_changes_no_table(start, rpc_as, pg_url):
    mediation = start(MediationService)
    with rpc_as(role=Role.JUSTICE, jurisdiction="433101") as rpc:
        case_id = rpc.mediation.open_case(jurisdiction=VILLAGE, source="police_call", subject="a channel",
                                          parties=[PARTY, {**PARTY, "name": "Long Mei"}])["case_id"]
        rpc.mediation.record_risk_check(case_id=case_id, level="low", note="calm")
        rpc.mediation.accept_case(case_id=case_id)
        for tier in ["village"] * 3 + ["township"] * 2 + ["county"]:
            rpc.mediation.record_attempt(
                case_id=case_id, tier=tier, mode="peoples", mediator_ids=["med-1"], place="threshing floor",
                on_site=True, held_on="2026-01-05", outcome="failed", interpreters=[],
                referral={"route": "litigation", "note": "to court"} if tier == "county" else None)
        before = every_table(pg_url, mediation)
        with pytest.raises(InvalidTransition, match="concluded"):
            rpc.mediation.add_party(case_id=case_id, **{**PARTY, "name": "Shi Hua"})
    assert every_table(pg_url, mediation) == before


def test_review_of_an_ended_protection_plan_changes_no_table(start, rpc_as, pg_url):
    juvenile = start(JuvenileProtectionService)
    minors = dict(role=Role.CIVIL_AFFAIRS, jurisdiction="433101", categories=["minors"])
    with rpc_as(role=Role.VILLAGE_COMMITTEE, jurisdiction=VILLAGE) as rpc:
        report_id = rpc.juvenile_protection.receive_report(source="school", reference="s-1",
                                                           jurisdiction=VILLAGE)["report_id"]
    with rpc_as(**minors) as rpc:
        case_id = rpc.juvenile_protection.accept_report(
            report_id=report_id, minor_id="m-refused-1", birth_month="2013-05", date_of_birth="2013-05-02",
            name="Long Xiaoming", categories=["left_behind", "victim"])["case_id"]
        plan_id = rpc.juvenile_protection.draw_up_plan(case_id=case_id, lead_department="civil_affairs",
                                                       first_review_on="2099-01-01")["plan_id"]
        rpc.juvenile_protection.record_school(case_id=case_id, school_id="school-1")
        rpc.juvenile_protection.close_case(case_id=case_id, reason="moved")
        before = every_table(pg_url, juvenile)
        with pytest.raises(InvalidTransition, match="ended"):
            rpc.juvenile_protection.review_plan(plan_id=plan_id, outcome="on_track", next_review_on="2099-06-01",
                                                note="a note about Long Xiaoming")
        with pytest.raises(InvalidTransition, match="read-only"):
            rpc.juvenile_protection.remove_category(case_id=case_id, category="victim")
        with pytest.raises(InvalidTransition, match="ended"):
            rpc.juvenile_protection.change_plan_lead(plan_id=plan_id, lead_department="education")
    assert every_table(pg_url, juvenile) == before


def test_same_school_recorded_twice_changes_no_table(start, rpc_as, pg_url):
    juvenile = start(JuvenileProtectionService)
    with rpc_as(role=Role.VILLAGE_COMMITTEE, jurisdiction=VILLAGE) as rpc:
        report_id = rpc.juvenile_protection.receive_report(source="school", reference="s-2",
                                                           jurisdiction=VILLAGE)["report_id"]
    with rpc_as(role=Role.EDUCATION, jurisdiction="433101", categories=["minors"]) as rpc:
        case_id = rpc.juvenile_protection.accept_report(
            report_id=report_id, minor_id="m-refused-2", birth_month="2013-05", date_of_birth="2013-05-02",
            name="Long Xiaoming", categories=["left_behind"])["case_id"]
        rpc.juvenile_protection.record_school(case_id=case_id, school_id="school-1")
        before = every_table(pg_url, juvenile)
        with pytest.raises(Conflict):
            rpc.juvenile_protection.record_school(case_id=case_id, school_id="school-1")
    assert every_table(pg_url, juvenile) == before

"""A refused command leaves nothing behind in either service: no event, no read-model
row, no key in pingan_person_keys — every table counted before and after, on PostgreSQL."""

import pytest
from sqlalchemy import create_engine, func, inspect, select, table

from services.grid_events.service import GridEventsService
from services.mediation.service import MediationService
from shared.context import Role
from shared.dependencies import Store
from shared.errors import InvalidTransition, ValidationFailed
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

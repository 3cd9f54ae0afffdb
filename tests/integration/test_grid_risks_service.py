"""grid_events' risk register, decisions, member units and operator queries
against real RabbitMQ and PostgreSQL."""

from urllib.request import urlopen

import pytest
from nameko.events import event_handler
from nameko.testing.services import entrypoint_waiter
from sqlalchemy import create_engine, text

from services.grid_events.contracts import RiskLevelChanged
from services.grid_events.service import GridEventsService
from shared.context import Role
from shared.contracts import Envelope
from shared.errors import Forbidden, InvalidTransition

pytestmark = pytest.mark.integration

VILLAGE = "433101001001"
GRID = "433101001001001"
PERSON = "Officer Zhang San"


def stored_events(pg_url) -> int:
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM grid_events_events")).scalar_one()
    engine.dispose()
    return count


@pytest.fixture
def seeded(pg_url, container_factory, service_config, rpc_as):
    # pg_url first: the database outlives the container, so teardown never races a live service
    container = container_factory(GridEventsService, service_config)
    container.start()
    with rpc_as() as rpc:
        for code in ("433100", "433101", "433101001", VILLAGE, "433123"):
            rpc.grid_events.register_jurisdiction(code=code, name=f"unit {code}")
        rpc.grid_events.register_grid(code=GRID, name="grid 1")
        rpc.grid_events.register_member_unit(body_code="433101", unit_code="finance-office",
                                             name="Jishou Finance Office", duties=["lending risks"])
    return container


def register_risk(rpc, **change):
    payload = dict(jurisdiction=VILLAGE, category="lending", source="risk", level="yellow", place="market",
                   description="illegal lending", responsible_unit="finance-office", responsible_person_id="p-1",
                   responsible_person_name=PERSON)
    return rpc.grid_events.register_risk(**{**payload, **change})["risk_id"]


def report_fire(rpc):
    return rpc.grid_events.report_event(grid_code=GRID, category="fire", source="police_call", severity="low",
                                        place="p", description="d")["event_id"]


def close_event(rpc, event):
    rpc.grid_events.accept_event(event_id=event)
    rpc.grid_events.assign_event(event_id=event, unit="finance-office")
    rpc.grid_events.record_handling(event_id=event, note="n")
    rpc.grid_events.record_feedback(event_id=event, feedback="f", satisfied=True)
    for step in ("verify_facts", "handle_on_site", "return_visit"):
        rpc.grid_events.tick_checklist_step(event_id=event, step=step)
    rpc.grid_events.close_event(event_id=event)


class RedListener:
    """Stands in for emergency command, which consumes risk_raised_to_red."""

    name = "emergency_command_stand_in"
    received: list = []

    @event_handler("grid_events", "risk_raised_to_red")
    def on_red(self, payload):
        RedListener.received.append(payload)


def test_raise_risk_to_red_is_published_without_personal_data(seeded, container_factory, service_config, rpc_as):
    RedListener.received = []
    listener = container_factory(RedListener, service_config)
    listener.start()
    with rpc_as(role=Role.COUNTY_OFFICER, jurisdiction="433101") as rpc:
        risk = register_risk(rpc)
        rpc.grid_events.issue_warning(risk_id=risk, level="orange")
        with entrypoint_waiter(listener, "on_red", timeout=10):
            rpc.grid_events.change_risk_level(risk_id=risk, level="red")

    envelope = Envelope.model_validate(RedListener.received[0])
    payload = RiskLevelChanged.model_validate(envelope.data)
    assert (str(payload.risk_id), payload.level, payload.previous_level, payload.county) == (
        risk,
        "red",
        "orange",
        "433101",
    )
    assert PERSON not in str(RedListener.received[0]) and "market" not in str(RedListener.received[0])


def test_close_risk_without_feedback_over_rpc_is_refused_and_stores_nothing(seeded, rpc_as, pg_url):
    with rpc_as() as rpc:
        risk = register_risk(rpc)
        rpc.grid_events.issue_warning(risk_id=risk, level="orange")
        rpc.grid_events.start_risk_measures(risk_id=risk, measures="visit lenders")
        rpc.grid_events.defuse_risk(risk_id=risk, note="circle disbanded")
        before = stored_events(pg_url)
        with pytest.raises(InvalidTransition, match="feedback"):
            rpc.grid_events.close_risk(risk_id=risk)
    assert stored_events(pg_url) == before


def test_list_risks_open_by_level_is_scoped_and_paginated(seeded, rpc_as):
    with rpc_as() as rpc:
        reds = [register_risk(rpc, level="red") for _ in range(3)]
        register_risk(rpc, level="blue")
    with rpc_as(role=Role.TOWNSHIP_OFFICER, jurisdiction="433101001") as rpc:
        first = rpc.grid_events.list_risks(level="red", open_only=True, page=1, page_size=2)
        second = rpc.grid_events.list_risks(level="red", open_only=True, page=2, page_size=2)
    with rpc_as(role=Role.COUNTY_OFFICER, jurisdiction="433123") as rpc:
        elsewhere = rpc.grid_events.list_risks(level="red")
        with pytest.raises(Forbidden):
            rpc.grid_events.list_risks(jurisdiction="433101")
    assert first["total"] == 3 and {r["risk_id"] for r in first["items"] + second["items"]} == set(reds)
    assert elsewhere["total"] == 0


def test_risks_open_gauge_counts_per_county_and_level_without_ids(seeded, rpc_as, service_config):
    with rpc_as() as rpc:
        risk = register_risk(rpc, level="orange")
        register_risk(rpc, level="orange")
        rpc.grid_events.list_risks()  # the read model has caught up
    scraped = urlopen(f"http://{service_config['WEB_SERVER_ADDRESS']}/metrics", timeout=10).read().decode()
    assert 'pingan_risks_open{county="433101",level="orange",service="grid_events"} 2.0' in scraped
    assert risk not in scraped and PERSON not in scraped


def test_source_report_counts_open_and_closed_by_source_and_tier(seeded, rpc_as):
    with rpc_as() as rpc:
        event = report_fire(rpc)
        report_fire(rpc)
        close_event(rpc, event)
        register_risk(rpc, source="petition")
        report = rpc.grid_events.source_report(jurisdiction="433101")
        by_source = rpc.grid_events.list_events(source="police_call", status="closed")
    assert report["items"] == [
        {"kind": "event", "source": "police_call", "tier": "county", "open": 0, "closed": 1},
        {"kind": "event", "source": "police_call", "tier": "village", "open": 1, "closed": 0},
        {"kind": "risk", "source": "petition", "tier": "village", "open": 1, "closed": 0},
    ]
    assert [e["event_id"] for e in by_source["items"]] == [event]


def test_clear_decision_without_approved_assessment_over_rpc_stores_nothing(seeded, rpc_as, pg_url):
    with rpc_as(role=Role.COUNTY_OFFICER, jurisdiction="433101") as rpc:
        decision = rpc.grid_events.register_decision(
            jurisdiction="433101", title="new market", summary="move the market"
        )["decision_id"]
        rpc.grid_events.assess_decision(decision_id=decision, risk_level="medium", findings="f", measures="m")
        before = stored_events(pg_url)
        with pytest.raises(InvalidTransition, match="approved"):
            rpc.grid_events.clear_decision(decision_id=decision)
        assert stored_events(pg_url) == before
        rpc.grid_events.approve_assessment(decision_id=decision)
        rpc.grid_events.clear_decision(decision_id=decision)
        listed = rpc.grid_events.list_decisions(status="cleared")
    assert [d["decision_id"] for d in listed["items"]] == [decision]


def test_member_units_and_contact_points_are_listed_for_the_grid(seeded, rpc_as):
    with rpc_as() as rpc:
        rpc.grid_events.name_contact_point(
            grid_code=GRID, unit="finance-office", contact_id="fo-7", contact_name="Clerk Li"
        )
    with rpc_as(role=Role.GRID_WORKER, jurisdiction=VILLAGE, actor_id="gw-1") as rpc:
        units = rpc.grid_events.list_member_units()
        contacts = rpc.grid_events.list_contact_points(grid_code=GRID)
    assert [u["unit_id"] for u in units["items"]] == ["433101:finance-office"]
    assert [(p["unit_id"], p["contact_id"]) for p in contacts["items"]] == [("433101:finance-office", "fo-7")]


def test_closure_time_histogram_counts_closed_events_per_county(seeded, rpc_as, service_config):
    with rpc_as() as rpc:
        close_event(rpc, report_fire(rpc))
        report_fire(rpc)  # open: not counted
        rpc.grid_events.list_events()  # the read model has caught up
    scraped = urlopen(f"http://{service_config['WEB_SERVER_ADDRESS']}/metrics", timeout=10).read().decode()
    assert 'pingan_grid_event_closure_seconds_count{county="433101",service="grid_events"} 1.0' in scraped
    assert 'pingan_grid_event_closure_seconds_bucket{county="433101",le="3600.0",service="grid_events"} 1.0' in scraped


def read_audits(container):
    from shared.dependencies import Store
    from shared.security.audit_log import AuditTrail

    store = next(d for d in container.dependencies if isinstance(d, Store))
    return [(e.action, e.outcome, e.record_ids, e.purpose) for e in AuditTrail(store.app).entries()]


def test_reading_a_risk_is_audited_with_its_purpose_also_when_refused(seeded, rpc_as):
    with rpc_as() as rpc:
        risk = register_risk(rpc)
    with rpc_as(role=Role.COUNTY_OFFICER, jurisdiction="433101") as rpc:
        shown = rpc.grid_events.get_risk(risk_id=risk, purpose="case_work")
    with rpc_as(role=Role.COUNTY_OFFICER, jurisdiction="433123") as rpc, pytest.raises(Forbidden):
        rpc.grid_events.get_risk(risk_id=risk)
    assert shown["responsible_person_name"] == PERSON
    assert read_audits(seeded) == [
        ("read a risk", "allowed", [risk], "case_work"),
        ("read a risk", "denied", [risk], None),
    ]


def test_listing_risks_is_audited_with_the_ids_returned(seeded, rpc_as):
    with rpc_as() as rpc:
        risk = register_risk(rpc)
    with rpc_as(role=Role.TOWNSHIP_OFFICER, jurisdiction="433101001") as rpc:
        rpc.grid_events.list_risks()
    assert read_audits(seeded) == [("list risks", "allowed", ["scope:433101001", risk], None)]


def database_holds(pg_url, needle: str) -> bool:
    """Whether any stored event or read-model row of the service contains ``needle``."""
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars().all()
        found = any(
            conn.execute(
                text(f'SELECT count(*) FROM "{table}" t WHERE t::text LIKE :needle'), {"needle": f"%{needle}%"}
            ).scalar_one()
            for table in tables
        )
        found = (
            found
            or conn.execute(
                text(
                    "SELECT count(*) FROM grid_events_events WHERE position(:needle in convert_from(state, 'UTF8')) > 0"
                ),
                {"needle": needle},
            ).scalar_one()
            > 0
        )
    engine.dispose()
    return found


def test_responsible_person_name_is_stored_sealed_and_erasable(seeded, rpc_as, pg_url):
    from shared.security.providers import PersonalDataVault

    canary = "Canary Person 7f3a9"
    with rpc_as() as rpc:
        risk = register_risk(rpc, responsible_person_id="p-canary", responsible_person_name=canary)
        shown = rpc.grid_events.get_risk(risk_id=risk)
    assert shown["responsible_person_name"] == canary
    assert not database_holds(pg_url, canary)

    next(d for d in seeded.dependencies if isinstance(d, PersonalDataVault)).vault.erase("p-canary")
    with rpc_as() as rpc:
        assert rpc.grid_events.get_risk(risk_id=risk)["responsible_person_name"] == "[erased]"


def test_every_personal_field_naming_a_person_is_stored_sealed(seeded, rpc_as, pg_url):
    canary = "Canary 51c0"
    with rpc_as() as rpc:
        rpc.grid_events.name_township_responsible(
            code="433101001", office="Ping'an office", person_id="tp-1", person_name=f"{canary} township"
        )
        rpc.grid_events.name_contact_point(
            grid_code=GRID,
            unit="finance-office",
            contact_id="fo-1",
            contact_name=f"{canary} contact",
            contact_phone="0743-51c0",
        )
        rpc.grid_events.register_participant(jurisdiction=VILLAGE, kind="volunteer", name=f"{canary} volunteer")
        rpc.grid_events.record_family_assessment(
            grid_code=GRID, household_id="hh-1", risk_level="low", findings=f"{canary} findings", measures="visits"
        )
        shown = [
            rpc.grid_events.list_jurisdictions(parent_code="433101")["items"][0]["responsible_person_name"],
            rpc.grid_events.list_contact_points(grid_code=GRID)["items"][0]["contact_name"],
            rpc.grid_events.list_participants()["items"][0]["name"],
            rpc.grid_events.list_family_assessments()["items"][0]["findings"],
        ]
    assert shown == [f"{canary} township", f"{canary} contact", f"{canary} volunteer", f"{canary} findings"]
    assert not database_holds(pg_url, canary) and not database_holds(pg_url, "0743-51c0")

"""Read-model rows edited by the service's own runtime login never decide access (real RabbitMQ and PostgreSQL).

The database is migrated by its owner with an append-only runtime role, as the
chart does (`pingan migrate --runtime-role`); the services then run as that
role. The attacker holds the runtime login too: it moves another township's
record into the caller's subtree by editing the view row. The record is not
returned, by a single read or a list, and the tampering is counted.
"""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg2
import pytest
from prometheus_client import REGISTRY

from services.grid_events.service import GridEventsService
from services.mediation.service import MediationService
from shared.context import Role
from shared.errors import Conflict, NotFound
from tests.integration.roles_support import login_role
from tests.integration.test_mediation_service import start_service  # noqa: F401  (fixture)

pytestmark = pytest.mark.integration

PINGAN = str(Path(sys.executable).parent / "pingan")
TOWNSHIP_A, TOWNSHIP_B = "433101001", "433101002"
GRID_A, GRID_B = TOWNSHIP_A + "001001", TOWNSHIP_B + "001001"
OFFICER_A = dict(role=Role.TOWNSHIP_OFFICER, jurisdiction=TOWNSHIP_A, actor_id="township-a")


@pytest.fixture
def runtime(pg_url, monkeypatch):
    """Both services' tables made by the owner; the services then log in as an append-only runtime role."""
    db = pg_url.rsplit("/", 1)[1]
    with login_role(db) as role:
        owner_env = {k: v for k, v in os.environ.items() if k != "PINGAN_CHAIN_KEY"}  # the owner never holds it
        for service in ("grid_events", "mediation"):
            migrated = subprocess.run([PINGAN, "migrate", service, "--runtime-role", role], env=owner_env,
                                      capture_output=True, text=True, timeout=120)
            assert migrated.returncode == 0, migrated.stdout + migrated.stderr
        monkeypatch.setenv("PINGAN_DATABASE_URL", f"postgresql+psycopg2://{role}:runtime@127.0.0.1:5432/{db}")
        yield f"dbname={db} user={role} password=runtime host=127.0.0.1"


def as_runtime(dsn, statement, params=()):
    with psycopg2.connect(dsn) as conn, conn.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else cursor.rowcount


def tampered(table):
    return REGISTRY.get_sample_value("pingan_tampered_rows_total", {"projection": table}) or 0


@pytest.fixture
def two_events(runtime, start_service, rpc_as):  # noqa: F811  (the imported fixture, not a redefinition)
    """One reported event in each of two townships."""
    start_service(GridEventsService)
    ids = {}
    with rpc_as() as rpc:
        for code in ("433100", "433101", TOWNSHIP_A, TOWNSHIP_A + "001", TOWNSHIP_B, TOWNSHIP_B + "001"):
            rpc.grid_events.register_jurisdiction(code=code, name=f"unit {code}")
        for grid in (GRID_A, GRID_B):
            rpc.grid_events.register_grid(code=grid, name=f"grid {grid}")
            ids[grid] = rpc.grid_events.report_event(grid_code=grid, category="dispute", source="petition",
                                                     severity="medium", place="courtyard",
                                                     description="boundary wall")["event_id"]
        listed = rpc.grid_events.list_events(purpose="audit")  # a read brings the read model up to date
    assert len(listed["items"]) == 2
    return ids


def move_event_into_a(dsn, event_id):
    moved = as_runtime(dsn, "UPDATE grid_event_reports_view SET grid_code = %s, jurisdiction = %s WHERE event_id = %s",
                       (GRID_A, TOWNSHIP_A + "001", event_id))
    assert moved == 1


def test_row_seal_moved_event_is_not_read_and_is_reported(two_events, runtime, rpc_as):
    before = tampered("grid_event_reports_view")
    move_event_into_a(runtime, two_events[GRID_B])
    with rpc_as(**OFFICER_A) as rpc, pytest.raises(NotFound):
        rpc.grid_events.get_event(event_id=two_events[GRID_B], purpose="case_work")
    assert tampered("grid_event_reports_view") == before + 1


def test_row_seal_moved_event_is_not_listed_and_is_reported(two_events, runtime, rpc_as):
    before = tampered("grid_event_reports_view")
    move_event_into_a(runtime, two_events[GRID_B])
    with rpc_as(**OFFICER_A) as rpc:
        listed = rpc.grid_events.list_events(page_size=500, purpose="case_work")
    assert [item["event_id"] for item in listed["items"]] == [two_events[GRID_A]]
    assert tampered("grid_event_reports_view") == before + 1


def test_row_seal_forged_event_row_is_not_listed(two_events, runtime, rpc_as):
    """A new row copied from another township's record, under a fresh id, in the caller's subtree."""
    forged = as_runtime(
        runtime,
        "INSERT INTO grid_event_reports_view SELECT %s, %s, %s, county, category, source, severity, "
        "status, tier, place, description, reporter_id, external_ref, assigned_unit, contact_id, required_steps, "
        "ticked_steps, mediation_case_id, incident_id, reported_at, updated_at, closed_at, feedback, satisfied, "
        "version, "
        "personal_data_erased, row_seal FROM grid_event_reports_view WHERE event_id = %s",
        (str(uuid.uuid4()), GRID_A, TOWNSHIP_A + "001", two_events[GRID_B]),
    )
    assert forged == 1
    with rpc_as(**OFFICER_A) as rpc:
        listed = rpc.grid_events.list_events(page_size=500, purpose="case_work")
    assert [item["event_id"] for item in listed["items"]] == [two_events[GRID_A]]


@pytest.fixture
def two_cases(runtime, start_service, rpc_as):  # noqa: F811  (the imported fixture, not a redefinition)
    start_service(MediationService)
    with rpc_as() as rpc:
        ids = {
            village: rpc.mediation.open_case(
                jurisdiction=village,
                source="police_call",
                subject="irrigation channel",
                parties=[{"name": "Zhang San", "languages": ["mandarin"], "understands_mandarin": True}],
            )["case_id"]
            for village in (TOWNSHIP_A + "001", TOWNSHIP_B + "001")
        }
        listed = rpc.mediation.list_cases()  # a read brings the read model up to date
    assert len(listed["items"]) == 2
    return ids


def test_row_seal_moved_mediation_case_is_neither_read_nor_listed(two_cases, runtime, rpc_as):
    before = tampered("mediation_cases_view")
    other = two_cases[TOWNSHIP_B + "001"]
    moved = as_runtime(
        runtime,
        "UPDATE mediation_cases_view SET jurisdiction = %s, township = %s WHERE case_id = %s",
        (TOWNSHIP_A + "001", TOWNSHIP_A, other),
    )
    assert moved == 1
    with rpc_as(**OFFICER_A) as rpc:
        with pytest.raises(NotFound):
            rpc.mediation.get_case(case_id=other, purpose="case_work")
        listed = rpc.mediation.list_cases(page_size=500)
    assert [item["case_id"] for item in listed["items"]] == [two_cases[TOWNSHIP_A + "001"]]
    assert tampered("mediation_cases_view") == before + 2


def risks_naming(rpc_as, person_id, villages):
    """A risk in each village naming ``person_id`` as responsible (the units above registered first)."""
    with rpc_as() as rpc:
        places = {"433100"} | {code for village in villages for code in (village[:6], village[:9], village)}
        for code in sorted(places):  # parents first
            rpc.grid_events.register_jurisdiction(code=code, name=f"unit {code}")
        for county in sorted({village[:6] for village in villages}):
            rpc.grid_events.register_member_unit(body_code=county, unit_code="finance-office",
                                                 name=f"Finance Office {county}", duties=["lending risks"])
        ids = {village: rpc.grid_events.register_risk(
            jurisdiction=village, category="lending", source="risk", level="yellow", place="market",
            description="illegal lending", responsible_unit="finance-office", responsible_person_id=person_id,
            responsible_person_name="Officer Zhang San")["risk_id"] for village in villages}
        listed = rpc.grid_events.list_risks(purpose="audit")  # a read brings the read model up to date
    assert len(listed["items"]) == len(villages)
    return ids


def move_risk(dsn, risk_id, village):
    moved = as_runtime(dsn, "UPDATE grid_risks_view SET jurisdiction = %s WHERE risk_id = %s", (village, risk_id))
    assert moved == 1


@pytest.fixture
def two_risks(runtime, start_service, rpc_as):  # noqa: F811  (the imported fixture, not a redefinition)
    """A risk in each township naming the same responsible person; the other township's risk read once."""
    start_service(GridEventsService)
    ids = risks_naming(rpc_as, "p-9", [TOWNSHIP_A + "001", TOWNSHIP_B + "001"])
    with rpc_as() as rpc:
        rpc.grid_events.get_risk(risk_id=ids[TOWNSHIP_B + "001"], purpose="case_work")
    return ids


def test_row_seal_moved_risk_is_left_out_of_who_read_a_person_and_counted(two_risks, runtime, rpc_as):
    """Moved into the auditor's township, the other township's risk would open its readers to that auditor."""
    before = tampered("grid_risks_view")
    other = two_risks[TOWNSHIP_B + "001"]
    move_risk(runtime, other, TOWNSHIP_A + "001")
    with rpc_as(role=Role.AUDITOR, jurisdiction=TOWNSHIP_A, actor_id="auditor-a") as rpc:
        access = rpc.grid_events.access_log(person_id="p-9", page_size=200)["items"]
    assert [read for read in access if other in repr(read)] == []
    assert tampered("grid_risks_view") == before + 1


def test_row_seal_moved_risk_refuses_erasing_the_person_it_names(runtime, start_service, rpc_as):  # noqa: F811
    """Moved into the officer's county, another county's risk would let that officer erase the person it names."""
    start_service(GridEventsService)
    ids = risks_naming(rpc_as, "p-8", ["433101001001", "433122001001"])
    move_risk(runtime, ids["433122001001"], "433101001001")
    before = tampered("grid_risks_view")
    with rpc_as(role=Role.COUNTY_OFFICER, jurisdiction="433101", actor_id="county-a") as rpc, \
            pytest.raises(Conflict):
        rpc.grid_events.erase_person(person_id="p-8", reason="subject_request")
    assert tampered("grid_risks_view") == before + 1

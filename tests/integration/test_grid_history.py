"""A risk's history, its state as of a past moment and who read its responsible person, on real PostgreSQL
and RabbitMQ: the risk goes through three hands, is read (allowed, denied, break-glass), its responsible
person is erased; the history then reads "[erased]" and the log still verifies against signed checkpoints."""

from datetime import datetime

import pytest
from sqlalchemy import create_engine

from services.grid_events.service import GridEventsService
from shared.context import Role
from shared.errors import Forbidden
from shared.security.chain import (
    CheckpointStore,
    EventRows,
    generate_signing_key,
    load_private_key,
    load_public_key,
    make_checkpoint,
)
from shared.security.personal_data import ERASED, generate_master_key
from shared.security.verifier import verify
from tests.history_support import AUDITOR, OUTSIDER, rescuer

pytestmark = pytest.mark.integration

VILLAGE = "433101001001"
COUNTY_OFFICER = dict(role=Role.COUNTY_OFFICER, jurisdiction="433101", actor_id="county-1")
TOWNSHIP = dict(role=Role.TOWNSHIP_OFFICER, jurisdiction="433101001", actor_id="township-2")
ADMIN = dict(role=Role.ADMIN, jurisdiction="433100", actor_id="admin-3")


@pytest.fixture(autouse=True)
def master_key(monkeypatch):
    monkeypatch.setenv("PINGAN_PERSONAL_DATA_KEY", generate_master_key())


def register_risk(rpc, person_id: str) -> str:
    return rpc.grid_events.register_risk(
        jurisdiction=VILLAGE, category="lending", source="risk", level="yellow", place="market",
        description="illegal lending", responsible_unit="finance-office", responsible_person_id=person_id,
        responsible_person_name="Officer Zhang San")["risk_id"]


def test_risk_history_as_of_erasure_and_access_log(pg_url, container_factory, service_config, rpc_as, tokens,
                                                   tmp_path):
    private, public = generate_signing_key()
    checkpoints = CheckpointStore(tmp_path / "checkpoints", "grid_events")
    rows = EventRows(create_engine(pg_url), "grid_events")
    container = container_factory(GridEventsService, service_config)
    container.start()
    with rpc_as(**ADMIN) as rpc:
        for code in ("433100", "433101", "433101001", VILLAGE):
            rpc.grid_events.register_jurisdiction(code=code, name=f"unit {code}")
        rpc.grid_events.register_member_unit(body_code="433101", unit_code="finance-office",
                                             name="Jishou Finance Office", duties=["lending risks"])
    with rpc_as(**COUNTY_OFFICER) as rpc:
        risk_id = register_risk(rpc, "p-1")
        other = register_risk(rpc, "p-2")
    with rpc_as(**TOWNSHIP) as rpc:
        rpc.grid_events.change_risk_level(risk_id=risk_id, level="orange")
    with rpc_as(**ADMIN) as rpc:
        rpc.grid_events.issue_warning(risk_id=risk_id, level="orange")
    with rpc_as(**COUNTY_OFFICER) as rpc:
        before = rpc.grid_events.history(kind="risk", record_id=risk_id, purpose="supervision")["items"]
        changed, warned = (datetime.fromisoformat(before[i]["at"]) for i in (1, 2))
        then = rpc.grid_events.get_risk(risk_id=risk_id, as_of=(changed + (warned - changed) / 2).isoformat(),
                                        purpose="supervision")
        rpc.grid_events.get_risk(risk_id=other, purpose="case_work")
    with rpc_as(token=tokens.issue(OUTSIDER)) as rpc, pytest.raises(Forbidden):
        rpc.grid_events.get_risk(risk_id=risk_id, purpose="audit")
    with rpc_as(token=tokens.issue(rescuer())) as rpc:
        rpc.grid_events.history(kind="risk", record_id=risk_id, purpose="emergency")
    make_checkpoint(rows, checkpoints, load_private_key(private))
    with rpc_as(**ADMIN) as rpc:
        rpc.grid_events.erase_record_personal_data(record_id=risk_id, reason="subject_request")
        rpc.grid_events.erase_person(person_id="p-1", reason="subject_request")
    with rpc_as(token=tokens.issue(AUDITOR)) as rpc:
        after = rpc.grid_events.history(kind="risk", record_id=risk_id, purpose="audit")["items"]
        access = rpc.grid_events.access_log(person_id="p-1")["items"]
    container.stop()
    make_checkpoint(rows, checkpoints, load_private_key(private))
    report = verify(rows, checkpoints, load_public_key(public))
    rows.engine.dispose()

    assert [(e["event"], e["actor_id"]) for e in before] == [
        ("Registered", "county-1"), ("LevelChanged", "township-2"), ("WarningIssued", "admin-3")]
    assert (then["risk_id"], then["version"], then["level"], then["status"]) == (risk_id, 2, "orange", "identified")
    registered = after[0]["changes"]
    assert (registered["responsible_person_name"], registered["place"], registered["category"]) == (
        ERASED, ERASED, "lending")
    assert report.ok
    assert [(r["actor_id"], r["action"], r["outcome"], r["break_glass"]) for r in access] == [
        ("county-1", "read the history of a risk", "allowed", False),
        ("county-1", "read a risk as it stood", "allowed", False),
        ("officer-5", "read a risk", "denied", False),
        ("officer-6", "read the history of a risk", "allowed", True),
        ("auditor-4", "read the history of a risk", "allowed", False)]

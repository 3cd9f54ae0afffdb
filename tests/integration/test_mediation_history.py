"""A case's history, its state as of a past moment and who read a party, on real PostgreSQL and RabbitMQ:
the case goes through its life in three hands, is read (allowed, denied, break-glass), its parties are
erased; the history then reads "[erased]" and the log still verifies against signed checkpoints. And
``pingan history export`` / ``pingan access-log export`` write the same over RPC."""

import csv
import io
import json
from datetime import datetime

import pytest
from sqlalchemy import create_engine
from typer.testing import CliRunner

from services.mediation.service import MediationService
from shared.clock import local_today
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
from shared.security.history_cli import access_log_app, history_app
from shared.security.personal_data import ERASED, generate_master_key
from shared.security.verifier import verify
from tests.history_support import AUDITOR, OUTSIDER, rescuer

pytestmark = pytest.mark.integration

VILLAGE = "433101001001"
TODAY = local_today()
MEDIATOR = dict(role=Role.MEDIATOR, jurisdiction=VILLAGE, actor_id="mediator-1")
TOWNSHIP = dict(role=Role.TOWNSHIP_OFFICER, jurisdiction="433101001", actor_id="township-2")
JUSTICE = dict(role=Role.JUSTICE, jurisdiction="433101", actor_id="justice-3")


@pytest.fixture(autouse=True)
def master_key(monkeypatch):
    monkeypatch.setenv("PINGAN_PERSONAL_DATA_KEY", generate_master_key())


def open_and_accept(rpc_as) -> str:
    with rpc_as(**MEDIATOR) as rpc:
        case_id = rpc.mediation.open_case(jurisdiction=VILLAGE, source="petition", subject="Long Wei's fence",
                                          parties=[{"name": "Long Wei", "languages": ["mandarin"],
                                                    "understands_mandarin": True},
                                                   {"name": "Tian Mei", "languages": ["mandarin"],
                                                    "understands_mandarin": True}])["case_id"]
    with rpc_as(**TOWNSHIP) as rpc:
        rpc.mediation.record_risk_check(case_id=case_id, level="low", note="calm")
    with rpc_as(**JUSTICE) as rpc:
        rpc.mediation.accept_case(case_id=case_id)
    return case_id


def test_case_history_as_of_erasure_and_access_log(container_factory, service_config, pg_url, rpc_as, tokens,
                                                   tmp_path):
    private, public = generate_signing_key()
    checkpoints = CheckpointStore(tmp_path / "checkpoints", "mediation")
    rows = EventRows(create_engine(pg_url), "mediation")
    container = container_factory(MediationService, service_config)
    container.start()
    case_id = open_and_accept(rpc_as)
    other = open_and_accept(rpc_as)
    with rpc_as(token=tokens.issue(AUDITOR)) as rpc:
        before = rpc.mediation.history(kind="case", record_id=case_id, purpose="audit")["items"]
        risk_checked, accepted = (datetime.fromisoformat(before[i]["at"]) for i in (3, 4))
        then = rpc.mediation.get_case(case_id=case_id, as_of=(risk_checked + (accepted - risk_checked) / 2)
                                      .isoformat(), purpose="audit")
    with rpc_as(token=tokens.issue(OUTSIDER)) as rpc, pytest.raises(Forbidden):
        rpc.mediation.history(kind="case", record_id=case_id, purpose="audit")
    with rpc_as(token=tokens.issue(rescuer())) as rpc:
        rpc.mediation.get_case(case_id=case_id, purpose="emergency")
    with rpc_as(**TOWNSHIP) as rpc:
        rpc.mediation.get_case(case_id=other, purpose="case_work")
    make_checkpoint(rows, checkpoints, load_private_key(private))
    with rpc_as(**JUSTICE) as rpc:
        rpc.mediation.erase_party(case_id=case_id, party_id="P1", reason="consent_withdrawn")
    with rpc_as(token=tokens.issue(AUDITOR)) as rpc:
        after = rpc.mediation.history(kind="case", record_id=case_id, purpose="audit")["items"]
        access = rpc.mediation.access_log(person_id=f"party.{case_id}.P1")["items"]
    container.stop()
    make_checkpoint(rows, checkpoints, load_private_key(private))
    report = verify(rows, checkpoints, load_public_key(public))
    rows.engine.dispose()

    assert [(e["event"], e["actor_id"]) for e in before] == [
        ("Opened", "mediator-1"), ("PartyAdded", "mediator-1"), ("PartyAdded", "mediator-1"),
        ("RiskChecked", "township-2"), ("Accepted", "justice-3")]
    assert then["steps"] == ["intake", "risk_check"] and then["version"] == 4
    assert [e["changes"]["name"] for e in after if e["event"] == "PartyAdded"] == [ERASED, "Tian Mei"]
    assert after[-1]["event"] == "PartyErased" and report.ok
    assert [(r["actor_id"], r["action"], r["outcome"], r["break_glass"]) for r in access] == [
        ("auditor-4", "read the history of a mediation case", "allowed", False),
        ("auditor-4", "read a mediation case as it stood", "allowed", False),
        ("officer-5", "read the history of a mediation case", "denied", False),
        ("officer-6", "read a mediation case", "allowed", True),
        ("auditor-4", "read the history of a mediation case", "allowed", False)]


def test_exports_write_the_history_and_the_access_log(container_factory, service_config, pg_url, rpc_as, tokens,
                                                       monkeypatch, tmp_path):
    container = container_factory(MediationService, service_config)
    container.start()
    case_id = open_and_accept(rpc_as)
    with rpc_as(**TOWNSHIP) as rpc:
        rpc.mediation.get_case(case_id=case_id, purpose="case_work")
    monkeypatch.setenv("AMQP_URI", service_config["AMQP_URI"])
    exported = CliRunner().invoke(history_app, ["export", "mediation", "case", case_id, "--quiet",
                                                "--output", str(tmp_path / "history.jsonl")])
    as_csv = CliRunner().invoke(access_log_app, ["export", "mediation", f"party.{case_id}.P2", "--format", "csv",
                                                 "--quiet"])
    container.stop()

    lines = [json.loads(line) for line in (tmp_path / "history.jsonl").read_text().splitlines()]
    assert exported.exit_code == 0 and [e["event"] for e in lines] == [
        "Opened", "PartyAdded", "PartyAdded", "RiskChecked", "Accepted"]
    assert as_csv.exit_code == 0
    assert [(r["actor_id"], r["action"], r["outcome"]) for r in csv.DictReader(io.StringIO(as_csv.stdout))] == [
        ("township-2", "read a mediation case", "allowed"),
        ("operator", "read the history of a mediation case", "allowed"),
    ]

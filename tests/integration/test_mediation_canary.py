"""The mediation service on real PostgreSQL and RabbitMQ: a party named by a random canary (the canary in
the subject, notes, place and terms too) is read back through an audited read, its events are relayed,
the case is archived and its personal data erased; afterwards the canary is found nowhere — database dump,
messages still in the test vhost's queues, logs at DEBUG, read models, /metrics — and the log still verifies
against signed checkpoints taken before and after the erasure."""

import json
import os
import subprocess
import uuid
from datetime import timedelta
from urllib.request import urlopen

import pytest
from sqlalchemy import create_engine, text
from structlog.testing import capture_logs

from services.mediation.service import MediationService
from shared.clock import local_today
from shared.context import Role
from shared.dependencies import Store
from shared.errors import Forbidden
from shared.security.audit_log import AuditTrail
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
from tests.canary import unconsumed_queue, vhost_messages, wait_for_in_flight

pytestmark = pytest.mark.integration

CANARY = f"Canary{uuid.uuid4().hex[:12]}"
ID_NUMBER = "433101199001010012"
VILLAGE = "433101001001"
TODAY = local_today()
JUSTICE = dict(role=Role.JUSTICE, jurisdiction="433101", actor_id="justice-7")  # every tier, and erasure
PUBLISHED = ("case_opened", "joint_case_shared", "agreement_reached", "case_archived")


@pytest.fixture(autouse=True)
def master_key(monkeypatch):
    monkeypatch.setenv("PINGAN_PERSONAL_DATA_KEY", generate_master_key())


@pytest.fixture
def in_flight(service_config):
    with unconsumed_queue(service_config, "mediation") as queue:
        yield queue


def read_models(pg_url) -> str:
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        rows = [dict(r) for table in ("mediation_cases_view", "mediation_parties_view", "mediation_attempts_view")
                for r in conn.execute(text(f"SELECT * FROM {table}")).mappings()]
    engine.dispose()
    assert rows
    return repr(rows)


def test_canary_is_found_nowhere_after_case_erasure(container_factory, service_config, pg_url, rpc_as, in_flight,
                                                    debug_logs, rabbit_config, tmp_path):
    private, public = generate_signing_key()
    checkpoints = CheckpointStore(tmp_path / "checkpoints", "mediation")
    rows = EventRows(create_engine(pg_url), "mediation")
    with capture_logs() as structured:
        container = container_factory(MediationService, service_config)
        container.start()
        store = next(d for d in container.dependencies if isinstance(d, Store))
        with rpc_as(**JUSTICE) as rpc:
            m = rpc.mediation
            case_id = m.open_case(jurisdiction=VILLAGE, source="petition", subject=f"{CANARY} fenced the path",
                                  parties=[{"name": CANARY, "id_number": ID_NUMBER, "languages": ["mandarin"],
                                            "understands_mandarin": True},
                                           {"name": "Tian Hua", "languages": ["tujia", "mandarin"],
                                            "understands_mandarin": True, "residence": "522201"}])["case_id"]
            m.record_risk_check(case_id=case_id, level="low", note=f"{CANARY} was calm")
            m.accept_case(case_id=case_id)
            m.record_attempt(case_id=case_id, tier="village", mode="peoples", mediator_ids=["med-1"],
                             place=f"{CANARY}'s courtyard", on_site=True, held_on=TODAY.isoformat(),
                             outcome="agreement", agreement={"terms": f"{CANARY} reopens the path",
                                                             "follow_up_on": (TODAY + timedelta(days=7)).isoformat()})
            m.record_follow_up(case_id=case_id, held_on=TODAY.isoformat(), outcome="complied", note=f"{CANARY} did")
            m.archive_case(case_id=case_id)
            shown = m.get_case(case_id=case_id, purpose="case_work")
            listed = m.list_cases()
            wait_for_in_flight(in_flight, len(PUBLISHED))
            make_checkpoint(rows, checkpoints, load_private_key(private))  # the log as it was before erasure

            with rpc_as(role=Role.MEDIATOR, jurisdiction=VILLAGE) as village, pytest.raises(Forbidden):
                village.mediation.erase_case_personal_data(case_id=case_id, reason="retention_ended")
            m.erase_case_personal_data(case_id=case_id, reason="retention_ended")
            erased = m.get_case(case_id=case_id, purpose="audit")
        with urlopen(f"http://{service_config['WEB_SERVER_ADDRESS']}/metrics", timeout=5) as answer:
            metrics_text = answer.read().decode()
        audits = [(e.purpose, e.outcome) for e in AuditTrail(store.app).entries() if case_id in e.record_ids]
        container.stop()
    make_checkpoint(rows, checkpoints, load_private_key(private))
    report = verify(rows, checkpoints, load_public_key(public))
    rows.engine.dispose()

    assert [p["name"] for p in shown["parties"]] == [CANARY, "Tian Hua"]
    assert (shown["subject"], shown["attempt_log"][0]["place"]) == (
        f"{CANARY} fenced the path",
        f"{CANARY}'s courtyard",
    )
    assert CANARY not in json.dumps(listed)
    assert [p["name"] for p in erased["parties"]] == [ERASED, ERASED]
    assert (erased["subject"], erased["attempt_log"][0]["place"], erased["personal_data_erased"]) == (
        ERASED,
        ERASED,
        True,
    )
    assert audits == [("case_work", "allowed"), ("audit", "allowed")]
    assert report.ok and report.anchored == report.checked > 10

    db = pg_url.rsplit("/", 1)[1]
    dump = subprocess.run(
        ["pg_dump", "-h", "127.0.0.1", "-U", "pingan", db],
        capture_output=True,
        check=True,
        env={**os.environ, "PGPASSWORD": "pingan"},
    ).stdout.decode()
    queues, in_vhost = vhost_messages(rabbit_config["vhost"])
    assert "mediation_parties_view" in dump and "pingan_person_keys" in dump and "pii1:" in dump  # the right database
    assert in_flight.name in queues and [t for t in PUBLISHED if f'"event_type": "{t}"' not in in_vhost] == []
    places = {
        "database dump": dump,
        "messages in the vhost": in_vhost,
        "structured logs": repr(structured),
        "stdlib logs": debug_logs.text,
        "read models": read_models(pg_url),
        "metrics": metrics_text,
    }
    assert [where for where, found in places.items() if CANARY in found or ID_NUMBER in found] == []

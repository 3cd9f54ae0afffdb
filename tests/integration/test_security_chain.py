"""Tamper-evident event logs on real PostgreSQL: each attack is detected and named.

The log is grid_events' own (genuine stored events), checkpointed twice; a
gap from a rolled-back insert sits between the checkpoints, as happens in
production. The attacker edits the database directly, as a DBA could.
"""

import base64
import json
import os
import shutil
import uuid

import psycopg2
import pytest
from eventsourcing.persistence import StoredEvent
from sqlalchemy import create_engine
from typer.testing import CliRunner

from services.grid_events import contracts as c
from services.grid_events.application import GridEventsApplication
from shared.context import CallerContext, Role
from shared.eventstore import Call
from shared.security.chain import (
    CheckpointStore,
    EventRows,
    generate_signing_key,
    genesis,
    link,
    load_private_key,
    load_public_key,
    make_checkpoint,
)
from shared.security.cli import app as audit_cli
from shared.security.links import configured_link_key
from shared.security.verifier import verify

pytestmark = pytest.mark.integration

SERVICE = "grid_events"
TABLE = "grid_events_events"
ADMIN = Call(CallerContext(actor_id="admin-1", role=Role.ADMIN, jurisdiction="433100"), "call-chain")
COUNTIES = ("433101", "433122", "433123", "433124", "433125", "433126", "433127", "433130")


def dsn(pg_url: str) -> str:
    return pg_url.replace("postgresql+psycopg2://", "postgresql://")


def sql(pg_url: str, statement: str, params: tuple = ()):
    with psycopg2.connect(dsn(pg_url)) as conn, conn.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else None


def register(app, codes):
    for code in codes:
        app.register_jurisdiction(ADMIN, c.RegisterJurisdiction(code=code, name=f"unit {code}"))


@pytest.fixture
def keys():
    private, public = generate_signing_key()
    return load_private_key(private), load_public_key(public)


@pytest.fixture
def log(pg_url, tmp_path, keys):
    """40 genuine events; checkpoints after 20 and 32 (with a gap in ids); 8 unanchored."""
    app = GridEventsApplication(env={"PERSISTENCE_MODULE": "eventsourcing_sqlalchemy", "SQLALCHEMY_URL": pg_url})
    townships = [f"{county}{n:03d}" for county in COUNTIES for n in range(1, 5)]
    register(app, ["433100", *COUNTIES, *townships[:11]])  # ids 1..20
    engine = create_engine(pg_url)
    rows, store = EventRows(engine, SERVICE), CheckpointStore(tmp_path / "checkpoints", SERVICE)
    make_checkpoint(rows, store, keys[0])
    gap = sql(pg_url, f"SELECT nextval('{TABLE}_id_seq')")[0][0]  # a rolled-back insert's id
    register(app, townships[11:23])  # ids 22..33
    make_checkpoint(rows, store, keys[0])
    register(app, townships[23:31])  # unanchored
    yield {"rows": rows, "store": store, "public": keys[1], "gap": gap, "url": pg_url, "app": app}
    engine.dispose()


def check(log):
    return verify(
        log["rows"], log["store"], log["public"], configured_link_key(SERVICE, os.environ["PINGAN_CHAIN_KEY"])
    )


def test_chain_untouched_log_verifies(log):
    report = check(log)
    assert report.ok, report.finding
    assert (report.checked, report.anchored, report.unanchored, report.checkpoints) == (40, 32, 8, 2)


def test_chain_flipped_byte_is_named(log):
    sql(log["url"], f"UPDATE {TABLE} SET state = set_byte(state, 40, get_byte(state, 40) # 1) WHERE id = 7")
    report = check(log)
    assert (report.finding.kind, report.finding.notification_id) == ("altered", 7)


def test_chain_deleted_row_is_named(log):
    sql(log["url"], f"DELETE FROM {TABLE} WHERE id = 12")
    report = check(log)
    assert (report.finding.kind, report.finding.notification_id) == ("missing", 12)


def test_chain_forged_row_is_named(log):
    sql(
        log["url"],
        f"INSERT INTO {TABLE} (id, originator_id, originator_version, topic, state) "
        f"SELECT %s, gen_random_uuid(), 1, topic, state FROM {TABLE} WHERE id = 3",
        (log["gap"],),
    )
    report = check(log)
    assert (report.finding.kind, report.finding.notification_id) == ("inserted", log["gap"])


def test_chain_reordered_rows_are_named(log):
    sql(
        log["url"],
        f"UPDATE {TABLE} SET id = -1 WHERE id = 5; UPDATE {TABLE} SET id = 5 WHERE id = 9; "
        f"UPDATE {TABLE} SET id = 9 WHERE id = -1",
    )
    report = check(log)
    assert (report.finding.kind, report.finding.notification_id) == ("altered", 5)


def test_chain_truncation_before_last_checkpoint_is_named(log):
    sql(log["url"], f"DELETE FROM {TABLE} WHERE id > 25")
    report = check(log)
    assert (report.finding.kind, report.finding.notification_id) == ("missing", 26)


def test_chain_truncated_table_is_named(log):
    sql(log["url"], f"TRUNCATE {TABLE}")
    report = check(log)
    assert (report.finding.kind, report.finding.notification_id) == ("missing", 1)


def test_chain_recomputed_without_signing_key_is_named(log, keys):
    """The attacker edits record 7, then rewrites segments and heads and re-signs with a key of their own."""
    sql(log["url"], f"UPDATE {TABLE} SET state = set_byte(state, 40, get_byte(state, 40) # 1) WHERE id = 7")
    store = log["store"]
    shutil.rmtree(store.root)
    forger, _ = generate_signing_key()
    make_checkpoint(log["rows"], store, load_private_key(forger))
    report = check(log)
    assert (report.finding.kind, report.finding.notification_id) == ("bad_checkpoint", 1)


def test_chain_rewritten_checkpoint_head_is_named(log):
    """Editing a signed head (or segment) in the checkpoint store breaks its signature."""
    lines = log["store"].index.read_text().splitlines()
    second = json.loads(lines[1])
    second["head"] = link(genesis(SERVICE), 1, "00000000-0000-0000-0000-000000000000", 1, "x", b"").hex()
    log["store"].index.write_text("\n".join([lines[0], json.dumps(second)]) + "\n")
    report = check(log)
    assert (report.finding.kind, report.finding.notification_id) == ("bad_checkpoint", 22)


def test_chain_checkpoint_refuses_tampered_log(log, monkeypatch, keys):
    sql(log["url"], f"DELETE FROM {TABLE} WHERE id = 12")
    private = base64.b64encode(keys[0].private_bytes_raw()).decode()
    monkeypatch.setenv("PINGAN_CHECKPOINT_KEY", private)
    result = CliRunner().invoke(
        audit_cli,
        [
            "checkpoint",
            SERVICE,
            "--database-url",
            log["url"],
            "--checkpoint-dir",
            str(log["store"].root.parent),
            "--quiet",
        ],
    )
    assert result.exit_code == 1
    assert len(log["store"].checkpoints()) == 2


def test_chain_cli_verify_names_bad_record(log, monkeypatch, keys):
    public = base64.b64encode(keys[1].public_bytes_raw()).decode()
    monkeypatch.setenv("PINGAN_CHECKPOINT_PUBLIC_KEY", public)
    sql(log["url"], f"DELETE FROM {TABLE} WHERE id = 12")
    result = CliRunner().invoke(
        audit_cli,
        ["verify", SERVICE, "--database-url", log["url"], "--checkpoint-dir", str(log["store"].root.parent), "--json"],
    )
    assert result.exit_code == 1
    assert json.loads(result.stdout)["finding"]["notification_id"] == 12


def copies(log, times):
    """Genuine stored events stored again under fresh aggregate ids, through the service's own recorder."""
    recorder = log["app"].recorder
    originals = recorder.select_notifications(start=1, limit=40)
    for _ in range(times):
        recorder.insert_events(
            [StoredEvent(uuid.uuid4(), n.originator_version, n.topic, n.state) for n in originals * 25]
        )


def test_chain_hundred_thousand_events_have_no_false_alarm(log, keys):
    """Genuine stored events copied in bulk under fresh ids, checkpointed in two steps."""
    copies(log, 80)
    make_checkpoint(log["rows"], log["store"], keys[0])
    copies(log, 24)  # unanchored tail
    report = check(log)
    assert report.ok, report.finding
    assert report.checked >= 100_000
    assert report.checked == log["rows"].count()

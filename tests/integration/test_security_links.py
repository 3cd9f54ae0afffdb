"""Chain links on real PostgreSQL: rows the database alone wrote are named before any checkpoint covers them.

The attacker logs in as the database owner (the role that created the tables)
and changes rows stored after the last checkpoint; the service's chain key
never reaches the database.
"""

import json
import os

import eventlet
import psycopg2
import pytest
from sqlalchemy import create_engine
from typer.testing import CliRunner

from services.grid_events import contracts as c
from services.grid_events.application import GridEventsApplication
from shared.context import CallerContext, Role
from shared.eventstore import Call
from shared.security.chain import CheckpointStore, EventRows, generate_signing_key, load_private_key, make_checkpoint
from shared.security.cli import app as audit_cli
from shared.security.links import configured_link_key
from shared.security.verifier import verify

pytestmark = pytest.mark.integration

SERVICE = "grid_events"
EVENTS, LINKS = "grid_events_events", "grid_events_links"
ADMIN = Call(CallerContext(actor_id="admin-1", role=Role.ADMIN, jurisdiction="433100"), "call-links")


def owner_sql(url: str, statement: str, params: tuple = ()):
    with psycopg2.connect(url.replace("postgresql+psycopg2://", "postgresql://")) as conn, conn.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else None


def app_for(url):
    return GridEventsApplication(env={"PERSISTENCE_MODULE": "eventsourcing_sqlalchemy", "SQLALCHEMY_URL": url})


def register(app, codes):
    for code in codes:
        app.register_jurisdiction(ADMIN, c.RegisterJurisdiction(code=code, name=f"unit {code}"))


@pytest.fixture
def log(pg_url, tmp_path):
    """Ten genuine events, a signed checkpoint over the first four; six newer than it (ids 5..10)."""
    private, public = generate_signing_key()
    app = app_for(pg_url)
    register(app, ["433100", "433101", "433122", "433123"])
    engine = create_engine(pg_url)
    rows, store = EventRows(engine, SERVICE), CheckpointStore(tmp_path / "checkpoints", SERVICE)
    make_checkpoint(rows, store, load_private_key(private))
    register(app, ["433124", "433125", "433126", "433127", "433130", "433101001"])
    yield {"url": pg_url, "rows": rows, "store": store, "private": private, "public": public}
    engine.dispose()


def finding(log):
    from shared.security.chain import load_public_key

    report = verify(log["rows"], log["store"], load_public_key(log["public"]),
                    configured_link_key(SERVICE, os.environ["PINGAN_CHAIN_KEY"]))
    return report.finding and (report.finding.kind, report.finding.notification_id)


def test_links_untouched_log_verifies_past_the_checkpoint(log):
    report_finding = finding(log)
    assert report_finding is None
    assert owner_sql(log["url"], f"SELECT count(*) FROM {LINKS}")[0][0] == 10


def test_links_row_inserted_after_checkpoint_is_named(log):
    owner_sql(log["url"], f"INSERT INTO {EVENTS} (id, originator_id, originator_version, topic, state) "
                          f"SELECT 11, gen_random_uuid(), 1, topic, state FROM {EVENTS} WHERE id = 6")
    assert finding(log) == ("inserted", 11)


def test_links_row_inserted_with_a_copied_link_is_named(log):
    """A forged row between genuine ones, given the link row of another record."""
    owner_sql(log["url"], f"INSERT INTO {EVENTS} (id, originator_id, originator_version, topic, state) "
                          f"SELECT 11, gen_random_uuid(), 1, topic, state FROM {EVENTS} WHERE id = 10; "
                          f"INSERT INTO {LINKS} SELECT 11, 10, link FROM {LINKS} WHERE notification_id = 10")
    assert finding(log) == ("altered", 11)


def test_links_row_edited_after_checkpoint_is_named(log):
    owner_sql(log["url"], f"UPDATE {EVENTS} SET state = set_byte(state, 40, get_byte(state, 40) # 1) WHERE id = 7")
    assert finding(log) == ("altered", 7)


def test_links_row_deleted_after_checkpoint_is_named(log):
    owner_sql(log["url"], f"DELETE FROM {EVENTS} WHERE id = 7; DELETE FROM {LINKS} WHERE notification_id = 7")
    assert finding(log) == ("missing", 7)


def test_links_rows_reordered_after_checkpoint_are_named(log):
    """Two rows swap places, their link rows with them."""
    swap = ("UPDATE {t} SET {k} = -1 WHERE {k} = 6; UPDATE {t} SET {k} = 6 WHERE {k} = 8; "
            "UPDATE {t} SET {k} = 8 WHERE {k} = -1; ")
    owner_sql(log["url"], swap.format(t=EVENTS, k="id") + swap.format(t=LINKS, k="notification_id"))
    assert finding(log) == ("altered", 6)


def test_links_checkpoint_over_a_forged_row_is_refused(log, monkeypatch):
    owner_sql(log["url"], f"INSERT INTO {EVENTS} (id, originator_id, originator_version, topic, state) "
                          f"SELECT 11, gen_random_uuid(), 1, topic, state FROM {EVENTS} WHERE id = 6")
    monkeypatch.setenv("PINGAN_CHECKPOINT_KEY", log["private"])
    result = CliRunner().invoke(audit_cli, ["checkpoint", SERVICE, "--database-url", log["url"],
                                            "--checkpoint-dir", str(log["store"].root.parent), "--quiet"])
    assert result.exit_code == 1
    assert "record 11" in result.output
    assert len(log["store"].checkpoints()) == 1


def test_links_verify_without_the_chain_key_is_refused(log, monkeypatch):
    monkeypatch.delenv("PINGAN_CHAIN_KEY")
    monkeypatch.setenv("PINGAN_CHECKPOINT_PUBLIC_KEY", log["public"])
    result = CliRunner().invoke(audit_cli, ["verify", SERVICE, "--database-url", log["url"],
                                            "--checkpoint-dir", str(log["store"].root.parent), "--json"])
    assert result.exit_code == 2
    assert "PINGAN_CHAIN_KEY" in result.output


def test_links_two_replicas_writing_at_once_verify(log):
    """Two applications on one database (two replicas) save concurrently; every link follows id order."""
    replicas = [app_for(log["url"]), app_for(log["url"])]
    pool = eventlet.GreenPool()
    for county, replica in zip(("433122", "433123"), replicas, strict=True):
        pool.spawn(register, replica, [f"{county}{k:03d}" for k in range(1, 31)])
    pool.waitall()
    assert owner_sql(log["url"], f"SELECT count(*) FROM {EVENTS}")[0][0] == 70
    assert owner_sql(log["url"], f"SELECT count(*) FROM {LINKS}")[0][0] == 70
    assert finding(log) is None


def test_links_audit_rows_written_alone_among_saves_verify(log):
    """Audit records of reads (one row each, shared/security/links.py ``insert_row``) written by two replicas
    while a third saves commands: one chain in id order, every link verifies, every record reads back."""
    from shared.security.audit_log import ALLOWED, AuditTrail

    readers, writer = [AuditTrail(app_for(log["url"])), AuditTrail(app_for(log["url"]))], app_for(log["url"])

    def read(trail, n):
        for k in range(n):
            trail.record(ADMIN, "list events", "event report", ["scope:433100", f"e-{k}"], "case_work", ALLOWED)

    pool = eventlet.GreenPool()
    for trail in readers:
        pool.spawn(read, trail, 25)
    pool.spawn(register, writer, [f"433122{k:03d}" for k in range(1, 21)])
    pool.waitall()
    assert owner_sql(log["url"], f"SELECT count(*) FROM {LINKS}")[0][0] == 10 + 50 + 20
    assert finding(log) is None
    entries = list(readers[0].entries())
    assert len(entries) == 50 and {entry.record_ids[1] for entry in entries} == {f"e-{k}" for k in range(25)}


def test_links_cli_names_a_row_newer_than_the_checkpoint(log, monkeypatch):
    monkeypatch.setenv("PINGAN_CHECKPOINT_PUBLIC_KEY", log["public"])
    owner_sql(log["url"], f"UPDATE {EVENTS} SET topic = topic || 'x' WHERE id = 9")
    result = CliRunner().invoke(audit_cli, ["verify", SERVICE, "--database-url", log["url"],
                                            "--checkpoint-dir", str(log["store"].root.parent), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["finding"] == {
        "kind": "altered", "notification_id": 9,
        "detail": json.loads(result.stdout)["finding"]["detail"],
    }



class BeforeLinks(GridEventsApplication):
    """grid_events as it stored events before chain links existed."""

    name = SERVICE

    def construct_recorder(self):
        return self.factory.process_recorder()


def upgraded(url, tmp_path, checkpoint_first):
    """Four events stored before links existed (checkpointed or not), then the service upgraded writes more."""
    private, public = generate_signing_key()
    register(BeforeLinks(env={"PERSISTENCE_MODULE": "eventsourcing_sqlalchemy", "SQLALCHEMY_URL": url}),
             ["433100", "433101", "433122", "433123"])
    rows, store = EventRows(url, SERVICE), CheckpointStore(tmp_path / "checkpoints", SERVICE)
    if checkpoint_first:
        make_checkpoint(rows, store, load_private_key(private))
    register(app_for(url), ["433124", "433125"])
    return {"url": url, "rows": rows, "store": store, "private": private, "public": public}


def test_links_rows_older_than_links_verify_through_their_checkpoint(pg_url, tmp_path):
    assert finding(upgraded(pg_url, tmp_path, checkpoint_first=True)) is None


def test_links_rows_older_than_links_and_never_checkpointed_are_named(pg_url, tmp_path):
    assert finding(upgraded(pg_url, tmp_path, checkpoint_first=False)) == ("inserted", 1)

"""`pingan audit verify` fails closed: stored records with no signed checkpoint are no `ok`."""

import json

import psycopg2
import pytest
from typer.testing import CliRunner

from services.grid_events import contracts as c
from services.grid_events.application import GridEventsApplication
from shared.context import CallerContext, Role
from shared.eventstore import Call
from shared.security.chain import generate_signing_key
from shared.security.cli import app as audit_cli

pytestmark = pytest.mark.integration

ADMIN = Call(CallerContext(actor_id="admin-1", role=Role.ADMIN, jurisdiction="433100"), "call-verify")


@pytest.fixture(autouse=True)
def public_key(monkeypatch):
    monkeypatch.setenv("PINGAN_CHECKPOINT_PUBLIC_KEY", generate_signing_key()[1])


@pytest.fixture
def stored(pg_url):
    """A few genuine events, never checkpointed."""
    app = GridEventsApplication(env={"PERSISTENCE_MODULE": "eventsourcing_sqlalchemy", "SQLALCHEMY_URL": pg_url})
    for code in ("433100", "433101", "433122"):
        app.register_jurisdiction(ADMIN, c.RegisterJurisdiction(code=code, name=f"unit {code}"))
    app.recorder.datastore.engine.dispose()
    return pg_url


def audit(*args):
    return CliRunner().invoke(audit_cli, list(args))


def tamper(pg_url):
    with psycopg2.connect(pg_url.replace("postgresql+psycopg2://", "postgresql://")) as conn, conn.cursor() as cur:
        cur.execute("UPDATE grid_events_events SET state = set_byte(state, 20, get_byte(state, 20) # 1) WHERE id = 2")


def test_verify_without_checkpoints_fails_with_a_clear_message(stored, tmp_path):
    result = audit("verify", "grid_events", "--database-url", stored, "--checkpoint-dir", str(tmp_path / "typo"),
                   "--quiet")
    assert result.exit_code == 2
    assert "no signed checkpoint" in result.output and "--accept-unanchored" in result.output


def test_verify_tampered_log_without_checkpoints_is_not_ok(stored, tmp_path):
    # The edited row fails its chain link (exit 1) before the missing anchor (exit 2) is reported.
    tamper(stored)
    result = audit("verify", "grid_events", "--database-url", stored, "--checkpoint-dir", str(tmp_path), "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout.splitlines()[-1])["ok"] is False


def test_verify_accept_unanchored_accepts_a_new_log(stored, tmp_path):
    result = audit("verify", "grid_events", "--database-url", stored, "--checkpoint-dir", str(tmp_path),
                   "--quiet", "--accept-unanchored")
    assert result.exit_code == 0


def test_verify_empty_log_without_checkpoints_is_ok(pg_url, tmp_path):
    GridEventsApplication(env={"PERSISTENCE_MODULE": "eventsourcing_sqlalchemy", "SQLALCHEMY_URL": pg_url})
    result = audit("verify", "grid_events", "--database-url", pg_url, "--checkpoint-dir", str(tmp_path), "--quiet")
    assert result.exit_code == 0

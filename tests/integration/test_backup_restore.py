"""The documented restore procedure on real PostgreSQL: records made through the service
are dumped (scripts/backup-service-db.sh), the database is lost, restored, verified and its
read models rebuilt (scripts/restore-service-db.sh), and the service answers as before."""

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy.engine import make_url

from services.grid_events.service import GridEventsService
from shared.context import Role
from tests.integration.test_grid_events_service import DISPUTE, GRID, WORKER, seed_registry

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PINGAN = str(Path(sys.executable).with_name("pingan"))


def _script(name, *args, env):
    return subprocess.run([str(ROOT / "scripts" / name), *args], env=env, capture_output=True, text=True,
                          timeout=300)


def _answers(rpc, event_ids):
    return {"events": [rpc.grid_events.get_event(event_id=e) for e in event_ids],
            "listed": rpc.grid_events.list_events(grid_code=GRID)}


def _drop(pg_url):
    name = make_url(pg_url).database
    admin = psycopg2.connect(host="127.0.0.1", user="pingan", password="pingan", dbname="postgres")
    admin.autocommit = True
    admin.cursor().execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture
def checkpoint_keys():
    return json.loads(subprocess.run([PINGAN, "audit", "keygen"], capture_output=True, text=True, check=True).stdout)


def _checkpoint(env, keys):
    """What the checkpoint CronJob does; verify refuses a log no checkpoint vouches for."""
    done = subprocess.run([PINGAN, "audit", "checkpoint", "grid_events", "--quiet"], capture_output=True, text=True,
                          env={**env, "PINGAN_CHECKPOINT_KEY": keys["PINGAN_CHECKPOINT_KEY"]})
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def restore_env(tmp_path, pg_url, checkpoint_keys):
    keys = checkpoint_keys
    return {**os.environ, "PINGAN_DATABASE_URL": pg_url, "PINGAN": PINGAN, "PINGAN_DATA_DIR": str(tmp_path / "data"),
            "PINGAN_CHECKPOINT_PUBLIC_KEY": keys["PINGAN_CHECKPOINT_PUBLIC_KEY"],
            "PINGAN_CHECKPOINT_DIR": str(tmp_path / "checkpoints")}


@pytest.fixture
def recorded(pg_url, container_factory, service_config, rpc_as):
    """Three reports made through the service, and what it answered about them; service stopped."""
    before = container_factory(GridEventsService, service_config)
    before.start()
    with rpc_as() as rpc:
        seed_registry(rpc)
    with rpc_as(role=Role.GRID_WORKER, jurisdiction="433101001001", actor_id=WORKER) as rpc:
        event_ids = [rpc.grid_events.report_event(**{**DISPUTE, "place": f"courtyard {n}"})["event_id"]
                     for n in range(3)]
    with rpc_as(role=Role.COUNTY_OFFICER, jurisdiction="433101") as rpc:
        expected = _answers(rpc, event_ids)
    before.stop()
    return event_ids, expected


def test_restore_procedure_service_answers_as_before_backup(pg_url, recorded, container_factory, service_config,
                                                          rpc_as, restore_env, checkpoint_keys, tmp_path):
    event_ids, expected = recorded
    dump = tmp_path / "grid_events.dump"
    _checkpoint(restore_env, checkpoint_keys)

    backed_up = _script("backup-service-db.sh", "grid_events", str(dump), env=restore_env)
    assert backed_up.returncode == 0, backed_up.stderr
    _drop(pg_url)
    restored = _script("restore-service-db.sh", "grid_events", str(dump), env=restore_env)

    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "restored, verified and its read models rebuilt" in restored.stdout
    after = container_factory(GridEventsService, service_config)
    after.start()
    with rpc_as(role=Role.COUNTY_OFFICER, jurisdiction="433101") as rpc:
        assert _answers(rpc, event_ids) == expected
    assert len(expected["listed"]["items"]) == 3


def test_restore_procedure_tampered_backup_stops_before_rebuild(pg_url, recorded, restore_env, checkpoint_keys,
                                                                 tmp_path):
    _checkpoint(restore_env, checkpoint_keys)
    # Someone who could write the backup changed one stored event: verify must refuse it.
    engine = psycopg2.connect(make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False))
    with engine, engine.cursor() as cursor:
        cursor.execute("UPDATE grid_events_events SET state = state || '\\x00'::bytea "
                       "WHERE id = (SELECT max(id) FROM grid_events_events)")
    engine.close()
    dump = tmp_path / "grid_events.dump"
    assert _script("backup-service-db.sh", "grid_events", str(dump), env=restore_env).returncode == 0
    _drop(pg_url)

    restored = _script("restore-service-db.sh", "grid_events", str(dump), env=restore_env)

    assert restored.returncode == 1, restored.stdout + restored.stderr
    assert "restored " in restored.stdout and " into " in restored.stdout  # the dump itself loaded
    assert "rebuilt" not in restored.stdout


def test_restore_procedure_refuses_to_overwrite_an_existing_database(pg_url, restore_env, tmp_path):
    dump = tmp_path / "grid_events.dump"
    assert _script("backup-service-db.sh", "grid_events", str(dump), env=restore_env).returncode == 0

    refused = _script("restore-service-db.sh", "grid_events", str(dump), env=restore_env)

    assert refused.returncode == 2
    assert "exists" in refused.stderr

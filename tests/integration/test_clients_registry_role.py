"""`pingan migrate clients --runtime-role` (shared.clients.migrate_registry) on PostgreSQL: the
services' role reads the integration client registry and cannot write or change it."""

import uuid

import psycopg2
import pytest
from sqlalchemy import create_engine

from shared.clients import ClientRegistry, migrate_registry
from tests.integration.test_security_db_role import SUPERUSER_DSN

pytestmark = pytest.mark.integration


@pytest.fixture
def runtime_dsn(pg_url):
    db = pg_url.rsplit("/", 1)[1]
    role = f"pingan_rt_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(SUPERUSER_DSN.format(db="postgres"))
    admin.autocommit = True
    admin.cursor().execute(f"CREATE ROLE {role} LOGIN PASSWORD 'runtime'")
    migrate_registry(pg_url, role)
    engine = create_engine(pg_url)
    ClientRegistry(engine).register("operator-1", client_id="hotline", name="Citizen hotline", jurisdiction="433100")
    engine.dispose()
    yield f"dbname={db} user={role} password=runtime host=127.0.0.1"
    admin.cursor().execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    admin.cursor().execute(f"DROP ROLE {role}")
    admin.close()


def run_as(dsn: str, statement: str) -> list:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cursor:
        cursor.execute(statement)
        return cursor.fetchall() if cursor.description else []


def test_clients_registry_runtime_role_reads_clients(runtime_dsn):
    assert run_as(runtime_dsn, "SELECT client_id, kind FROM integration_client_events") == [("hotline", "registered")]


def test_clients_registry_runtime_role_cannot_register(runtime_dsn):
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        run_as(runtime_dsn, "INSERT INTO integration_client_events (client_id, kind, actor_id, at) "
                            "VALUES ('rogue', 'registered', 'x', now())")


def test_clients_registry_runtime_role_cannot_undo_revocation(runtime_dsn):
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        run_as(runtime_dsn, "DELETE FROM integration_client_events")

"""On PostgreSQL the runtime role appends events but cannot change or remove them."""

import uuid

import psycopg2
import pytest
from sqlalchemy import create_engine

from services.grid_events import contracts as c
from services.grid_events.application import GridEventsApplication
from shared.context import CallerContext, Role
from shared.eventstore import Call
from shared.security.db_roles import protect_event_table

pytestmark = pytest.mark.integration

SUPERUSER_DSN = "dbname={db} user=postgres host=127.0.0.1 port=5432"
ADMIN = Call(CallerContext(actor_id="admin-1", role=Role.ADMIN, jurisdiction="433100"), "call-role")


def env(url):
    return {"PERSISTENCE_MODULE": "eventsourcing_sqlalchemy", "SQLALCHEMY_URL": url}


@pytest.fixture
def runtime(pg_url):
    """The owner creates and protects the tables; the service then runs as a role of its own."""
    db = pg_url.rsplit("/", 1)[1]
    role = f"pingan_rt_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(SUPERUSER_DSN.format(db="postgres"))  # never inside the test database
    admin.autocommit = True
    admin.cursor().execute(f"CREATE ROLE {role} LOGIN PASSWORD 'runtime'")
    owner_app = GridEventsApplication(env=env(pg_url))
    owner_app.register_jurisdiction(ADMIN, c.RegisterJurisdiction(code="433100", name="Xiangxi"))
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        protect_event_table(conn, "grid_events", role)
    engine.dispose()
    url = f"postgresql+psycopg2://{role}:runtime@127.0.0.1:5432/{db}"
    yield {"url": url, "dsn": f"dbname={db} user={role} password=runtime host=127.0.0.1", "pg_url": pg_url}
    cursor = admin.cursor()
    cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (role,))
    with psycopg2.connect(pg_url.replace("postgresql+psycopg2://", "postgresql://")) as owner:
        owner.cursor().execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}; "
                               f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role}; "
                               f"REVOKE ALL ON SCHEMA public FROM {role}")
    owner.close()
    cursor.execute(f"DROP ROLE {role}")
    admin.close()


def run_as(dsn, statement):
    with psycopg2.connect(dsn) as conn, conn.cursor() as cursor:
        cursor.execute(statement)


def test_db_role_runtime_still_stores_events(runtime):
    app = GridEventsApplication(env={**env(runtime["url"]), "CREATE_TABLE": "n"})
    app.register_jurisdiction(ADMIN, c.RegisterJurisdiction(code="433101", name="Jishou"))
    assert app.recorder.max_notification_id() == 2


def test_db_role_runtime_cannot_update_event_rows(runtime):
    with pytest.raises(psycopg2.Error, match="append-only"):
        run_as(runtime["dsn"], "UPDATE grid_events_events SET topic = 'x' WHERE id = 1")


def test_db_role_runtime_cannot_delete_event_rows(runtime):
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        run_as(runtime["dsn"], "DELETE FROM grid_events_events WHERE id = 1")


def test_db_role_runtime_cannot_truncate_events(runtime):
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        run_as(runtime["dsn"], "TRUNCATE grid_events_events")


def test_db_role_runtime_cannot_drop_the_guard_trigger(runtime):
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        run_as(runtime["dsn"], "DROP TRIGGER pingan_append_only ON grid_events_events")


def test_db_role_owner_update_is_refused_by_the_trigger(runtime):
    with pytest.raises(psycopg2.Error, match="append-only"):
        run_as(runtime["pg_url"].replace("postgresql+psycopg2://", "postgresql://"),
               "UPDATE grid_events_events SET topic = 'x' WHERE id = 1")


def test_db_role_runtime_cannot_change_chain_links(runtime):
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        run_as(runtime["dsn"], "UPDATE grid_events_links SET previous_id = 0 WHERE notification_id = 1")


def test_db_role_runtime_cannot_delete_chain_links(runtime):
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        run_as(runtime["dsn"], "DELETE FROM grid_events_links WHERE notification_id = 1")

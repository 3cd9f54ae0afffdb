"""A rebuild by the tables' owner builds their secondary indexes after the load; whatever happens, the
read models end with every index their metadata names (real PostgreSQL)."""

import pytest
from sqlalchemy import create_engine, text

from services.grid_events import projections as views
from services.grid_events.application import GridEventsApplication
from services.grid_events.domain import EventReport
from services.grid_events.projections.reports import EventReportsView
from shared import read_model_indexes
from shared.projections import Projector, create_view_tables
from tests.integration.roles_support import login_role
from tests.unit.fast_path_support import incremental_then_rebuilt, snapshot, varied_history

pytestmark = pytest.mark.integration

def tables_of(projections):
    return [table for projection in projections for table in projection.tables]


def index_names(engine, projections) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = ANY(:names)"),
                                {"names": [table.name for table in tables_of(projections)]}).scalars())


@pytest.fixture
def history(pg_url):
    app = GridEventsApplication(env={"PERSISTENCE_MODULE": "eventsourcing_sqlalchemy", "SQLALCHEMY_URL": pg_url})
    varied_history(app)
    engine = create_engine(pg_url)
    create_view_tables(engine, views.projections())
    yield app, engine
    engine.dispose()


@pytest.fixture
def runtime_url(pg_url):
    """A login that may read and write the read models, as the service's runtime role, but owns none."""
    database = pg_url.rsplit("/", 1)[1]
    with login_role(database) as role:
        yield role, f"postgresql+psycopg2://{role}:runtime@127.0.0.1:5432/{database}"


def test_rebuild_by_owner_sets_indexes_aside_and_ends_with_every_one(history, monkeypatch):
    app, engine = history
    dropped: list[str] = []
    real_drop = read_model_indexes.drop_secondary

    def spy(conn, tables):
        set_aside = real_drop(conn, tables)
        dropped.extend(index.name for index in set_aside)
        return set_aside

    monkeypatch.setattr(read_model_indexes, "drop_secondary", spy)
    before = index_names(engine, views.projections())
    incremental, rebuilt = incremental_then_rebuilt(app, engine)
    assert "ix_grid_event_reports_view_recent" in dropped  # the owner's path was taken
    assert rebuilt == incremental
    assert index_names(engine, views.projections()) == before


def test_rebuild_cut_short_by_a_failing_handler_leaves_every_index(history, monkeypatch):
    app, engine = history
    before = index_names(engine, views.projections())

    def fail(self, event, conn):
        raise ValueError("a handler that cannot apply its event")

    monkeypatch.setitem(EventReportsView._handlers, EventReport.Reported, fail)
    with pytest.raises(ValueError):
        Projector(app, engine, views.projections()).rebuild()
    assert index_names(engine, views.projections()) == before


def test_create_view_tables_restores_indexes_a_killed_rebuild_left_out(history):
    _, engine = history
    before = index_names(engine, views.projections())
    with engine.begin() as conn:  # what a rebuild killed between its load and its index builds leaves
        read_model_indexes.drop_secondary(conn, tables_of(views.projections()))
    assert index_names(engine, views.projections()) < before
    create_view_tables(engine, views.projections())  # as `pingan migrate` and a starting service do
    assert index_names(engine, views.projections()) == before


def test_rebuild_by_a_login_owning_no_table_keeps_indexes_and_equals_incremental(history, runtime_url):
    app, owner_engine = history
    role, url = runtime_url
    with owner_engine.begin() as conn:
        conn.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"))
    before = index_names(owner_engine, views.projections())
    runtime = create_engine(url)
    with runtime.connect() as conn:
        assert not read_model_indexes.owns(conn, tables_of(views.projections()))
    incremental, rebuilt = incremental_then_rebuilt(app, runtime)
    runtime.dispose()
    assert rebuilt == incremental
    assert rebuilt == snapshot(owner_engine, views.projections())
    assert index_names(owner_engine, views.projections()) == before

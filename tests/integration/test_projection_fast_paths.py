"""Read models rebuilt in large batches (COPY on PostgreSQL) equal those kept up event by event."""

import psycopg2.extensions
import pytest
from sqlalchemy import create_engine, select

from services.grid_events import projections as views
from services.grid_events.application import GridEventsApplication
from shared import projections
from shared.security.row_seal import SEAL, checked_rows
from tests.unit.fast_path_support import ALL_REPORTS, incremental_then_rebuilt, varied_history


@pytest.fixture
def plain_driver():
    """psycopg2 as `pingan rebuild` runs it: the tests' eventlet hub makes it green, and a green
    connection refuses COPY (the rebuild then inserts as usual, which would hide the COPY path)."""
    callback = psycopg2.extensions.get_wait_callback()
    psycopg2.extensions.set_wait_callback(None)
    yield
    psycopg2.extensions.set_wait_callback(callback)


def copies_spied(monkeypatch) -> list[str]:
    copied: list[str] = []
    real_copy = projections._copy

    def spy(conn, table, rows):
        done = real_copy(conn, table, rows)
        if done:
            copied.append(table.name)
        return done

    monkeypatch.setattr(projections, "_copy", spy)
    return copied


def test_rebuild_equals_incremental_on_postgresql(pg_url, monkeypatch, plain_driver):
    copied = copies_spied(monkeypatch)
    app = GridEventsApplication(env={"PERSISTENCE_MODULE": "eventsourcing_sqlalchemy", "SQLALCHEMY_URL": pg_url})
    varied_history(app)
    engine = create_engine(pg_url)
    incremental, rebuilt = incremental_then_rebuilt(app, engine)
    engine.dispose()
    assert rebuilt == incremental
    assert len(rebuilt["grid_event_reports_view"]) == ALL_REPORTS
    assert "grid_event_reports_view" in copied  # the rebuild took the COPY path


def test_rebuild_by_copy_seals_every_row(pg_url, monkeypatch, plain_driver):
    copied = copies_spied(monkeypatch)
    app = GridEventsApplication(env={"PERSISTENCE_MODULE": "eventsourcing_sqlalchemy", "SQLALCHEMY_URL": pg_url})
    varied_history(app)
    engine = create_engine(pg_url)
    projections.create_view_tables(engine, views.projections())
    projections.Projector(app, engine, views.projections()).rebuild()
    with engine.connect() as conn:
        rows = [dict(row) for row in conn.execute(select(views.reports)).mappings()]
    engine.dispose()
    assert "grid_event_reports_view" in copied
    assert all(row[SEAL] for row in rows)
    assert len(checked_rows(views.reports, rows)) == len(rows) == ALL_REPORTS  # no row read as tampered


def test_copy_declines_on_a_green_driver_and_rows_are_inserted(pg_url, monkeypatch):
    copied = copies_spied(monkeypatch)
    assert psycopg2.extensions.get_wait_callback() is not None  # the tests' hub, as in a running service
    app = GridEventsApplication(env={"PERSISTENCE_MODULE": "eventsourcing_sqlalchemy", "SQLALCHEMY_URL": pg_url})
    varied_history(app)
    engine = create_engine(pg_url)
    incremental, rebuilt = incremental_then_rebuilt(app, engine)
    engine.dispose()
    assert copied == []
    assert rebuilt == incremental

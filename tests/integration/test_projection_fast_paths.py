"""Read models rebuilt in large batches (COPY on PostgreSQL) equal those kept up event by event."""

from datetime import UTC, date, datetime

import psycopg2.extensions
import pytest
from sqlalchemy import Boolean, Column, Date, DateTime, Float, Integer, MetaData, Table, Text, create_engine, select

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


def test_copy_stores_every_value_as_given(pg_url, plain_driver):
    table = Table("copy_probe", MetaData(), Column("id", Integer, primary_key=True), Column("text", Text),
                  Column("at", DateTime(timezone=True)), Column("day", Date), Column("flag", Boolean),
                  Column("ratio", Float))
    texts = ["", "\\", "\\N", "N", "\\.", "a\tb", "line\nnext", "cr\rlf\r\n", '"quoted", comma', "\\\\t", "中文 é",
             None, "plain"]
    at = datetime(2026, 12, 3, 7, 45, 1, 123456, tzinfo=UTC)
    rows = [dict(id=number, text=text, at=None if number % 3 else at, day=date(2026, 12, number + 1),
                 flag=None if number % 4 == 1 else number % 2 == 0, ratio=number / 7 if number % 5 else None)
            for number, text in enumerate(texts)]
    engine = create_engine(pg_url)
    table.metadata.create_all(engine)
    with engine.begin() as conn:
        copied = projections._copy(conn, table, rows)
    with engine.connect() as conn:
        stored = [dict(row) for row in conn.execute(select(table).order_by(table.c.id)).mappings()]
    engine.dispose()
    assert copied
    assert stored == rows

"""Read models rebuilt in large batches (COPY on PostgreSQL) equal those kept up event by event."""

from sqlalchemy import create_engine

from services.grid_events.application import GridEventsApplication
from shared import projections
from tests.unit.fast_path_support import REPORTS, incremental_then_rebuilt, varied_history


def test_rebuild_equals_incremental_on_postgresql(pg_url, monkeypatch):
    copied = []
    real_copy = projections._copy
    monkeypatch.setattr(projections, "_copy", lambda conn, table, rows: copied.append(table.name) or
                        real_copy(conn, table, rows))
    app = GridEventsApplication(env={"PERSISTENCE_MODULE": "eventsourcing_sqlalchemy", "SQLALCHEMY_URL": pg_url})
    varied_history(app)
    engine = create_engine(pg_url)
    incremental, rebuilt = incremental_then_rebuilt(app, engine)
    engine.dispose()
    assert rebuilt == incremental
    assert len(rebuilt["grid_event_reports_view"]) == REPORTS
    assert "grid_event_reports_view" in copied  # the rebuild took the COPY path

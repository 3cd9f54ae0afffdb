"""A list of grid events on PostgreSQL: the reports' counts kept per scope equal the rows
(docs/services/grid_events.md, "Lists")."""

import pytest
from sqlalchemy import create_engine, func, select

from services.grid_events import projections as views
from services.grid_events.application import GridEventsApplication
from services.grid_events.projections.reports import report_counts, reports
from shared.jurisdiction import PREFIX_LENGTHS
from shared.projections import Projector, create_view_tables
from tests.unit.fast_path_support import varied_history
from tests.unit.grid_support import GRID


@pytest.fixture
def engine(pg_url):
    engine = create_engine(pg_url)
    yield engine
    engine.dispose()


def projected(pg_url, engine, history):
    app = GridEventsApplication(env={"PERSISTENCE_MODULE": "eventsourcing_sqlalchemy", "SQLALCHEMY_URL": pg_url})
    history(app)
    projections = views.projections()
    create_view_tables(engine, projections)
    Projector(app, engine, projections).catch_up()


def test_report_counts_kept_on_postgresql_equal_the_rows_of_each_scope(pg_url, engine):
    projected(pg_url, engine, varied_history)
    with engine.connect() as conn:
        kept = dict(conn.execute(select(report_counts.c.prefix, report_counts.c.reports)).all())
        counted = {}
        for length in PREFIX_LENGTHS:
            prefix = func.substr(reports.c.grid_code, 1, length)
            counted.update(conn.execute(select(prefix, func.count()).group_by(prefix)).all())
    assert kept == counted and kept[GRID] > 0

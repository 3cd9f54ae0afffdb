"""A list of grid events on PostgreSQL: the reports' counts kept per scope equal the rows, and a narrow
scope's page is read from its range of the grid-code index (docs/services/grid_events.md, "Lists")."""

import psycopg2
import pytest
from sqlalchemy import create_engine, func, select

from services.grid_events import projections as views
from services.grid_events.application import GridEventsApplication
from services.grid_events.projections.reports import report_counts, reports
from shared.jurisdiction import PREFIX_LENGTHS
from shared.projections import Projector, create_view_tables
from tests.unit.fast_path_support import varied_history
from tests.unit.grid_support import GRID, OTHER_GRID, World


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


def few_among_many(app):
    world = World()
    world.app = app
    world.seed()
    for _ in range(3):
        world.report(grid_code=OTHER_GRID)


def test_list_events_of_a_narrow_scope_reads_its_grid_code_range(pg_url, engine):
    projected(pg_url, engine, few_among_many)
    page = views.events_query(OTHER_GRID, None, None).limit(50)
    sql = str(page.compile(engine, compile_kwargs={"literal_binds": True})).replace("%%", "%")
    conn = psycopg2.connect(pg_url.replace("+psycopg2", ""))
    cursor = conn.cursor()
    cursor.execute("SET enable_seqscan = off")  # a few test rows: a scan would win on cost alone
    cursor.execute("EXPLAIN " + sql)
    plan = "\n".join(line for (line,) in cursor.fetchall())
    conn.close()
    assert "ix_grid_event_reports_view_grid_code" in plan and "Index Cond" in plan

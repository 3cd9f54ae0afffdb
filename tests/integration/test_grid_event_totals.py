"""A list of grid events on PostgreSQL: the reports' counts kept per scope equal the rows, and a narrow
scope's page is read from its range of the grid-code index (docs/services/grid_events.md, "Lists")."""

import threading

import eventlet
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


def stored_app(pg_url):
    return GridEventsApplication(env={"PERSISTENCE_MODULE": "eventsourcing_sqlalchemy", "SQLALCHEMY_URL": pg_url})


def projected(pg_url, engine, history):
    app = stored_app(pg_url)
    history(app)
    projections = views.projections()
    create_view_tables(engine, projections)
    Projector(app, engine, projections).catch_up()


def kept_and_counted(engine) -> tuple[dict, dict]:
    """The counts the read model keeps per scope prefix, and the same counted from its rows."""
    with engine.connect() as conn:
        kept = dict(conn.execute(select(report_counts.c.prefix, report_counts.c.reports)).all())
        counted = {}
        for length in PREFIX_LENGTHS:
            prefix = func.substr(reports.c.grid_code, 1, length)
            counted.update(conn.execute(select(prefix, func.count()).group_by(prefix)).all())
    return kept, counted


def test_report_counts_kept_on_postgresql_equal_the_rows_of_each_scope(pg_url, engine):
    projected(pg_url, engine, varied_history)
    kept, counted = kept_and_counted(engine)
    assert kept == counted and kept[GRID] > 0


def test_report_counts_kept_by_two_replicas_and_a_restart_equal_the_rows(pg_url, engine):
    """Two replicas follow the log at once while reports arrive, one stops half-way and a new one starts
    in its place: every report is counted once in every scope it lies in."""
    world = World()
    world.app = stored_app(pg_url)
    world.seed()
    create_view_tables(engine, views.projections())
    stopping = [threading.Event() for _ in range(3)]

    def replica(stop: threading.Event) -> None:
        replica_engine = create_engine(pg_url)
        projector = Projector(stored_app(pg_url), replica_engine, views.projections())
        while not stop.is_set():
            projector.catch_up()
            eventlet.sleep(0)
        replica_engine.dispose()

    running = [eventlet.spawn(replica, stopping[0]), eventlet.spawn(replica, stopping[1])]
    made = []
    for number in range(60):
        made.append(world.report(grid_code=GRID if number % 3 else OTHER_GRID))
        eventlet.sleep(0)
        if number == 30:  # one replica goes, another comes in mid-stream
            stopping[0].set()
            running[0].wait()
            running.append(eventlet.spawn(replica, stopping[2]))
    for stop in stopping:
        stop.set()
    for thread in running:
        thread.wait()
    Projector(world.app, engine, views.projections()).catch_up()
    kept, counted = kept_and_counted(engine)
    assert kept == counted
    with engine.connect() as conn:
        rows = set(conn.execute(select(reports.c.event_id)).scalars())
    assert set(made) <= rows and kept[GRID[:6]] == len(rows)


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

"""The fast paths of read models (batched passes, bulk inserts, large-batch rebuilds) give the
same rows as applying one event at a time; here on SQLite, in tests/integration on PostgreSQL."""

from sqlalchemy import create_engine, insert

from services.grid_events.application import GridEventsApplication
from shared.projections import BatchedInserts

from .fast_path_support import ALL_REPORTS, incremental_then_rebuilt, varied_history


def test_rebuild_equals_incremental_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'grid.db'}"
    app = GridEventsApplication(env={"PERSISTENCE_MODULE": "eventsourcing_sqlalchemy", "SQLALCHEMY_URL": url})
    varied_history(app)
    incremental, rebuilt = incremental_then_rebuilt(app, create_engine(url))
    assert rebuilt == incremental
    assert len(rebuilt["grid_event_reports_view"]) == ALL_REPORTS


def test_batched_inserts_send_held_rows_before_any_other_statement():
    from sqlalchemy import Column, Integer, MetaData, String, Table, select, update

    table = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("name", String))
    engine = create_engine("sqlite://")
    table.metadata.create_all(engine)
    with engine.begin() as conn:
        batched = BatchedInserts(conn)
        batched.execute(insert(table), dict(id=1, name="a"))
        batched.execute(insert(table).values(id=2, name="b"))
        batched.execute(update(table).where(table.c.id == 2).values(name="B"))  # must see row 2
        batched.execute(insert(table), dict(id=3, name="c"))
        seen = batched.execute(select(table.c.name).order_by(table.c.id)).scalars().all()
    assert seen == ["a", "B", "c"]


def test_page_of_total_is_exact_on_full_short_and_empty_pages():
    from sqlalchemy import Column, Integer, MetaData, Table, select

    from shared.projections import page_of

    table = Table("t", MetaData(), Column("id", Integer, primary_key=True))
    engine = create_engine("sqlite://")
    table.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(table), [{"id": n} for n in range(1, 8)])
        query = select(table).order_by(table.c.id)
        pages = [page_of(conn, query, page, 3) for page in (1, 3, 4)]
    assert [(len(p["items"]), p["total"]) for p in pages] == [(3, 7), (1, 7), (0, 7)]

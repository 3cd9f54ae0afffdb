"""Read models follow the log from their own position; a rebuild gives the same tables."""

import os
import subprocess
import sys
from uuid import UUID

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select

from shared.errors import ReadModelStalled
from shared.projections import Projection, ProjectionRunner, Projector, create_view_tables, handles, positions
from tests.unit.kernel_fixtures import CALL, Ticket, TicketsView, memory_app, tickets


def rows(engine):
    with engine.connect() as conn:
        return sorted(tuple(row) for row in conn.execute(select(tickets)))


def runner_for(app, tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'views.sqlite'}")
    create_view_tables(engine, [TicketsView()])
    return ProjectionRunner(app, engine, TicketsView()), engine


def test_projection_catch_up_shows_every_stored_change(tmp_path):
    app = memory_app()
    first = app.open(CALL, "one")["ticket_id"]
    second = app.open(CALL, "two")["ticket_id"]
    app.close_ticket(CALL, UUID(first))
    runner, engine = runner_for(app, tmp_path)
    assert runner.catch_up() == 3
    assert rows(engine) == sorted([(first, "one", 1), (second, "two", 0)])


def test_projection_catch_up_applies_nothing_twice(tmp_path):
    app = memory_app()
    app.open(CALL, "one")
    runner, engine = runner_for(app, tmp_path)
    runner.catch_up()
    assert runner.catch_up() == 0
    assert len(rows(engine)) == 1


def test_projection_position_is_stored_with_its_rows(tmp_path):
    app = memory_app()
    app.open(CALL, "one")
    app.open(CALL, "two")
    runner, engine = runner_for(app, tmp_path)
    runner.catch_up()
    with engine.connect() as conn:
        position = conn.execute(
            select(positions.c.position).where(positions.c.name == "projection:tickets.view")
        ).scalar_one()
    assert position == app.recorder.max_notification_id()
    assert runner.lag() == 0


def test_projection_rebuild_gives_same_tables(tmp_path):
    app = memory_app()
    for title in ("one", "two", "three"):
        ticket = UUID(app.open(CALL, title)["ticket_id"])
    app.close_ticket(CALL, ticket)
    runner, engine = runner_for(app, tmp_path)
    runner.catch_up()
    before = rows(engine)
    progress = []
    runner.rebuild(lambda done, total: progress.append((done, total)))
    assert rows(engine) == before
    assert progress[-1] == (4, 4)


def test_projection_whose_tables_change_shape_is_rebuilt_from_log(tmp_path):
    from sqlalchemy import Column, Integer, MetaData, String, Table, insert

    from shared.projections import Projection, handles
    from tests.unit.kernel_fixtures import Ticket

    app = memory_app()
    app.open(CALL, "one")
    runner, engine = runner_for(app, tmp_path)
    runner.catch_up()

    wider = Table(
        "tickets_view",
        MetaData(),
        Column("ticket_id", String(36), primary_key=True),
        Column("title", String(100)),
        Column("closed", Integer),
        Column("title_length", Integer),
    )

    class WiderTicketsView(Projection):
        name = "tickets.view"
        tables = [wider]

        @handles(Ticket.Opened)
        def on_opened(self, event, conn):
            conn.execute(
                insert(wider).values(
                    ticket_id=str(event.originator_id), title=event.title, closed=0, title_length=len(event.title)
                )
            )

    assert create_view_tables(engine, [WiderTicketsView()], rebuild=True) == ["tickets.view"]
    ProjectionRunner(app, engine, WiderTicketsView()).catch_up()
    with engine.connect() as conn:
        assert [tuple(row)[1:] for row in conn.execute(select(wider))] == [("one", 0, 3)]


def test_changed_shape_without_migration_is_reported_and_nothing_dropped(tmp_path):
    app = memory_app()
    app.open(CALL, "one")
    runner, engine = runner_for(app, tmp_path)
    runner.catch_up()

    class RenamedColumnView(TicketsView):
        tables = [
            Table(
                "tickets_view",
                MetaData(),
                Column("ticket_id", String(36), primary_key=True),
                Column("headline", String(100)),
                Column("closed", Integer),
            )
        ]

    assert create_view_tables(engine, [RenamedColumnView()]) == ["tickets.view"]
    assert len(rows(engine)) == 1 and position_of(engine) == 1


def test_projection_with_unchanged_tables_is_kept(tmp_path):
    app = memory_app()
    app.open(CALL, "one")
    runner, engine = runner_for(app, tmp_path)
    runner.catch_up()
    assert create_view_tables(engine, [TicketsView()]) == []
    assert runner.catch_up() == 0 and len(rows(engine)) == 1


def test_projector_feeds_a_rebuilt_projection_from_its_own_position(tmp_path):
    from shared.projections import Projector

    app = memory_app()
    app.open(CALL, "one")
    app.open(CALL, "two")
    engine = create_engine(f"sqlite:///{tmp_path / 'views.sqlite'}")
    create_view_tables(engine, [TicketsView()])
    projector = Projector(app, engine, [TicketsView()])
    assert projector.catch_up() == 2
    with engine.begin() as conn:
        TicketsView().clear(conn)
        conn.execute(positions.update().where(positions.c.name == "projection:tickets.view").values(position=0))
    app.open(CALL, "three")
    projector.catch_up()
    assert sorted(row[1] for row in rows(engine)) == ["one", "three", "two"]


def position_of(engine, name="projection:tickets.view"):
    with engine.connect() as conn:
        return conn.execute(select(positions.c.position).where(positions.c.name == name)).scalar_one()


def test_projector_never_moves_a_position_back(tmp_path):
    app = memory_app()
    for title in ("one", "two", "three"):
        app.open(CALL, title)
    engine = create_engine(f"sqlite:///{tmp_path / 'views.sqlite'}")
    create_view_tables(engine, [TicketsView(), TitlesView()])
    ProjectionRunner(app, engine, TitlesView()).catch_up()  # titles ahead, at 3
    with engine.begin() as conn:  # tickets behind, at 1 (as during a rebuild)
        conn.execute(positions.update().where(positions.c.name == "projection:tickets.view").values(position=1))
    projector = Projector(app, engine, [TicketsView(), TitlesView()])
    projector.batch_size = 1  # a batch that ends below where titles already is
    projector.catch_up()
    assert (position_of(engine), position_of(engine, "projection:titles.view")) == (3, 3)


FINGERPRINT = """
from sqlalchemy import Column, Index, Integer, MetaData, String, Table
from sqlalchemy.dialects import postgresql
from shared.projections import schema_fingerprint
t = Table("t", MetaData(), Column("a", String(5)), Column("b", Integer), Column("c", Integer),
          *[Index(f"ix_{n}", n) for n in "abc"], Index("ix_ab", "a", "b"), Index("ix_bc", "b", "c"))
print(schema_fingerprint([t], postgresql.dialect()))
"""


def test_schema_fingerprint_is_the_same_in_every_process():
    seen = {
        subprocess.run(
            [sys.executable, "-c", FINGERPRINT],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
        ).stdout
        for seed in (1, 2, 3, 4)
    }
    assert len(seen) == 1


titles = Table("titles_view", MetaData(), Column("title", String(100), primary_key=True))


class TitlesView(Projection):
    """Fails on a title it cannot hold, as PostgreSQL fails on a NUL."""

    name = "titles.view"
    tables = [titles]

    @handles(Ticket.Opened)
    def on_opened(self, event, conn):
        if event.title == "poison":
            raise ValueError("cannot hold this title")
        conn.execute(insert(titles).values(title=event.title))


def stalled_setup(tmp_path):
    app = memory_app()
    for title in ("one", "poison", "three"):
        app.open(CALL, title)
    engine = create_engine(f"sqlite:///{tmp_path / 'views.sqlite'}")
    create_view_tables(engine, [TicketsView(), TitlesView()])
    stalls = []
    projector = Projector(app, engine, [TicketsView(), TitlesView()], on_stall=stalls.append)
    projector.catch_up()
    return app, engine, projector, stalls


def test_projection_that_cannot_apply_an_event_stalls_alone(tmp_path):
    app, engine, projector, stalls = stalled_setup(tmp_path)
    app.open(CALL, "four")
    projector.catch_up()
    assert (len(rows(engine)), position_of(engine)) == (4, 4)
    assert position_of(engine, "projection:titles.view") == 1 and stalls == ["titles.view"]


def test_query_on_stalled_projection_raises_read_model_stalled(tmp_path):
    _, engine, projector, _ = stalled_setup(tmp_path)
    with engine.connect() as conn, projector.guard(conn), pytest.raises(ReadModelStalled, match="titles.view"):
        conn.execute(select(titles))


def test_query_on_healthy_projection_reads_while_another_is_stalled(tmp_path):
    _, engine, projector, _ = stalled_setup(tmp_path)
    with engine.connect() as conn, projector.guard(conn):
        assert len(conn.execute(select(tickets)).all()) == 3


def test_query_catch_up_after_audited_reads_still_shows_a_new_change(tmp_path):
    """Audit records of reads (no projection handles them) are passed over by a query's check, and a change
    stored after them is still projected before the next query reads (SQLite, the indexed check)."""
    from shared.security.audit_log import ALLOWED, AuditTrail
    from tests.unit.kernel_fixtures import sqlite_app

    app = sqlite_app(tmp_path / "events.sqlite")
    engine = create_engine(f"sqlite:///{tmp_path / 'views.sqlite'}")
    create_view_tables(engine, [TicketsView()])
    projector = Projector(app, engine, [TicketsView()])
    first = app.open(CALL, "one")["ticket_id"]
    assert projector.catch_up_for_query() == 1
    trail = AuditTrail(app)
    for n in range(3):
        trail.record(CALL, "list tickets", "ticket", [f"t-{n}"], None, ALLOWED)
        assert projector.catch_up_for_query() == 0
    second = app.open(CALL, "two")["ticket_id"]
    projector.catch_up_for_query()
    assert rows(engine) == sorted([(first, "one", 0), (second, "two", 0)])


def test_rebuild_that_fails_leaves_the_cycle_collector_running(tmp_path):
    import gc

    app, engine, _, _ = stalled_setup(tmp_path)
    with pytest.raises(ValueError):  # the poisoned title: a rebuild raises the handler's error
        Projector(app, engine, [TitlesView()]).rebuild()
    assert gc.isenabled()

"""Read models follow the log from their own position; a rebuild gives the same tables."""

from uuid import UUID

from sqlalchemy import create_engine, select

from shared.projections import ProjectionRunner, create_view_tables, positions
from tests.unit.kernel_fixtures import CALL, TicketsView, memory_app, tickets


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
        position = conn.execute(select(positions.c.position).where(positions.c.name == "projection:tickets.view")).scalar_one()
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

    from shared.projections import handles, Projection
    from tests.unit.kernel_fixtures import Ticket

    app = memory_app()
    app.open(CALL, "one")
    runner, engine = runner_for(app, tmp_path)
    runner.catch_up()

    wider = Table("tickets_view", MetaData(), Column("ticket_id", String(36), primary_key=True),
                  Column("title", String(100)), Column("closed", Integer), Column("title_length", Integer))

    class WiderTicketsView(Projection):
        name = "tickets.view"
        tables = [wider]

        @handles(Ticket.Opened)
        def on_opened(self, event, conn):
            conn.execute(insert(wider).values(ticket_id=str(event.originator_id), title=event.title, closed=0,
                                              title_length=len(event.title)))

    assert create_view_tables(engine, [WiderTicketsView()]) == ["tickets.view"]
    ProjectionRunner(app, engine, WiderTicketsView()).catch_up()
    with engine.connect() as conn:
        assert [tuple(row)[1:] for row in conn.execute(select(wider))] == [("one", 0, 3)]


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

"""Read models on PostgreSQL: positions that only move forward, starts that drop nothing,
migrations that take turns."""

import os
import subprocess
import sys
from pathlib import Path

import eventlet
import pytest
from sqlalchemy import create_engine, func, select, text

from shared.projections import ProjectionRunner, Projector, create_view_tables, positions
from tests.unit.kernel_fixtures import CALL, TicketsApplication, TicketsView, tickets
from tests.unit.test_projections import TitlesView, titles

pytestmark = pytest.mark.integration

PINGAN = str(Path(sys.executable).with_name("pingan"))


def read_positions(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(conn.execute(select(positions.c.name, positions.c.position)).all())


def test_positions_never_decrease_under_concurrent_catch_up_and_live_rebuild(pg_url):
    app = TicketsApplication(env={"PERSISTENCE_MODULE": "eventsourcing_sqlalchemy", "SQLALCHEMY_URL": pg_url})
    engine = create_engine(pg_url, pool_size=10)
    views = [TicketsView(), TitlesView()]
    create_view_tables(engine, views, rebuild=True)
    for n in range(450):
        app.open(CALL, f"t{n}")
    replicas = [Projector(app, engine, views) for _ in range(2)]
    samples: list[dict[str, int]] = []
    done = eventlet.event.Event()

    def watch():
        while not done.ready():
            samples.append(read_positions(engine))
            eventlet.sleep(0.01)

    def write_more():
        for n in range(450, 600):
            app.open(CALL, f"t{n}")

    def catch_up(projector):
        for _ in range(20):
            projector.catch_up()
            eventlet.sleep(0)

    watcher = eventlet.spawn(watch)
    workers = [eventlet.spawn(catch_up, p) for p in replicas] + [eventlet.spawn(write_more)]
    workers.append(eventlet.spawn(ProjectionRunner(app, engine, TitlesView()).rebuild))
    for worker in workers:
        worker.wait()
    replicas[0].catch_up()
    done.send()
    watcher.wait()
    samples.append(read_positions(engine))

    followed = [s["projection:tickets.view"] for s in samples if "projection:tickets.view" in s]
    assert followed == sorted(followed)  # never back, even while the other projection was rebuilt
    after_reset = [s["projection:titles.view"] for s in samples if "projection:titles.view" in s]
    after_reset = after_reset[max(i for i, p in enumerate(after_reset) if p == 0):]
    assert after_reset == sorted(after_reset)
    with engine.connect() as conn:
        counts = [conn.execute(select(func.count()).select_from(t)).scalar_one() for t in (tickets, titles)]
    assert counts == [600, 600] and set(samples[-1].values()) == {600}


def start_store(pg_url: str, seed: int) -> str:
    """Open grid_events' store as `pingan serve` does, in a fresh process with its own hash seed."""
    code = ("from shared.config import load_settings\nfrom shared.dependencies import open_store\n"
            "from services.grid_events.service import GridEventsService as S\n"
            "s = open_store('grid_events', S.store.application_class, S.store.projections, load_settings())\n"
            "print(','.join(s.unknown_shapes))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PINGAN_DATABASE_URL": pg_url, "PYTHONHASHSEED": str(seed)})
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def table_state(engine) -> tuple:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT count(*) FROM grid_jurisdictions_view")).scalar_one()
        query = select(positions.c.name, positions.c.position).where(positions.c.name.like("projection:%"))
        return rows, dict(conn.execute(query).all())


def migrate(pg_url: str, seed: int = 0) -> subprocess.Popen:
    return subprocess.Popen([PINGAN, "migrate", "grid_events"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PINGAN_DATABASE_URL": pg_url,
                                            "PYTHONHASHSEED": str(seed)})


def test_process_start_with_unchanged_tables_drops_nothing(pg_url):
    assert migrate(pg_url, seed=1).wait(timeout=120) == 0
    engine = create_engine(pg_url)
    with engine.begin() as conn:  # a row and a position as a running service leaves them
        conn.execute(text("INSERT INTO grid_jurisdictions_view (code, jurisdiction_id, name, level) "
                          "VALUES ('433100', 'j-1', 'x', 'prefecture')"))
        conn.execute(positions.update().values(position=7))
    before = table_state(engine)
    assert [start_store(pg_url, seed) for seed in (2, 3)] == ["", ""]
    assert table_state(engine) == before


def test_concurrent_migrations_both_succeed(pg_url):
    runs = [migrate(pg_url, seed) for seed in (4, 5)]
    results = [(run.wait(timeout=180), run.stderr.read()) for run in runs]
    assert [code for code, _ in results] == [0, 0], results


def test_service_finding_unknown_table_shape_is_not_ready_and_drops_nothing(pg_url, container_factory,
                                                                           service_config, web_config_port):
    import requests

    from services.grid_events.service import GridEventsService
    from shared.projections import projection_schemas

    assert migrate(pg_url).wait(timeout=120) == 0
    engine = create_engine(pg_url)
    with engine.begin() as conn:  # as if the tables were made by another version of the service
        conn.execute(text("INSERT INTO grid_jurisdictions_view (code, jurisdiction_id, name, level) "
                          "VALUES ('433100', 'j-1', 'x', 'prefecture')"))
        conn.execute(projection_schemas.update().where(projection_schemas.c.name == "grid_events.registry")
                     .values(fingerprint="another shape"))
    before = table_state(engine)
    container_factory(GridEventsService, service_config).start()
    ready = requests.get(f"http://127.0.0.1:{web_config_port}/ready", timeout=10)
    assert ready.status_code == 503 and "pingan migrate" in ready.json()["stalled_projections"]["grid_events.registry"]
    assert table_state(engine) == before

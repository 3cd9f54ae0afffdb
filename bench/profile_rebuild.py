"""Profile a rebuild of every grid_events read model on PostgreSQL, without nameko.

``python -m bench.profile_rebuild [events] [--profile]``: a fresh database holds a varied
history (tests/unit/fast_path_support.py) and ``events`` more stored reports loaded in bulk as
`make bench` loads them (bench/history.py); prints the raw scan and the rebuild side by side
(best of 3 each) and, with ``--profile``, cProfile's top functions of one rebuild.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sys
import time
import uuid

import psycopg2

from bench.history import PG, load_history, raw_scan

TEST_CHAIN_KEY = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="  # base64 of 32 bytes of 1: bench only
TEST_PERSONAL_DATA_KEY = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="  # base64 of 32 zero bytes: bench only


def stages(app, engine, projections) -> str:
    """Wall time of one rebuild's parts: reading the log, decoding, the handlers, COPY (with sealing), building
    the indexes set aside for the load."""
    from shared import projections as module
    from shared import read_model_indexes

    spent = dict(read=0.0, decode=0.0, copy=0.0, apply=0.0, indexes=0.0)

    def timed(name, function):
        def run(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - started
        return run

    real = module._select_notifications, app.mapper.to_domain_event, module._copy, module.Projection.apply_batch
    real_create = read_model_indexes.create
    read_model_indexes.create = timed("indexes", real_create)
    module._select_notifications = timed("read", real[0])
    app.mapper.to_domain_event = timed("decode", real[1])
    module._copy = timed("copy", real[2])
    module.Projection.apply_batch = timed("apply", real[3])
    try:
        started = time.perf_counter()
        module.Projector(app, engine, projections).rebuild()
        total = time.perf_counter() - started
    finally:
        module._select_notifications, app.mapper.to_domain_event, module._copy, module.Projection.apply_batch = real
        read_model_indexes.create = real_create
    spent["handlers"] = spent.pop("apply") - spent["copy"]
    return f"one rebuild {total:.2f} s: " + ", ".join(f"{k} {v:.2f} s" for k, v in spent.items()) + \
        f", the rest {total - sum(spent.values()):.2f} s"


def copy_with_and_without_indexes(database: str) -> str:
    """The server's own share of the reports' COPY: their rows copied again (as text, no Python)
    into a table with every index of the read model, then into one with its primary key only."""
    import io

    conn = psycopg2.connect(dbname=database, **PG)
    cursor = conn.cursor()
    text = io.StringIO()
    cursor.copy_expert("COPY grid_event_reports_view TO STDOUT", text)
    spent = {}
    for shape in ("INCLUDING ALL", "INCLUDING DEFAULTS"):
        cursor.execute("DROP TABLE IF EXISTS copy_probe")
        cursor.execute(f"CREATE TABLE copy_probe (LIKE grid_event_reports_view {shape})")
        if shape == "INCLUDING DEFAULTS":
            cursor.execute("ALTER TABLE copy_probe ADD PRIMARY KEY (event_id)")
        conn.commit()
        text.seek(0)
        started = time.perf_counter()
        cursor.copy_expert("COPY copy_probe FROM STDIN", text)
        conn.commit()
        spent[shape] = time.perf_counter() - started
    # The same load with the primary key only, then the other indexes built once (as a rebuild by the owner).
    cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'grid_event_reports_view' "
                   "AND indexname NOT LIKE '%pkey'")
    definitions = [row[0].replace("grid_event_reports_view", "copy_probe", 1).replace(" ix_", " probe_ix_", 1)
                   for row in cursor.fetchall()]
    started = time.perf_counter()
    for definition in definitions:
        cursor.execute(definition)
    conn.commit()
    spent["after"] = time.perf_counter() - started
    conn.close()
    return (f"server-side COPY of the reports' rows: {spent['INCLUDING ALL']:.2f} s with every index, "
            f"{spent['INCLUDING DEFAULTS']:.2f} s with the primary key only, then its {len(definitions)} "
            f"other indexes built in {spent['after']:.2f} s")


def main() -> None:
    events = int(next((a for a in sys.argv[1:] if a.isdigit()), "20000"))
    name = f"pingan_profile_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(dbname="postgres", **PG)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg2://pingan:pingan@127.0.0.1:5432/{name}"
    os.environ.update(PINGAN_CHAIN_KEY=TEST_CHAIN_KEY, PINGAN_PERSONAL_DATA_KEY=TEST_PERSONAL_DATA_KEY,
                      PINGAN_DATABASE_URL=url)
    try:
        from sqlalchemy import create_engine

        from services.grid_events import projections as views
        from services.grid_events.application import GridEventsApplication
        from shared.projections import Projector, create_view_tables
        from tests.unit.fast_path_support import varied_history

        app = GridEventsApplication(env={"PERSISTENCE_MODULE": "eventsourcing_sqlalchemy", "SQLALCHEMY_URL": url})
        varied_history(app)
        engine = create_engine(url)
        projections = views.projections()
        create_view_tables(engine, projections)
        load_history(name, "grid_events", events)
        scans, rebuilds = [], []
        for _ in range(3):
            scans.append(raw_scan(name, "grid_events")[0])
            started, cpu = time.perf_counter(), time.process_time()
            Projector(app, engine, projections).rebuild()
            rebuilds.append((time.perf_counter() - started, time.process_time() - cpu))
        stored = app.recorder.max_notification_id()
        wall, cpu = min(rebuilds)
        # What the rebuild's own process spent on a core: the rest of its wall time it waited (on the server,
        # or for a core), the most a second thread overlapping the server could win back.
        print(f"load average {os.getloadavg()[0]:.1f}; {stored:,} events; raw scan {min(scans):.3f} s; "
              f"rebuild {wall:.2f} s (its process on a core {cpu:.2f} s); "
              f"rebuild {min(scans) / wall:.3f}× the raw scan")
        if "--stages" in sys.argv:
            print(stages(app, engine, projections))
        if "--indexes" in sys.argv:
            print(copy_with_and_without_indexes(name))
        if "--profile" in sys.argv:
            profiler = cProfile.Profile()
            profiler.enable()
            Projector(app, engine, projections).rebuild()
            profiler.disable()
            stats = pstats.Stats(profiler)
            stats.sort_stats("tottime").print_stats(25)
            stats.sort_stats("cumulative").print_stats(40)
        engine.dispose()
    finally:
        cursor = admin.cursor()
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    main()

"""A service's log with a long history: loaded in bulk, scanned raw, and its read models rebuilt.

Run as its own process by `make bench` (``python -m bench.history <service> <database> <events>``),
so the rebuild runs as `pingan rebuild` does (no eventlet), and prints one JSON line: the raw scan
and the rebuild of the same events table, each in seconds.
"""

from __future__ import annotations

import json
import statistics
import sys
import time

import psycopg2

PG = dict(user="pingan", password="pingan", host="127.0.0.1", port=5432)


def load_history(database: str, service: str, events: int) -> int:
    """Copy the newest stored report ``events`` times, each a new record (bench history, not a chained log).

    The relay's position is moved past them: they stand for history published long ago, not a backlog."""
    conn = psycopg2.connect(dbname=database, **PG)
    cursor = conn.cursor()
    table = f"{service}_events"
    cursor.execute(f"SELECT topic, state FROM {table} WHERE topic LIKE %s ORDER BY id DESC LIMIT 1",
                   ("%EventReport.Reported",))
    topic, state = cursor.fetchone()
    cursor.execute(f"INSERT INTO {table} (originator_id, originator_version, topic, state) "
                   "SELECT gen_random_uuid(), 1, %s, %s FROM generate_series(1, %s)", (topic, state, events))
    cursor.execute(f"SELECT max(id) FROM {table}")
    last = cursor.fetchone()[0]
    cursor.execute("UPDATE pingan_positions SET position = %s WHERE name = %s", (last, f"relay:{service}"))
    conn.commit()
    cursor.execute(f"ANALYZE {table}")
    conn.commit()
    conn.close()
    return last


def raw_scan(database: str, service: str) -> tuple[float, int]:
    """Every stored event's columns fetched in id order by a plain SELECT (the baseline a rebuild is held to)."""
    conn = psycopg2.connect(dbname=database, **PG)
    cursor = conn.cursor()
    started = time.perf_counter()
    cursor.execute(f"SELECT id, originator_id, originator_version, topic, state FROM {service}_events ORDER BY id")
    count = len(cursor.fetchall())
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed, count


def rebuild(service: str) -> float:
    """Every read model of ``service`` cleared and refilled from its log (the `pingan rebuild` path)."""
    from shared.config import load_settings
    from shared.dependencies import open_store
    from shared.projections import Projector
    from shared.registry import service_class

    store = service_class(service).store
    opened = open_store(service, store.application_class, store.projections, load_settings())
    started = time.perf_counter()
    Projector(opened.app, opened.engine, store.projections).rebuild()
    elapsed = time.perf_counter() - started
    opened.engine.dispose()
    return elapsed


def largest_aggregate(service: str, database: str) -> dict:
    """The aggregate with the most events in the log, and how long a cold load of it takes (no cache):
    what a command pays at most for an aggregate it reads, however long the log."""
    from shared.config import load_settings
    from shared.dependencies import open_store
    from shared.registry import service_class

    conn = psycopg2.connect(dbname=database, **PG)
    cursor = conn.cursor()
    cursor.execute(f"SELECT originator_id, originator_version, topic FROM {service}_events "
                   "ORDER BY originator_version DESC, id LIMIT 1")
    originator_id, version, topic = cursor.fetchone()
    conn.close()
    store = service_class(service).store
    opened = open_store(service, store.application_class, store.projections, load_settings())
    started = time.perf_counter()
    opened.app.repository.get(originator_id)  # a fresh application: nothing cached
    elapsed = time.perf_counter() - started
    opened.engine.dispose()
    return {"events": version, "kind": topic.split(":")[-1].split(".")[0], "seconds": elapsed}


def main() -> None:
    service, database = sys.argv[1], sys.argv[2]
    scans = [raw_scan(database, service) for _ in range(3)]
    seconds = rebuild(service)
    print(json.dumps({"events": scans[0][1], "raw_scan": statistics.median(s for s, _ in scans), "rebuild": seconds,
                      "largest_aggregate": largest_aggregate(service, database)}))


if __name__ == "__main__":
    main()

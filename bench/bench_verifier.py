"""Verifier speed beside a raw scan of the same table, on PostgreSQL.

    .venv/bin/python bench/bench_verifier.py [--events 100000] [--repeat 3]

Creates a throwaway database, stores genuine grid_events events, copies them
in bulk under fresh ids, checkpoints, then times (medians of --repeat runs):
a raw streamed scan of the rows, the chain hash alone, and the full verify.
Prints a markdown table; the database is dropped afterwards.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid

import psycopg2
from sqlalchemy import create_engine

from services.grid_events import contracts as c
from services.grid_events.application import GridEventsApplication
from shared.context import CallerContext, Role
from shared.eventstore import Call
from shared.security.chain import (
    CheckpointStore, EventRows, generate_signing_key, genesis, link, load_private_key, load_public_key,
    make_checkpoint,
)
from shared.security.verifier import verify

ADMIN_DSN = "dbname=postgres user=pingan password=pingan host=127.0.0.1 port=5432"


def fill(url: str, events: int) -> None:
    app = GridEventsApplication(env={"PERSISTENCE_MODULE": "eventsourcing_sqlalchemy", "SQLALCHEMY_URL": url})
    call = Call(CallerContext(actor_id="bench", role=Role.ADMIN, jurisdiction="433100"), "bench")
    app.register_jurisdiction(call, c.RegisterJurisdiction(code="433100", name="Xiangxi"))
    app.register_jurisdiction(call, c.RegisterJurisdiction(code="433101", name="Jishou"))
    for n in range(1, 99):
        app.register_jurisdiction(call, c.RegisterJurisdiction(code=f"433101{n:03d}", name=f"township {n}"))
    copies = max(1, -(-events // 100) - 1)
    with psycopg2.connect(url.replace("postgresql+psycopg2://", "postgresql://")) as conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO grid_events_events (originator_id, originator_version, topic, state) "
            "SELECT gen_random_uuid(), e.originator_version, e.topic, e.state "
            "FROM grid_events_events e, generate_series(1, %s)", (copies,))


def timed(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def measure(events: int = 100_000, repeat: int = 3) -> list[str]:
    """The markdown lines of the verifier table (``make bench`` appends them to docs/benchmarks.md)."""
    name = f"pingan_bench_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(ADMIN_DSN)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg2://pingan:pingan@127.0.0.1:5432/{name}"
    engine = create_engine(url)
    try:
        fill(url, events)
        rows = EventRows(engine, "grid_events")
        total = rows.count()
        private, public = generate_signing_key()
        with tempfile.TemporaryDirectory() as folder:
            store = CheckpointStore(folder, "grid_events")
            make_checkpoint(rows, store, load_private_key(private))

            def scan():
                size = 0
                for row in rows.rows():
                    size += len(row[4])

            def chain_only():
                head = genesis("grid_events")
                for row in rows.rows():
                    head = link(head, *row)

            def full():
                report = verify(rows, store, load_public_key(public))
                if not report.ok:
                    raise SystemExit(f"false alarm: {report.finding}")

            results = {}
            for label, run in (("raw scan (stream rows)", scan), ("scan + chain hash", chain_only),
                               ("verify (chain + checkpoints)", full)):
                results[label] = statistics.median(timed(run) for _ in range(repeat))
        base = results["raw scan (stream rows)"]
        lines = [f"Verifier on PostgreSQL, {total:,} stored events, median of {repeat}:", "",
                 "| path | seconds | events/s | × raw scan |", "|---|---:|---:|---:|"]
        for label, seconds in results.items():
            lines.append(f"| {label} | {seconds:.2f} | {total / seconds:,.0f} | {seconds / base:.2f} |")
        return lines
    finally:
        engine.dispose()
        cursor = admin.cursor()
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print("\n".join(measure(args.events, args.repeat)))


if __name__ == "__main__":
    main()

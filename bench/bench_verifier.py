"""Verifier speed beside a raw scan of the same table, on PostgreSQL.

    .venv/bin/python bench/bench_verifier.py [--events 100000] [--repeat 3]

Creates a throwaway database, stores genuine grid_events events, copies them
under fresh ids through its recorder (chain links included), checkpoints, then times (medians of --repeat runs):
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
from eventsourcing.persistence import StoredEvent
from sqlalchemy import create_engine

from services.grid_events import contracts as c
from services.grid_events.application import GridEventsApplication
from shared.context import CallerContext, Role
from shared.eventstore import Call
from shared.security.chain import (
    CheckpointStore,
    EventRows,
    generate_signing_key,
    genesis,
    link,
    load_private_key,
    load_public_key,
    make_checkpoint,
)
from shared.security.links import generate_chain_key, load_chain_key, service_key
from shared.security.verifier import verify

ADMIN_DSN = "dbname=postgres user=pingan password=pingan host=127.0.0.1 port=5432"


def fill(url: str, events: int, chain_key: str) -> None:
    app = GridEventsApplication(env={"PERSISTENCE_MODULE": "eventsourcing_sqlalchemy", "SQLALCHEMY_URL": url,
                                     "PINGAN_CHAIN_KEY": chain_key})
    call = Call(CallerContext(actor_id="bench", role=Role.ADMIN, jurisdiction="433100"), "bench")
    app.register_jurisdiction(call, c.RegisterJurisdiction(code="433100", name="Xiangxi"))
    app.register_jurisdiction(call, c.RegisterJurisdiction(code="433101", name="Jishou"))
    for n in range(1, 99):
        app.register_jurisdiction(call, c.RegisterJurisdiction(code=f"433101{n:03d}", name=f"township {n}"))
    copies = max(1, -(-events // 100) - 1)
    originals = app.recorder.select_notifications(start=1, limit=100)
    for _ in range(copies):
        app.recorder.insert_events([StoredEvent(uuid.uuid4(), n.originator_version, n.topic, n.state)
                                    for n in originals])


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
        chain_key = generate_chain_key()
        fill(url, events, chain_key)
        link_key = service_key(load_chain_key(chain_key), "grid_events")
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
                report = verify(rows, store, load_public_key(public), link_key)
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

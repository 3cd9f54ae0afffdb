"""`make soak`: 20 commands/s across grid_events and mediation for SOAK_MINUTES (default 10),
with the services' broker connections cut and their database out of reach in the middle.

Each command carries a command id and is sent again after a timeout or ServiceUnavailable,
as a client would. At the end: every command stored once (no loss, no duplicate), every
consumer effect once (a mediation case per reported dispute), p95 latency, and the services'
resident memory at start and end — written into docs/reliability.md. Not part of `make test`.
"""

from __future__ import annotations

import warnings

warnings.filterwarnings("ignore", message="(?s).*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import os  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

from nameko.exceptions import RpcTimeout  # noqa: E402
from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402

from bench.run import (  # noqa: E402
    BENCH_CHAIN_KEY,
    create_database,
    create_vhost,
    delete_vhost,
    drop_database,
    free_port,
    rss_mib,
    start_process,
)
from shared.config import Settings  # noqa: E402
from shared.context import TOKEN_KEY, CallerContext, Role  # noqa: E402
from shared.errors import ServiceUnavailable  # noqa: E402
from shared.security.keys import local_public_env, local_signing_env  # noqa: E402
from tests.e2e.proxy import TcpProxy  # noqa: E402

VILLAGE = "433101001001"
GRID = VILLAGE + "001"
RATE = 20.0
MINUTES = float(os.environ.get("SOAK_MINUTES", "10"))
SERVICES = ("grid_events", "mediation")
DOC = Path(__file__).resolve().parent.parent / "docs" / "reliability.md"
MARK_START, MARK_END = "<!-- soak:start -->", "<!-- soak:end -->"


class Caller:
    """Sends commands with ids, again after a timeout or ServiceUnavailable, until acknowledged."""

    def __init__(self, config: dict, context: dict, connections: int = 10):
        # A fixed set of connections, as a client application keeps: commands beyond them wait
        # their turn here, and that wait counts in their latency.
        self.clusters = [ClusterRpcProxy(config, context_data=context, timeout=8) for _ in range(connections)]
        self.proxies = eventlet.Queue()
        for cluster in self.clusters:
            self.proxies.put(cluster.start())
        self.latencies: list[float] = []
        self.retries = 0

    def send(self, call) -> dict:
        started = time.perf_counter()
        while True:
            rpc = self.proxies.get()
            try:
                result = call(rpc)
            except (RpcTimeout, ServiceUnavailable):
                self.retries += 1
                eventlet.sleep(0.2)
                continue
            finally:
                self.proxies.put(rpc)
            self.latencies.append(time.perf_counter() - started)
            return result


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stopped early: still clean up below
    tag = uuid.uuid4().hex[:8]
    prefix, vhost = f"pingan_soak_{tag}", f"pingan_soak_{tag}"
    work = Path(tempfile.mkdtemp(prefix="pingan-soak-"))
    # Keys of this run only: the issuer's stays here, each service gets its own event key (below).
    issuer = Settings.from_env({"PINGAN_DATA_DIR": str(work)}).issuer()
    token = issuer.issue(CallerContext(actor_id="soak", role=Role.ADMIN, jurisdiction="433100"),
                         ttl=issuer.limits.person)
    amqp = f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    broker, database = TcpProxy(5672), TcpProxy(5432)
    create_vhost(vhost)
    for service in SERVICES:
        create_database(f"{prefix}_{service}")
    env = {**os.environ, **local_public_env(work, list(SERVICES)), "PINGAN_CHAIN_KEY": BENCH_CHAIN_KEY,
           "PINGAN_LOG_LEVEL": "WARNING", "PINGAN_LOG_FORMAT": "json",
           "PINGAN_PERSONAL_DATA_KEY": "YmVuY2gtb25seS1wZXJzb25hbC1kYXRhLWtleS0zMmI=",
           "AMQP_URI": broker.url(amqp),
           "PINGAN_DATABASE_URL": f"postgresql+psycopg2://pingan:pingan@127.0.0.1:{database.port}/{prefix}_{{service}}"}
    processes = {}
    config = {"AMQP_URI": amqp, "serializer": "json"}
    try:
        for service in SERVICES:
            port = free_port()
            processes[service] = start_process([str(Path(sys.executable).parent / "pingan"), "serve", service],
                                               {**env, **local_signing_env(work, service),
                                                "PINGAN_HTTP_ADDRESS": f"127.0.0.1:{port}"}, port,
                                               work / f"{service}.log")
        caller = Caller(config, {TOKEN_KEY: token})
        caller.send(lambda rpc: [rpc.grid_events.register_jurisdiction(code=code, name=code, command_id=f"j-{code}")
                                 for code in ("433100", "433101", "433101001", VILLAGE)])
        caller.send(lambda rpc: rpc.grid_events.register_grid(code=GRID, name="grid", command_id="g-1"))
        caller.latencies.clear()
        rss_start = {s: rss_mib(p.pid) for s, p in processes.items()}
        figures = run_load(caller, broker, database, processes)
        figures["rss"] = {s: (rss_start[s], rss_mib(p.pid)) for s, p in processes.items()}
        figures["reports"], figures["cases"] = verify(caller, figures)
        write(figures, caller)
        print(DOC.read_text().split(MARK_START)[1].split(MARK_END)[0])
    finally:
        for process in processes.values():
            process.terminate()
            try:
                process.wait(timeout=20)
            except Exception:
                process.kill()
        broker.close()
        database.close()
        delete_vhost(vhost)
        for service in SERVICES:
            drop_database(f"{prefix}_{service}")


def run_load(caller: Caller, broker: TcpProxy, database: TcpProxy, processes: dict) -> dict:
    seconds = MINUTES * 60
    pool = eventlet.GreenPool(400)
    sent = {"report": [], "open": []}
    start = time.monotonic()
    middle = start + seconds / 2
    done_faults: list[str] = []

    def inject() -> None:
        # On its own green thread: the load loop may wait on a full pool while the broker is away.
        eventlet.sleep(max(0.0, middle - time.monotonic()))
        broker.cut()
        broker.block()
        done_faults.append("broker connections cut, broker refused for 5 s")
        eventlet.sleep(5)
        broker.unblock()
        eventlet.sleep(25)
        database.block()
        done_faults.append("database refused for 10 s")
        eventlet.sleep(10)
        database.unblock()

    injector = eventlet.spawn(inject)
    number = 0
    while time.monotonic() - start < seconds:
        if number % 2 == 0:
            sent["report"].append(pool.spawn(caller.send, lambda rpc, n=number: rpc.grid_events.report_event(
                grid_code=GRID, category="dispute", source="petition", severity="low", place="p",
                description=f"soak {n}", command_id=f"soak-r-{n}")["event_id"]))
        else:
            sent["open"].append(pool.spawn(caller.send, lambda rpc, n=number: rpc.mediation.open_case(
                jurisdiction=VILLAGE, source="petition", subject=f"soak {n}", command_id=f"soak-o-{n}")["case_id"]))
        number += 1
        if number % (int(RATE) * 15) == 0:
            print(f"{time.monotonic() - start:.0f}s sent {number}, acknowledged {len(caller.latencies)}, "
                  f"sent again {caller.retries}", file=sys.stderr, flush=True)
        eventlet.sleep(max(0.0, start + number / RATE - time.monotonic()))
    injector.wait()  # a short run still ends with every fault undone
    print("load done; waiting for the last acknowledgements", file=sys.stderr, flush=True)
    pool.waitall()
    drained = time.monotonic() - start
    exits = {s: p.poll() for s, p in processes.items()}
    return {"seconds": seconds, "drained": drained, "commands": number, "faults": done_faults, "exits": exits,
            "report_ids": [g.wait() for g in sent["report"]], "case_ids": [g.wait() for g in sent["open"]]}


def verify(caller: Caller, figures: dict) -> tuple[int, int]:
    """Stored reports and cases, once everything relayed has been consumed."""
    expected_cases = len(figures["report_ids"]) + len(figures["case_ids"])
    deadline = time.monotonic() + 120
    while True:
        reports = caller.send(lambda rpc: rpc.grid_events.list_events(jurisdiction=VILLAGE, page_size=1)["total"])
        cases = caller.send(lambda rpc: rpc.mediation.list_cases(jurisdiction=VILLAGE, page_size=1)["total"])
        if cases >= expected_cases or time.monotonic() > deadline:
            eventlet.sleep(2)  # late duplicates would arrive now
            reports = caller.send(lambda rpc: rpc.grid_events.list_events(jurisdiction=VILLAGE, page_size=1)["total"])
            cases = caller.send(lambda rpc: rpc.mediation.list_cases(jurisdiction=VILLAGE, page_size=1)["total"])
            return reports, cases
        eventlet.sleep(1)


def write(f: dict, caller: Caller) -> None:
    latencies = sorted(caller.latencies)
    p = lambda q: latencies[min(len(latencies) - 1, int(len(latencies) * q))] * 1000  # noqa: E731
    reports, cases = len(f["report_ids"]), len(f["case_ids"])
    lines = [
        MARK_START,
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `make soak` (SOAK_MINUTES={MINUTES:g}) on "
        f"{platform.machine()}, {os.cpu_count()} cores, load average {os.getloadavg()[1]:.1f} over the last 5 minutes; "
        "services and callers on one machine.",
        "",
        "| figure | value |",
        "|---|---|",
        "| commands sent (offered 20/s, half `report_event`, half `open_case`) "
        f"| {f['commands']} in {f['seconds']:.0f} s |",
        f"| all acknowledged after | {f['drained']:.0f} s ({f['commands'] / f['drained']:.1f} commands/s sustained) |",
        f"| faults in the middle | {'; '.join(f['faults'])} |",
        f"| service processes that exited | {sum(1 for code in f['exits'].values() if code is not None)} |",
        f"| acknowledged reports / stored grid events | {reports} / {f['reports']} "
        f"({'no loss, no duplicate' if reports == f['reports'] == len(set(f['report_ids'])) else 'MISMATCH'}) |",
        f"| mediation cases expected / stored (consumer effect + `open_case`) | {reports + cases} / {f['cases']} "
        f"({'each once' if reports + cases == f['cases'] else 'MISMATCH'}) |",
        f"| commands sent again after a timeout or ServiceUnavailable | {caller.retries} |",
        f"| latency p50 / p95 / max, first send to acknowledgement (retries included) | "
        f"{p(0.5):.0f} / {p(0.95):.0f} / {latencies[-1] * 1000:.0f} ms |",
    ]
    lines += [f"| resident memory of {s}, start → end | {a:.0f} → {b:.0f} MiB |" for s, (a, b) in f["rss"].items()]
    lines.append(MARK_END)
    text = DOC.read_text()
    block = "\n".join(lines)
    DOC.write_text(re.sub(re.escape(MARK_START) + ".*?" + re.escape(MARK_END), lambda m: block, text, flags=re.S))


if __name__ == "__main__":
    main()

"""`make bench`: the report-event command over RPC beside raw baselines, measured in one run.

Baselines: raw INSERT+COMMIT (psycopg2), raw eventsourcing save (SQLAlchemy +
psycopg2), nameko no-op RPC. The services run in their own processes (as
deployed); the callers run here. Results go to docs/benchmarks.md with the
machine and the command.
"""

from __future__ import annotations

import warnings

warnings.filterwarnings("ignore", message="(?s).*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import os  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.request import urlopen  # noqa: E402

import psycopg2  # noqa: E402
import requests  # noqa: E402
from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402

from shared.config import Settings  # noqa: E402
from shared.context import TOKEN_KEY, CallerContext, Role  # noqa: E402
from shared.security.keys import local_public_env, local_signing_env  # noqa: E402

PG = dict(user="pingan", password="pingan", host="127.0.0.1", port=5432)
RABBIT_API = "http://guest:guest@127.0.0.1:15672/api"
BENCH_CHAIN_KEY = "YmVuY2gtb25seS1jaGFpbi1rZXktMzItYnl0ZXMhISE="  # base64 of 32 bytes: bench only
GRID = "433101001001001"
BIN = Path(sys.executable).parent
SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))


@dataclass
class Result:
    path: str
    callers: int
    count: int
    seconds: float
    latencies: list[float]
    server_cpu: float | None = None  # CPU seconds the serving process used during the measurement

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    @property
    def server_cpu_ms(self) -> str:
        return "—" if self.server_cpu is None else f"{self.server_cpu / self.count * 1000:.1f}"

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000 if ordered else float("nan")


# -- environment -------------------------------------------------------------------


def create_database(name: str) -> None:
    admin = psycopg2.connect(dbname="postgres", **PG)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    admin.close()


def drop_database(name: str) -> None:
    admin = psycopg2.connect(dbname="postgres", **PG)
    admin.autocommit = True
    cursor = admin.cursor()
    cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
    cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.close()


def create_vhost(name: str) -> None:
    requests.put(f"{RABBIT_API}/vhosts/{name}", timeout=10).raise_for_status()
    requests.put(f"{RABBIT_API}/permissions/{name}/guest",
                 json={"configure": ".*", "write": ".*", "read": ".*"}, timeout=10).raise_for_status()


def delete_vhost(name: str) -> None:
    requests.delete(f"{RABBIT_API}/vhosts/{name}", timeout=10)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_process(args: list[str], env: dict, port: int, log: Path) -> subprocess.Popen:
    process = subprocess.Popen(args, env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{args} exited: {log.read_text()[-2000:]}")
        try:
            with urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                return process
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{args} did not start")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(pid: int, run) -> Result:
    """``run()``'s result, with the CPU the serving process ``pid`` spent on it."""
    before = cpu_seconds(pid)
    result = run()
    result.server_cpu = cpu_seconds(pid) - before
    return result


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# -- load ----------------------------------------------------------------------------


def closed_loop(path: str, config: dict, context: dict, call, callers: int, seconds: float) -> Result:
    """``callers`` callers, each calling again as soon as the last answer arrives."""
    proxies = [ClusterRpcProxy(config, context_data=context, timeout=30) for _ in range(callers)]
    rpcs = [proxy.start() for proxy in proxies]
    for rpc in rpcs:
        call(rpc, -1)  # warm: connections, reply queues
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds

    def caller(rpc, number):
        n = 0
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            call(rpc, number * 1_000_000 + n)
            latencies.append(time.perf_counter() - started)
            n += 1

    started = time.perf_counter()
    pool = eventlet.GreenPool(callers)
    for number, rpc in enumerate(rpcs):
        pool.spawn(caller, rpc, number)
    pool.waitall()
    elapsed = time.perf_counter() - started
    for proxy in proxies:
        proxy.stop()
    return Result(path, callers, len(latencies), elapsed, latencies)


def open_loop(path: str, config: dict, context: dict, call, rate: float, seconds: float) -> Result:
    """Calls started at a fixed rate, whatever the answers do: latency at a given load."""
    pool_size = 32
    proxies = [ClusterRpcProxy(config, context_data=context, timeout=30) for _ in range(pool_size)]
    free = eventlet.queue.LightQueue()
    for proxy in proxies:
        rpc = proxy.start()
        call(rpc, -1)
        free.put(rpc)
    latencies: list[float] = []
    pool = eventlet.GreenPool(pool_size * 2)

    def one(number):
        rpc = free.get()
        started = time.perf_counter()
        call(rpc, 9_000_000 + number)
        latencies.append(time.perf_counter() - started)
        free.put(rpc)

    interval = 1.0 / rate
    begin = time.perf_counter()
    total = int(rate * seconds)
    for number in range(total):
        wait = begin + number * interval - time.perf_counter()
        if wait > 0:
            eventlet.sleep(wait)
        pool.spawn(one, number)
    pool.waitall()
    elapsed = time.perf_counter() - begin
    for proxy in proxies:
        proxy.stop()
    return Result(path, 0, len(latencies), elapsed, latencies)


def raw_insert(database: str, seconds: float) -> Result:
    conn = psycopg2.connect(dbname=database, **PG)
    cursor = conn.cursor()
    cursor.execute("CREATE TABLE raw_bench (id bigserial PRIMARY KEY, originator uuid, state bytea)")
    conn.commit()
    latencies = []
    stop_at = time.perf_counter() + seconds
    started = time.perf_counter()
    while time.perf_counter() < stop_at:
        t = time.perf_counter()
        cursor.execute("INSERT INTO raw_bench (originator, state) VALUES (%s, %s)", (str(uuid.uuid4()), b"x" * 300))
        conn.commit()
        latencies.append(time.perf_counter() - t)
    conn.close()
    return Result("raw INSERT+COMMIT (psycopg2)", 1, len(latencies), time.perf_counter() - started, latencies)


def raw_eventsourcing_save(database: str, seconds: float) -> Result:
    from tests.unit.kernel_fixtures import CALL, TicketsApplication

    app = TicketsApplication(env={"PERSISTENCE_MODULE": "eventsourcing_sqlalchemy",
                                  "SQLALCHEMY_URL": f"postgresql+psycopg2://pingan:pingan@127.0.0.1:5432/{database}",
                                  "PINGAN_CHAIN_KEY": BENCH_CHAIN_KEY})
    from shared.context import acting_as
    from tests.unit.kernel_fixtures import Ticket

    latencies = []
    stop_at = time.perf_counter() + seconds
    started = time.perf_counter()
    with acting_as(CALL.caller, CALL.call_id):
        while time.perf_counter() < stop_at:
            t = time.perf_counter()
            app.save(Ticket(title="a boundary wall"))
            latencies.append(time.perf_counter() - t)
    return Result("raw eventsourcing save (SQLAlchemy+psycopg2)", 1, len(latencies),
                  time.perf_counter() - started, latencies)


# -- the run ---------------------------------------------------------------------------


def main() -> None:
    tag = uuid.uuid4().hex[:8]
    database_prefix = f"pingan_bench_{tag}"
    vhost = f"pingan_bench_{tag}"
    work = Path(tempfile.mkdtemp(prefix="pingan-bench-"))
    # Keys of this run only: the issuer's stays here, each service gets its own event key (below).
    issuer = Settings.from_env({"PINGAN_DATA_DIR": str(work)}).issuer()
    token = issuer.issue(CallerContext(actor_id="bench", role=Role.ADMIN, jurisdiction="433100"),
                         ttl=issuer.limits.person)
    context = {TOKEN_KEY: token}
    amqp_uri = f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    config = {"AMQP_URI": amqp_uri, "serializer": "json"}
    env = {**os.environ, "AMQP_URI": amqp_uri, **local_public_env(work, ["grid_events"]), "PINGAN_LOG_LEVEL": "WARNING",
           "PINGAN_PERSONAL_DATA_KEY": "YmVuY2gtb25seS1wZXJzb25hbC1kYXRhLWtleS0zMmI=", "PINGAN_LOG_FORMAT": "json",
           "PINGAN_CHAIN_KEY": BENCH_CHAIN_KEY,
           "PINGAN_DATABASE_URL": f"postgresql+psycopg2://pingan:pingan@127.0.0.1:5432/{database_prefix}_{{service}}"}
    processes: list[subprocess.Popen] = []
    results: list[Result] = []
    notes: list[str] = []
    create_vhost(vhost)
    for name in ("grid_events", "raw"):
        create_database(f"{database_prefix}_{name}")
    try:
        print("raw baselines…", file=sys.stderr)
        results.append(raw_insert(f"{database_prefix}_raw", SECONDS))
        results.append(raw_eventsourcing_save(f"{database_prefix}_raw", SECONDS))

        noop_port = free_port()
        noop_config = work / "noop.yaml"
        noop_config.write_text(f"AMQP_URI: {amqp_uri}\nWEB_SERVER_ADDRESS: 127.0.0.1:{noop_port}\n")
        noop = subprocess.Popen([str(BIN / "nameko"), "run", "--config", str(noop_config), "bench.noop:NoopService"],
                                env=env, stdout=open(work / "noop.log", "ab"), stderr=subprocess.STDOUT)
        processes.append(noop)
        grid_port = free_port()
        grid = start_process([str(BIN / "pingan"), "serve", "grid_events"],
                             {**env, **local_signing_env(work, "grid_events"), "PINGAN_HTTP_ADDRESS": f"127.0.0.1:{grid_port}"}, grid_port, work / "grid.log")
        processes.append(grid)
        time.sleep(2)
        idle_rss = rss_mib(grid.pid)

        def noop_call(rpc, n):
            rpc.noop.noop()

        with ClusterRpcProxy(config, context_data=context, timeout=30) as rpc:
            for code in ("433100", "433101", "433101001", "433101001001"):
                rpc.grid_events.register_jurisdiction(code=code, name=code)
            rpc.grid_events.register_grid(code=GRID, name="bench grid")

        def report_call(rpc, n):
            rpc.grid_events.report_event(grid_code=GRID, category="dispute", source="petition", severity="low",
                                         place="courtyard", description="A boundary wall between two households.")

        print("no-op RPC and the command path…", file=sys.stderr)
        for callers in (1, 10):
            results.append(measured(noop.pid, lambda: closed_loop(
                "nameko no-op RPC", config, context, noop_call, callers, SECONDS)))
            results.append(measured(grid.pid, lambda: closed_loop(
                "report_event command over RPC", config, context, report_call, callers, SECONDS)))
        best = max(r.rate for r in results if r.path.startswith("report_event"))
        results.append(measured(grid.pid, lambda: open_loop(
            f"report_event at half the max rate ({best / 2:.0f}/s)", config, context, report_call, best / 2, SECONDS)))
        busy_rss = rss_mib(grid.pid)
        metrics = urlopen(f"http://127.0.0.1:{grid_port}/metrics", timeout=5).read().decode()
        lag = [line for line in metrics.splitlines() if line.startswith("pingan_relay_lag_events")]
        notes.append(f"grid_events process RSS: {idle_rss:.0f} MiB idle after start, {busy_rss:.0f} MiB after the load")
        notes.append(f"relay lag at the end: {lag[0].split()[-1] if lag else 'n/a'} events")
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        delete_vhost(vhost)
        for name in ("grid_events", "raw"):
            drop_database(f"{database_prefix}_{name}")
    from bench.bench_verifier import measure

    print("verifier beside a raw scan…", file=sys.stderr)
    report(results, notes, measure())


def report(results: list[Result], notes: list[str], verifier: list[str] = ()) -> None:
    noop10 = next(r for r in results if r.path == "nameko no-op RPC" and r.callers == 10)
    cmd10 = next(r for r in results if r.path.startswith("report_event command") and r.callers == 10)
    lines = [
        "| path | callers | calls | rate (/s) | p50 (ms) | p99 (ms) | server CPU per call (ms) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        callers = "open loop" if r.callers == 0 else str(r.callers)
        lines.append(f"| {r.path} | {callers} | {r.count} | {r.rate:,.0f} | {r.percentile(0.5):.1f} | {r.percentile(0.99):.1f} | {r.server_cpu_ms} |")
    ratio = cmd10.rate / noop10.rate
    machine = f"{platform.node()}: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, " \
              f"{platform.platform()}"
    text = "\n".join([
        f"### Run of {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {machine}. Command: `make bench` (BENCH_SECONDS={SECONDS:g} per measurement).",
        "",
        *lines,
        "",
        f"Command path at 10 callers: **{ratio:.2f}×** the no-op RPC rate of the same run (target ≥ 0.8×).",
        *[f"- {note}" for note in notes],
        "",
        *verifier,
        "",
    ])
    print(text)
    path = Path("docs/benchmarks.md")
    existing = path.read_text() if path.exists() else "# Benchmarks\n\nNewest run first. Rates are medians of noisy runs on a shared 2-core machine: compare ratios within one run.\n\n"
    head, _, rest = existing.partition("### Run of")
    path.write_text(head + text + ("\n### Run of" + rest if rest else ""))


if __name__ == "__main__":
    main()

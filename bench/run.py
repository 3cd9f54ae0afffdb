"""`make bench`: the command, a list query and a rebuild beside raw baselines, measured in one run.

Baselines: raw INSERT+COMMIT (psycopg2), raw eventsourcing save (SQLAlchemy +
psycopg2), nameko no-op RPC (at the callers of each measured path), a raw scan
of the events table. The command and the list query are measured again after
100,000 events are loaded into the same service (``bench.history``). The
services run in their own processes (as deployed); the callers run here.
Results go to docs/benchmarks.md with the machine and the command.
"""

from __future__ import annotations

import warnings

warnings.filterwarnings("ignore", message="(?s).*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
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
HISTORY = int(os.environ.get("BENCH_HISTORY", "100000"))  # events loaded for the history measurements


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
    with open(log, "ab") as out:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
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


def start_follower(env: dict, work: Path) -> subprocess.Popen:
    """`pingan follow grid_events` on a port of its own: relays and projects for a service at PINGAN_FOLLOW_LOG=off."""
    port = free_port()
    return start_process([str(BIN / "pingan"), "follow", "grid_events"],
                         {**env, "PINGAN_HTTP_ADDRESS": f"127.0.0.1:{port}"}, port, work / "follow.log")


FOLLOWED_APART = "report_event command over RPC, log followed by `pingan follow`"


def command_with_follower(grid_env: dict, grid_port: int, work: Path, config: dict, context: dict,
                          call) -> tuple[Result, str]:
    """The command at 10 callers with the service at PINGAN_FOLLOW_LOG=off and its relay and projector
    in a `pingan follow` process beside it; the service's CPU in the row, the follower's in the note."""
    service = start_process([str(BIN / "pingan"), "serve", "grid_events"], {**grid_env, "PINGAN_FOLLOW_LOG": "off"},
                            grid_port, work / "grid-off.log")
    follower = start_follower(grid_env, work)
    try:
        before = cpu_seconds(follower.pid)
        result = measured(service.pid, lambda: closed_loop(FOLLOWED_APART, config, context, call, 10, SECONDS))
        spent = cpu_seconds(follower.pid) - before
    finally:
        stop(service)
        stop(follower)
    return result, (f"with the log followed by `pingan follow`: {spent / result.count * 1000:.1f} ms of the "
                    f"follower's CPU a command beside the service's {result.server_cpu_ms} ms")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def stored_events(database: str) -> int:
    conn = psycopg2.connect(dbname=database, **PG)
    cursor = conn.cursor()
    cursor.execute("SELECT count(*) FROM grid_events_events")
    count = cursor.fetchone()[0]
    conn.close()
    return count


def analyze(database: str) -> str:
    """Planner statistics for every table, as autovacuum's analyze gives a deployment after this many inserts.
    Where autovacuum is off (this machine's PostgreSQL, for its test runs) a read model filled by the
    projector has none, and the planner sorts the whole scope instead of reading the recency index."""
    conn = psycopg2.connect(dbname=database, **PG)
    conn.autocommit = True
    cursor = conn.cursor()
    cursor.execute("SHOW autovacuum")
    autovacuum = cursor.fetchone()[0]
    cursor.execute("ANALYZE")
    conn.close()
    return autovacuum


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
    load_at_start = os.getloadavg()
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
        with open(work / "noop.log", "ab") as out:
            noop = subprocess.Popen(
                [str(BIN / "nameko"), "run", "--config", str(noop_config), "bench.noop:NoopService"],
                env=env, stdout=out, stderr=subprocess.STDOUT)
        processes.append(noop)
        grid_port = free_port()
        grid_env = {**env, **local_signing_env(work, "grid_events"), "PINGAN_HTTP_ADDRESS": f"127.0.0.1:{grid_port}"}
        grid = start_process([str(BIN / "pingan"), "serve", "grid_events"], grid_env, grid_port, work / "grid.log")
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

        def list_call(rpc, n):
            rpc.grid_events.list_events(page_size=50, purpose="case_work")

        print("no-op RPC, the command path and the list query…", file=sys.stderr)
        for callers in (1, 10):
            results.append(measured(noop.pid, lambda callers=callers: closed_loop(
                "nameko no-op RPC", config, context, noop_call, callers, SECONDS)))
            results.append(measured(grid.pid, lambda callers=callers: closed_loop(
                "report_event command over RPC", config, context, report_call, callers, SECONDS)))
        best = max(r.rate for r in results if r.path.startswith("report_event"))
        results.append(measured(grid.pid, lambda: open_loop(
            f"report_event at half the max rate ({best / 2:.0f}/s)", config, context, report_call, best / 2, SECONDS)))
        autovacuum = analyze(f"{database_prefix}_grid_events")
        notes.append(f"before the list: ANALYZE of the service's database (this server's autovacuum: {autovacuum})")
        results.append(measured(noop.pid, lambda: closed_loop(
            "nameko no-op RPC", config, context, noop_call, 4, SECONDS)))
        results.append(measured(grid.pid, lambda: closed_loop(
            "list_events, page of 50, audited", config, context, list_call, 4, SECONDS)))
        stored = stored_events(f"{database_prefix}_grid_events")
        metrics = urlopen(f"http://127.0.0.1:{grid_port}/metrics", timeout=5).read().decode()
        lag = [line for line in metrics.splitlines() if line.startswith("pingan_relay_lag_events")]
        notes.append(f"relay lag after the command load: {lag[0].split()[-1] if lag else 'n/a'} events")
        stop(grid)  # the same command with the relay and projector in their own process (docs/benchmarks.md)
        followed_apart, followed_note = command_with_follower(grid_env, grid_port, work, config, context, report_call)
        results.append(followed_apart)
        notes.append(followed_note)

        print(f"{HISTORY:,} events of history, raw scan and rebuild…", file=sys.stderr)
        stop(grid)
        from bench.history import load_history

        load_history(f"{database_prefix}_grid_events", "grid_events", HISTORY)
        probe = subprocess.run([sys.executable, "-m", "bench.history", "grid_events", f"{database_prefix}_grid_events"],
                               env=env, capture_output=True, text=True, check=True)
        history = json.loads(probe.stdout.strip().splitlines()[-1])
        grid = start_process([str(BIN / "pingan"), "serve", "grid_events"], grid_env, grid_port, work / "grid.log")
        processes.append(grid)
        with_history = f" ({stored + HISTORY:,} stored events)"
        results.append(measured(grid.pid, lambda: closed_loop(
            "report_event command over RPC" + with_history, config, context, report_call, 10, SECONDS)))
        results.append(measured(grid.pid, lambda: closed_loop(
            "list_events, page of 50, audited" + with_history, config, context, list_call, 4, SECONDS)))
        busy_rss = rss_mib(grid.pid)
        notes.append(f"grid_events process RSS: {idle_rss:.0f} MiB idle after start (target < 100), "
                     f"{busy_rss:.0f} MiB after the load and {HISTORY:,} events of history (target < 150)")
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
    verifier = measure()
    # Other work on the same cores changes every rate; the ratios of one run partly cancel it.
    notes.insert(0, "load average (1, 5, 15 min): {:.1f} / {:.1f} / {:.1f} at the start, {:.1f} / {:.1f} / {:.1f} "
                 "at the end".format(*load_at_start, *os.getloadavg()))
    report(results, notes, history, verifier)


def report(results: list[Result], notes: list[str], history: dict, verifier: list[str] = ()) -> None:
    def row(path: str, callers: int) -> Result:
        return next(r for r in results if r.path == path and r.callers == callers)

    noop10, noop4 = row("nameko no-op RPC", 10), row("nameko no-op RPC", 4)
    cmd10 = row("report_event command over RPC", 10)
    apart = [r for r in results if r.path == FOLLOWED_APART]
    half = next(r for r in results if r.path.startswith("report_event at half"))
    list4 = row("list_events, page of 50, audited", 4)
    cmd_history = next(r for r in results if r.path.startswith("report_event command over RPC ("))
    list_history = next(r for r in results if r.path.startswith("list_events, page of 50, audited ("))
    scan_rate = history["events"] / history["raw_scan"]
    largest = history["largest_aggregate"]
    rebuild_rate = history["events"] / history["rebuild"]
    lines = [
        "| path | callers | calls | rate (/s) | p50 (ms) | p99 (ms) | server CPU per call (ms) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        callers = "open loop" if r.callers == 0 else str(r.callers)
        lines.append(f"| {r.path} | {callers} | {r.count} | {r.rate:,.0f} | {r.percentile(0.5):.1f} "
                     f"| {r.percentile(0.99):.1f} | {r.server_cpu_ms} |")
    machine = (
        f"{platform.node()}: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
        f"{platform.platform()}"
    )
    rebuild_lines = [
        "| path | events | seconds | events/s | × raw scan |",
        "|---|---:|---:|---:|---:|",
        f"| raw scan (plain SELECT of the events table, median of 3) | {history['events']:,} | "
        f"{history['raw_scan']:.2f} | {scan_rate:,.0f} | 1.00 |",
        f"| rebuild of every grid_events read model | {history['events']:,} | {history['rebuild']:.2f} | "
        f"{rebuild_rate:,.0f} | {rebuild_rate / scan_rate:.3f} |",
    ]
    closing = [
        f"1. Rebuild: **{rebuild_rate / scan_rate:.3f}×** the raw scan of the same table (target ≥ 0.25×).",
        f"2. Reads: list_events at 4 callers **{list4.rate / noop4.rate:.2f}×** the no-op RPC at 4 callers "
        f"(target ≥ 0.5×); p99 {list4.percentile(0.99):.0f} ms (target < 50 ms).",
        f"3. Command: report_event at 10 callers **{cmd10.rate / noop10.rate:.2f}×** the no-op RPC at 10 callers "
        f"(target ≥ 0.5×); p99 at half the max rate {half.percentile(0.99):.0f} ms (target < 25 ms)"
        + (f"; with the relay and projector in their own process **{apart[0].rate / noop10.rate:.2f}×**." if apart
           else "."),
        f"4. History: with {HISTORY:,} more stored events the command runs at **{cmd_history.rate / cmd10.rate:.2f}×** "
        f"and the list at **{list_history.rate / list4.rate:.2f}×** their rates before (target 0.8–1.2×); "
        f"the largest aggregate in the log ({largest['kind']}, {largest['events']} events) loads cold in "
        f"{largest['seconds'] * 1000:.1f} ms.",
        f"5. Memory: {notes[-1]}.",
    ]
    text = "\n".join(
        [
            f"### Run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
            "",
            f"Machine: {machine}. Command: `make bench` (BENCH_SECONDS={SECONDS:g} per measurement, "
            f"BENCH_HISTORY={HISTORY}).",
            "",
            *lines,
            "",
            *rebuild_lines,
            "",
            *closing,
            *[f"- {note}" for note in notes[:-1]],
            "",
            *verifier,
            "",
        ]
    )
    print(text)
    path = Path("docs/benchmarks.md")
    existing = (
        path.read_text()
        if path.exists()
        else "# Benchmarks\n\nNewest run first. Rates are medians of noisy runs on a shared 2-core machine: "
        "compare ratios within one run.\n\n"
    )
    head, _, rest = existing.partition("### Run of")
    path.write_text(head + text + ("\n### Run of" + rest if rest else ""))


if __name__ == "__main__":
    main()

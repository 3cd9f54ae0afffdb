"""Where the serving process spends its CPU under the bench's load: py-spy on `pingan serve grid_events`.

``python -m bench.profile [seconds]`` starts grid_events as `make bench` does (own database and
vhost), then, for the command (10 callers) and the list query (4 callers), records the serving
process with py-spy (``pip install py-spy``) while the bench's callers run, and prints each path's
functions by inclusive share of the samples (the process's busy time; waiting in the hub is left
out). The summaries in docs/benchmarks.md come from this. ``python -m bench.profile 15 apart``: the
same with the service at PINGAN_FOLLOW_LOG=off and its log followed by a `pingan follow` process,
whose CPU per call is printed beside the service's.
"""

from __future__ import annotations

import warnings

warnings.filterwarnings("ignore", message="(?s).*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import os  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402

from bench import run  # noqa: E402
from shared.config import Settings  # noqa: E402
from shared.context import TOKEN_KEY, CallerContext, Role  # noqa: E402
from shared.security.keys import local_public_env, local_signing_env  # noqa: E402


def summary(collapsed: Path, top: int = 45) -> list[str]:
    """Inclusive share of samples per function (``file:function``), from py-spy's collapsed stacks."""
    inclusive: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        samples = int(count)
        total += samples
        seen = set()
        for frame in stack.split(";"):
            name = frame.split(" (")[0] + " " + frame.rsplit("/", 1)[-1].split(":")[0].rstrip(")")
            if name not in seen:
                seen.add(name)
                inclusive[name] += samples
    return [f"{share / total:6.1%}  {name}" for name, share in inclusive.most_common(top)] if total else []


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 15
    apart = sys.argv[2:3] == ["apart"]
    pyspy = shutil.which("py-spy") or str(run.BIN / "py-spy")
    tag = uuid.uuid4().hex[:8]
    database_prefix, vhost = f"pingan_bench_{tag}", f"pingan_bench_{tag}"
    work = Path(tempfile.mkdtemp(prefix="pingan-profile-"))
    issuer = Settings.from_env({"PINGAN_DATA_DIR": str(work)}).issuer()
    context = {TOKEN_KEY: issuer.issue(CallerContext(actor_id="bench", role=Role.ADMIN, jurisdiction="433100"),
                                       ttl=issuer.limits.person)}
    amqp_uri = f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    config = {"AMQP_URI": amqp_uri, "serializer": "json"}
    port = run.free_port()
    env = {**os.environ, "AMQP_URI": amqp_uri, **local_public_env(work, ["grid_events"]), "PINGAN_LOG_LEVEL": "WARNING",
           "PINGAN_PERSONAL_DATA_KEY": "YmVuY2gtb25seS1wZXJzb25hbC1kYXRhLWtleS0zMmI=", "PINGAN_LOG_FORMAT": "json",
           "PINGAN_CHAIN_KEY": run.BENCH_CHAIN_KEY, **local_signing_env(work, "grid_events"),
           "PINGAN_HTTP_ADDRESS": f"127.0.0.1:{port}",
           "PINGAN_DATABASE_URL": f"postgresql+psycopg2://pingan:pingan@127.0.0.1:5432/{database_prefix}_{{service}}"}
    run.create_vhost(vhost)
    run.create_database(f"{database_prefix}_grid_events")
    grid = follower = None
    try:
        serve_env = {**env, "PINGAN_FOLLOW_LOG": "off" if apart else "in-process"}
        grid = run.start_process([str(run.BIN / "pingan"), "serve", "grid_events"], serve_env, port, work / "grid.log")
        follower = run.start_follower(env, work) if apart else None
        with ClusterRpcProxy(config, context_data=context, timeout=30) as rpc:
            for code in ("433100", "433101", "433101001", "433101001001"):
                rpc.grid_events.register_jurisdiction(code=code, name=code)
            rpc.grid_events.register_grid(code=run.GRID, name="bench grid")

        def report_call(rpc, n):
            rpc.grid_events.report_event(grid_code=run.GRID, category="dispute", source="petition", severity="low",
                                         place="courtyard", description="A boundary wall between two households.")

        def list_call(rpc, n):
            rpc.grid_events.list_events(page_size=50, purpose="case_work")

        for name, call, callers in (("command", report_call, 10), ("list", list_call, 4)):
            out = work / f"{name}.txt"
            spy = subprocess.Popen([pyspy, "record", "--pid", str(grid.pid), "--rate", "200", "--format", "raw",
                                    "--duration", str(int(seconds)), "--output", str(out), "--nonblocking"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1)
            follower_before = run.cpu_seconds(follower.pid) if follower else 0.0
            result = run.measured(grid.pid, lambda name=name, call=call, callers=callers: run.closed_loop(
                name, config, context, call, callers, seconds - 2))
            follower_ms = ((run.cpu_seconds(follower.pid) - follower_before) / result.count * 1000) if follower else 0
            spy.wait()
            print(f"## {name}: {callers} callers, {result.rate:.0f}/s, p50 {result.percentile(0.5):.0f} ms, "
                  f"p99 {result.percentile(0.99):.0f} ms, server CPU {result.server_cpu_ms} ms/call"
                  + (f" (+ follower {follower_ms:.1f} ms/call)" if follower else "")
                  + f", load average {os.getloadavg()[0]:.1f}")
            print("\n".join(summary(out)))
            print()
    finally:
        for process in (grid, follower):
            if process is not None:
                run.stop(process)
        run.delete_vhost(vhost)
        run.drop_database(f"{database_prefix}_grid_events")


if __name__ == "__main__":
    main()

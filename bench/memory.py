"""Resident memory of every service process and the gateway, idle: `python -m bench.memory`.

Starts each service and the gateway as `make run-services` does (`pingan serve <name>`, own
database each, one vhost), waits until each answers /health, then 2 s more (as `make bench`
measures grid_events), and prints each process's VmRSS in MiB with the machine's load average.
Target 5 in docs/benchmarks.md.
"""

from __future__ import annotations

import warnings

warnings.filterwarnings("ignore", message="(?s).*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import os  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from pathlib import Path  # noqa: E402

from bench import run  # noqa: E402
from shared.registry import edge_names, service_names  # noqa: E402
from shared.security.keys import local_public_env, local_signing_env  # noqa: E402


def main() -> None:
    tag = uuid.uuid4().hex[:8]
    database_prefix, vhost = f"pingan_bench_{tag}", f"pingan_bench_{tag}"
    work = Path(tempfile.mkdtemp(prefix="pingan-memory-"))
    services = service_names()
    env = {**os.environ, "AMQP_URI": f"amqp://guest:guest@127.0.0.1:5672/{vhost}", **local_public_env(work, services),
           "PINGAN_LOG_LEVEL": "WARNING", "PINGAN_LOG_FORMAT": "json", "PINGAN_DATA_DIR": str(work),
           "PINGAN_PERSONAL_DATA_KEY": "YmVuY2gtb25seS1wZXJzb25hbC1kYXRhLWtleS0zMmI=",
           "PINGAN_CHAIN_KEY": run.BENCH_CHAIN_KEY,
           "PINGAN_DATABASE_URL": f"postgresql+psycopg2://pingan:pingan@127.0.0.1:5432/{database_prefix}_{{service}}"}
    run.create_vhost(vhost)
    for name in services:
        run.create_database(f"{database_prefix}_{name}")
    processes: dict[str, subprocess.Popen] = {}
    load = os.getloadavg()
    try:
        for name in [*services, *edge_names()]:  # one after the other: each starts on a quieter machine
            port = run.free_port()
            signing = local_signing_env(work, name) if name in services else {}
            processes[name] = run.start_process([str(run.BIN / "pingan"), "serve", name],
                                                {**env, **signing, "PINGAN_HTTP_ADDRESS": f"127.0.0.1:{port}"},
                                                port, work / f"{name}.log")
            time.sleep(2)
            print(f"{name:22s} {run.rss_mib(processes[name].pid):6.1f} MiB idle")
    finally:
        for process in processes.values():
            run.stop(process)
        run.delete_vhost(vhost)
        for name in services:
            run.drop_database(f"{database_prefix}_{name}")
    print("load average (1, 5, 15 min): {:.1f} / {:.1f} / {:.1f} at the start, {:.1f} / {:.1f} / {:.1f} at the end"
          .format(*load, *os.getloadavg()))


if __name__ == "__main__":
    main()

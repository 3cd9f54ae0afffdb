"""Running services as separate OS processes, the way they are deployed."""

import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.request import urlopen

import psycopg2

from shared.security.personal_data import generate_master_key
from tests.conftest import PG_ADMIN_DSN
from tests.polling import wait_until

PINGAN = str(Path(sys.executable).with_name("pingan"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServiceProcess:
    """``pingan serve <service>`` in its own process; ``start`` waits until /ready answers.
    With ``command="follow"``: ``pingan follow <service>``, ready when /health answers."""

    def __init__(self, service: str, amqp_uri: str, log_path: Path, command: str = "serve", **env: str):
        self.service = service
        self.command = command
        self.port = free_port()
        self.log_path = log_path
        self.env = {**os.environ, "AMQP_URI": amqp_uri, "PINGAN_HTTP_ADDRESS": f"127.0.0.1:{self.port}",
                    "PINGAN_LOG_FORMAT": "json", **env}
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> "ServiceProcess":
        with open(self.log_path, "ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen([PINGAN, self.command, self.service], env=self.env, stdout=log, stderr=log)
        process = self.process
        path = "/ready" if self.command == "serve" else "/health"

        def ready() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"{self.service} exited: {self.log_path.read_text()[-2000:]}")
            with urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=1) as answer:
                return answer.status == 200

        wait_until(ready, timeout, f"{self.service} /ready", interval=0.2, ignoring=(OSError,))
        return self

    def metrics(self) -> str:
        with urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as answer:
            return answer.read().decode()

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, as in a crash or an evicted pod."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@contextmanager
def databases_for(monkeypatch, services: tuple[str, ...]) -> Iterator[None]:
    """One fresh database per service, named through the ``{service}`` placeholder, dropped afterwards."""
    prefix = f"pingan_e2e_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(PG_ADMIN_DSN)
    admin.autocommit = True
    for service in services:
        admin.cursor().execute(f'CREATE DATABASE "{prefix}_{service}"')
    monkeypatch.setenv("PINGAN_DATABASE_URL", f"postgresql+psycopg2://pingan:pingan@127.0.0.1:5432/{prefix}_{{service}}")
    # one master key for the service processes (the generated embedded default is per data folder)
    monkeypatch.setenv("PINGAN_PERSONAL_DATA_KEY", generate_master_key())
    try:
        yield
    finally:
        for service in services:
            admin.cursor().execute(f'DROP DATABASE IF EXISTS "{prefix}_{service}" WITH (FORCE)')
        admin.close()

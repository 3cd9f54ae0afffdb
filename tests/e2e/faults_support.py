"""What the fault suite shares: a database per registered service, the services as processes
behind proxies the test controls, and callers that retry with their command id."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

import eventlet
import psycopg2
import requests
from nameko.exceptions import RpcTimeout
from nameko.standalone.rpc import ClusterRpcProxy

from shared.config import load_settings
from shared.dependencies import Store
from shared.errors import ServiceUnavailable
from shared.eventstore import application_env
from shared.registry import service_class, service_names
from tests.conftest import PG_ADMIN_DSN
from tests.e2e.processes import ServiceProcess
from tests.polling import wait_until

DIRECT_DB = "postgresql+psycopg2://pingan:pingan@127.0.0.1:5432/{name}"


class Databases:
    """One fresh PostgreSQL database per registered service."""

    def __init__(self) -> None:
        self.prefix = f"pingan_fault_{uuid.uuid4().hex[:10]}"
        self.admin = psycopg2.connect(PG_ADMIN_DSN)
        self.admin.autocommit = True
        for service in service_names():
            self.admin.cursor().execute(f'CREATE DATABASE "{self.prefix}_{service}"')

    def url(self, port: int = 5432) -> str:
        return DIRECT_DB.replace(":5432/", f":{port}/").format(name=f"{self.prefix}_{{service}}")

    def stored(self, service: str) -> int:
        """The last position of ``service``'s event log: what "nothing stored" compares."""
        store = next(v for v in vars(service_class(service)).values() if isinstance(v, Store))
        app = store.application_class(env=application_env(service, load_settings()))
        return app.recorder.max_notification_id() or 0

    def drop(self) -> None:
        for service in service_names():
            self.admin.cursor().execute(f'DROP DATABASE IF EXISTS "{self.prefix}_{service}" WITH (FORCE)')
        self.admin.close()


def start_services(amqp_uri: str, database_url: str, folder, **env: str) -> dict[str, ServiceProcess]:
    processes = {}
    try:
        for service in service_names():
            processes[service] = ServiceProcess(service, amqp_uri, folder / f"{service}.log",
                                                PINGAN_DATABASE_URL=database_url, **env).start(timeout=60)
    except Exception:
        for process in processes.values():
            process.stop()
        raise
    return processes


def ready(process: ServiceProcess) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{process.port}/ready", timeout=3).status_code == 200
    except requests.RequestException:
        return False


def eventually(check: Callable[[], Any], within: float = 30.0) -> Any:
    """Poll ``check`` until it returns something truthy, at most ``within`` seconds."""
    return wait_until(check, within, "the fault's expected outcome")


@contextmanager
def calling(service_config: dict, token: str, timeout: float = 8):
    with ClusterRpcProxy(service_config, context_data={"caller_token": token}, timeout=timeout) as proxy:
        yield proxy


def until_done(service_config: dict, token: str, send: Callable[[Any], Any], within: float = 90) -> Any:
    """Send a command until it is acknowledged, as a caller with a command id would: after a
    timeout or ServiceUnavailable, the same command again."""
    deadline = time.monotonic() + within
    while True:
        try:
            with calling(service_config, token) as rpc:
                return send(rpc)
        except (RpcTimeout, ServiceUnavailable):
            if time.monotonic() > deadline:
                raise
            eventlet.sleep(0.2)

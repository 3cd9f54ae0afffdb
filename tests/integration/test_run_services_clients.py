"""`make run-services` provisions the integration client registry: scripts/run-services.sh, run as
is against the real PostgreSQL and RabbitMQ, creates and migrates the `clients` database, and the
service it starts accepts a registered client's token and refuses it once revoked."""

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.request import urlopen

import psycopg2
import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from shared.errors import Unauthenticated
from tests.e2e.processes import PINGAN, free_port
from tests.integration.test_security_db_role import SUPERUSER_DSN
from tests.polling import wait_until

pytestmark = pytest.mark.integration

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "run-services.sh"
DATABASES = ("clients", "grid_events")


@pytest.fixture
def run_services(rabbit_config, tmp_path):
    """The script with grid_events only, its own databases, runtime role and data folder; stopped and dropped after."""
    prefix = f"pingan_rs_{uuid.uuid4().hex[:10]}"
    port = free_port()
    owner_url = f"postgresql+psycopg2://pingan:pingan@127.0.0.1:5432/{prefix}_{{service}}"
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "BIN": str(Path(sys.executable).parent),
           "AMQP_URI": rabbit_config["AMQP_URI"], "PINGAN_DATABASE_URL": owner_url,
           "PINGAN_RUNTIME_ROLE": prefix, "PINGAN_RUNTIME_PASSWORD": "runtime",
           "PINGAN_PG_ADMIN_DSN": SUPERUSER_DSN.format(db="postgres"),
           "PINGAN_SERVICES": "grid_events", "PINGAN_FIRST_HTTP_PORT": str(port),
           "PINGAN_CLIENT_CACHE_SECONDS": "0", "PINGAN_LOG_FORMAT": "json"}
    log_path = tmp_path / "run-services.log"
    with open(log_path, "wb") as log:
        script = subprocess.Popen(["bash", str(SCRIPT)], cwd=tmp_path, env=env, stdout=log, stderr=log,
                                  start_new_session=True)

    def ready() -> bool:
        if script.poll() is not None:
            raise RuntimeError(f"run-services.sh exited: {log_path.read_text()[-3000:]}")
        with urlopen(f"http://127.0.0.1:{port}/ready", timeout=1) as answer:
            return answer.status == 200

    try:
        wait_until(ready, 120, "grid_events started by run-services.sh", interval=0.3, ignoring=(OSError,))
        yield {"env": env, "folder": tmp_path, "amqp_uri": rabbit_config["AMQP_URI"],
               "runtime_url": owner_url.replace("pingan:pingan@", f"{prefix}:runtime@")}
    finally:
        script.terminate()  # its trap stops the services it started, as Ctrl-C on `make run-services`
        try:
            script.wait(timeout=60)
        finally:
            if script.poll() is None:
                os.killpg(script.pid, signal.SIGKILL)  # the script's process group: only what this test started
        admin = psycopg2.connect(SUPERUSER_DSN.format(db="postgres"))
        admin.autocommit = True
        for database in DATABASES:
            admin.cursor().execute(f'DROP DATABASE IF EXISTS "{prefix}_{database}" WITH (FORCE)')
        admin.cursor().execute(f'DROP ROLE IF EXISTS "{prefix}"')
        admin.close()


def operator(run_services, *args: str, database_url: str | None = None) -> str:
    """`pingan clients ...` as an operator runs it: the owner's URL (or another) and the issuer's key
    the script generated."""
    folder = run_services["folder"]
    env = {**run_services["env"], "PINGAN_ACTIVE_TOKEN_KID": "local",
           "PINGAN_TOKEN_ISSUER_KEY": (folder / "data" / "keys" / "token-issuer.key").read_text().strip()}
    if database_url:
        env["PINGAN_DATABASE_URL"] = database_url
    return subprocess.run([PINGAN, "clients", *args], cwd=folder, env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


def listed_by(run_services, token: str) -> list:
    config = {"AMQP_URI": run_services["amqp_uri"], "serializer": "json"}
    with ClusterRpcProxy(config, context_data={"caller_token": token}, timeout=15) as rpc:
        return rpc.grid_events.list_events()


def test_run_services_client_token_accepted_until_revoked(run_services):
    operator(run_services, "register", "hotline-1", "--name", "Citizen hotline", "--jurisdiction", "433100")
    # Issued as the chart's token-issuer pod does, with the services' read-only role.
    token = operator(run_services, "token", "hotline-1", database_url=run_services["runtime_url"])
    assert listed_by(run_services, token)["items"] == []  # accepted: it has reported nothing yet

    operator(run_services, "revoke", "hotline-1")
    with pytest.raises(Unauthenticated):
        listed_by(run_services, token)

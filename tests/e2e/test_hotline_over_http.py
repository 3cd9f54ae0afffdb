"""The citizen hotline integrates over HTTP only, as a team in any language would from
docs/integration.md: an operator registers it with the `pingan clients` CLI, and its client —
plain HTTP and JSON, no pingan import — reports a dispute under its ticket number, retries after
losing the reply (one record), follows the case by catch-up, and reads the outcome once closed.
grid_events, mediation and the gateway each run in their own process on RabbitMQ and PostgreSQL."""

import subprocess

import pytest
import requests

from tests.e2e.processes import PINGAN, ServiceProcess, databases_for
from tests.e2e.proxy import TcpProxy
from tests.integration.test_grid_events_service import seed_registry
from tests.integration.test_grid_lifecycle_events import carry_through
from tests.polling import wait_until

pytestmark = pytest.mark.e2e

SERVICES = ("grid_events", "mediation")
TICKET = "hotline-ticket-20261203-0042"
DISPUTE = {"grid_code": "433101001001001", "category": "dispute", "source": "petition", "severity": "medium",
           "place": "the shared well", "description": "Two families dispute the well behind their houses.",
           "external_ref": TICKET}


class HotlineClient:
    """What the hotline's engineers write: HTTP and JSON, from docs/integration.md alone."""

    def __init__(self, base_url: str, token: str):
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {token}"}

    def report(self, body: dict, key: str) -> dict:
        answer = requests.post(f"{self.base_url}/v1/reports", json=body,
                               headers={**self.headers, "Idempotency-Key": key}, timeout=30)
        assert answer.status_code == 201, answer.text
        return answer.json()

    def get(self, path: str, **params) -> dict:
        answer = requests.get(f"{self.base_url}{path}", params=params, headers=self.headers, timeout=30)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def events(self, service: str, position: int) -> tuple[list[dict], int]:
        """Every public event of ``service`` after ``position``, page by page; and the new position."""
        bodies = []
        while True:
            page = self.get(f"/v1/services/{service}/events", position=position, limit=100)
            bodies += [item["body"] for item in page["items"]]
            position = page["position"]
            if not page["more"]:
                return bodies, position


@pytest.fixture
def service_databases(monkeypatch):
    with databases_for(monkeypatch, (*SERVICES, "clients")):
        yield


def operator(*args: str) -> str:
    """An operator's `pingan` command; its output."""
    done = subprocess.run([PINGAN, *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_hotline_over_http_reports_retries_follows_and_reads_outcome(service_databases, service_config, rpc_as,
                                                                      tmp_path):
    amqp = service_config["AMQP_URI"]
    processes = [ServiceProcess(name, amqp, tmp_path / f"{name}.log") for name in (*SERVICES, "gateway")]
    proxy = None
    try:
        for process in processes:
            process.start()
        with rpc_as() as rpc:
            seed_registry(rpc)
        operator("clients", "register", "hotline", "--name", "Citizen hotline", "--jurisdiction", "433100")
        token = operator("clients", "token", "hotline").strip().splitlines()[-1]
        gateway = processes[-1].port
        proxy = TcpProxy(gateway)
        direct = HotlineClient(f"http://127.0.0.1:{gateway}", token)
        lossy = HotlineClient(f"http://127.0.0.1:{proxy.port}", token)

        # The first answer is lost on the way back; the hotline retries with the same key.
        key = f"hotline:{TICKET}:report"
        proxy.drop_replies = True
        with pytest.raises(requests.ConnectionError):
            lossy.report(DISPUTE, key)
        proxy.drop_replies = False
        reported = lossy.report(DISPUTE, key)
        event_id = reported["event_id"]
        mine = direct.get("/v1/reports", external_ref=TICKET)["items"]
        assert [row["event_id"] for row in mine] == [event_id]

        # Its own position in each service's log, from the start.
        grid_seen, grid_position = direct.events("grid_events", 0)
        assert [b["event_type"] for b in grid_seen if b["aggregate_id"] == event_id] == ["dispute_reported"]

        def case_opened():
            nonlocal mediation_seen
            more, _ = direct.events("mediation", 0)
            mediation_seen = [b for b in more if b["event_type"] == "case_opened"
                              and b["data"].get("grid_event_id") == event_id]
            return mediation_seen

        mediation_seen: list = []
        wait_until(case_opened, 30, "mediation's case for the hotline's dispute, by catch-up")

        with rpc_as() as rpc:  # the county handles it and the family gives feedback
            carry_through(rpc, event_id, satisfied=True)

        story: list = []

        def closed():
            nonlocal grid_position
            more, grid_position = direct.events("grid_events", grid_position)
            story.extend(b for b in more if b["aggregate_id"] == event_id)
            return any(b["event_type"] == "event_closed" for b in story)

        wait_until(closed, 30, "event_closed, by catch-up")
        assert [b["event_type"] for b in sorted(story, key=lambda b: b["aggregate_version"])] == [
            "event_accepted", "event_assigned", "event_handled", "feedback_recorded", "event_closed"]
        assert all(b["data"]["external_ref"] == TICKET for b in story)

        outcome = direct.get(f"/v1/reports/{event_id}")
        assert (outcome["status"], outcome["satisfied"], outcome["external_ref"]) == ("closed", True, TICKET)
        assert outcome["feedback"] == "the family is content"
    finally:
        if proxy is not None:
            proxy.close()
        for process in processes:
            process.stop()

"""The citizen hotline played over AMQP only: its client (tests/e2e/hotline_amqp_client.py) speaks
kombu and the wire format of docs/integration.md, against grid_events in its own OS process on
real RabbitMQ and PostgreSQL; an operator registers it with `pingan clients` and carries the
report to closure through the ordinary RPCs."""

import ast
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.e2e.hotline_amqp_client import CallRefused, HotlineClient, signed_by
from tests.e2e.processes import PINGAN, ServiceProcess, databases_for
from tests.integration.test_grid_events_service import DISPUTE, seed_registry
from tests.integration.test_grid_lifecycle_events import carry_through
from tests.polling import wait_until

pytestmark = pytest.mark.e2e

CLIENT_MODULE = Path(__file__).with_name("hotline_amqp_client.py")
TICKET = "ticket-88417"
STORY = ["dispute_reported", "event_accepted", "event_assigned", "event_handled", "feedback_recorded",
         "event_closed"]


@pytest.fixture
def grid_events(monkeypatch, service_config, rpc_as, tmp_path):
    with databases_for(monkeypatch, ("grid_events", "clients")):
        subprocess.run([PINGAN, "migrate", "clients"], check=True, capture_output=True)
        process = ServiceProcess("grid_events", service_config["AMQP_URI"], tmp_path / "grid_events.log").start()
        try:
            with rpc_as() as rpc:
                seed_registry(rpc)
            yield process
        finally:
            process.stop()


def operator(*args: str) -> str:
    """`pingan clients ...` where the issuer's key and the registry's database are."""
    return subprocess.run([PINGAN, "clients", *args], check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def hotline(grid_events, service_config):
    operator("register", "hotline-12345", "--name", "Citizen hotline", "--jurisdiction", "433100")
    client = HotlineClient(service_config["AMQP_URI"], operator("token", "hotline-12345"))
    yield client
    client.close()


def closed_story(client: HotlineClient, event_id: str) -> list[dict]:
    items, _ = client.catch_up("grid_events", position=0)
    mine = sorted((i for i in items if i["body"]["aggregate_id"] == event_id),
                  key=lambda i: i["body"]["aggregate_version"])
    return mine if mine and mine[-1]["body"]["event_type"] == "event_closed" else []


def test_hotline_over_amqp_reports_retries_follows_and_reads_the_outcome(hotline, rpc_as):
    report = dict(DISPUTE, external_ref=TICKET, command_id=f"hotline:{TICKET}:report")
    abandoned = hotline.send("grid_events.report_event", **report)  # the client times out before any reply...
    reported = hotline.call("grid_events.report_event", **report)  # ...and resends with the same command id
    late = hotline.wait(abandoned)  # the first reply, read late, names the same record
    assert late["event_id"] == reported["event_id"] and reported["external_ref"] == TICKET
    listed = hotline.call("grid_events.list_events", external_ref=TICKET)
    assert [item["event_id"] for item in listed["items"]] == [reported["event_id"]]

    with rpc_as() as rpc:  # the county's officers carry the report through to closure, with feedback
        carry_through(rpc, reported["event_id"], satisfied=True)

    story = wait_until(lambda: closed_story(hotline, reported["event_id"]), 30, "the closed story by catch-up")
    assert [item["body"]["event_type"] for item in story] == STORY
    assert {item["body"]["data"]["external_ref"] for item in story} == {TICKET}
    public_keys = json.loads(os.environ["PINGAN_EVENT_PUBLIC_KEYS"])  # given by the operator
    assert all(signed_by(item, public_keys) for item in story)
    assert story[-1]["body"]["data"]["satisfied"] is True

    outcome = hotline.call("grid_events.get_event", event_id=reported["event_id"])
    assert (outcome["status"], outcome["feedback"], outcome["satisfied"]) == ("closed", "the family is content", True)


def test_hotline_over_amqp_revoked_client_is_refused(hotline):
    hotline.call("grid_events.list_events")
    operator("revoke", "hotline-12345")

    def refused() -> bool:  # within PINGAN_CLIENT_CACHE_SECONDS
        try:
            hotline.call("grid_events.list_events")
        except CallRefused as refusal:
            return refusal.exc_type == "Unauthenticated"
        return False

    assert wait_until(refused, 30, "the revoked client refused")


def test_hotline_client_imports_only_kombu_and_standard_library():
    tree = ast.parse(CLIENT_MODULE.read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= {"base64", "hashlib", "json", "uuid", "dataclasses", "typing", "kombu", "cryptography"}

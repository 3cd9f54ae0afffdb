"""Logs are JSON, carry the call id, and never personal data — not even from refused input."""

import json

import pytest

from shared.errors import ValidationFailed
from tests.e2e.processes import ServiceProcess

pytestmark = pytest.mark.e2e

CANARY = "Canary Zhang 433101199001011234"


def test_service_logs_are_json_with_call_id_and_no_personal_data(service_config, rpc_as, pg_url, tmp_path):
    log = tmp_path / "grid_events.log"
    service = ServiceProcess("grid_events", service_config["AMQP_URI"], log, PINGAN_LOG_LEVEL="DEBUG").start()
    try:
        with rpc_as() as rpc:
            for code in ("433100", "433101", "433101001", "433101001001"):
                rpc.grid_events.register_jurisdiction(code=code, name=code)
            rpc.grid_events.register_grid(code="433101001001001", name="g")
            rpc.grid_events.report_event(grid_code="433101001001001", category="dispute", source="petition",
                                         severity="low", place=CANARY, description=f"{CANARY} and a wall")
            with pytest.raises(ValidationFailed):
                rpc.grid_events.report_event(grid_code="433101001001001", category="dispute", source="petition",
                                             severity=CANARY, place=CANARY, description=CANARY)
    finally:
        service.stop()
    text = log.read_text()
    records = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    refused = [r for r in records if r.get("event") == "refused"]
    assert CANARY not in text
    assert refused and refused[0]["call_id"].startswith("standalone_rpc_proxy.call.")
    assert refused[0]["error"] == "ValidationFailed"

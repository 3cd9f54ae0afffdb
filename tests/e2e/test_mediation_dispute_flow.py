"""A dispute reported in grid_events becomes a mediation case, fails three times at
the village, is escalated, and the grid event shows the link — each service in its
own OS process, with its own PostgreSQL database, over real RabbitMQ."""

from datetime import date
from uuid import UUID

import pytest
from nameko.events import event_handler
from nameko.testing.services import entrypoint_waiter

from services.mediation.contracts import CaseEscalated
from services.mediation.domain import case_id_for
from shared.context import Role
from shared.contracts import Envelope
from shared.errors import NotFound
from tests.e2e.processes import ServiceProcess, databases_for
from tests.polling import wait_until

pytestmark = pytest.mark.e2e

VILLAGE = "433101001001"
GRID = VILLAGE + "001"
WORKER = "gw-2001"
MEDIATOR = dict(role=Role.MEDIATOR, jurisdiction=VILLAGE, actor_id="med-21")
SERVICES = ("grid_events", "mediation")


@pytest.fixture
def service_databases(monkeypatch):
    with databases_for(monkeypatch, SERVICES):
        yield


class EscalationWatcher:
    """Stands for any other system: receives mediation's public escalation events."""

    name = "escalation_watcher"
    received: list = []

    @event_handler("mediation", "case_escalated")
    def on_escalated(self, payload):
        EscalationWatcher.received.append(payload)


def case_when_opened(rpc, case_id):
    try:
        return rpc.mediation.get_case(case_id=case_id)
    except NotFound:
        return None


def test_dispute_escalates_after_three_village_failures_and_grid_event_links_case(
        service_databases, service_config, container_factory, rpc_as, tmp_path):
    processes = [ServiceProcess(name, service_config["AMQP_URI"], tmp_path / f"{name}.log") for name in SERVICES]
    EscalationWatcher.received = []
    watcher = container_factory(EscalationWatcher, service_config)
    watcher.start()
    try:
        for process in processes:
            process.start()
        with rpc_as() as rpc:
            for code in ("433100", "433101", "433101001", VILLAGE):
                rpc.grid_events.register_jurisdiction(code=code, name=f"unit {code}")
            rpc.grid_events.register_grid(code=GRID, name="grid 1")
            rpc.grid_events.assign_worker(grid_code=GRID, worker_id=WORKER)
        with rpc_as(role=Role.GRID_WORKER, jurisdiction=VILLAGE, actor_id=WORKER) as rpc:
            event_id = rpc.grid_events.report_event(grid_code=GRID, category="dispute", source="police_call",
                                                    severity="medium", place="Peng's courtyard",
                                                    description="water channel blocked")["event_id"]
        case_id = str(case_id_for(UUID(event_id)))

        with rpc_as(**MEDIATOR) as rpc:
            opened = wait_until(lambda: case_when_opened(rpc, case_id), 30, "the mediation case opened")
            assert opened and opened["grid_event_id"] == event_id and opened["tier"] == "village"
            rpc.mediation.record_subject(case_id=case_id, subject="a blocked irrigation channel")
            rpc.mediation.add_party(case_id=case_id, name="Peng Jun", languages=["mandarin"], understands_mandarin=True)
            rpc.mediation.add_party(case_id=case_id, name="Xiang Ying", languages=["tujia"], understands_mandarin=False)
            rpc.mediation.record_risk_check(case_id=case_id, level="low", note="neighbours, no threats")
            rpc.mediation.accept_case(case_id=case_id)
            attempt = dict(case_id=case_id, tier="village", mode="peoples", mediator_ids=["med-21"],
                           place="the channel bank", on_site=True, held_on=date.today().isoformat(), outcome="failed",
                           interpreters=[{"party_id": "P2", "language": "tujia", "interpreter_id": "interp-5"}])
            tiers = [rpc.mediation.record_attempt(**attempt)["tier"] for _ in range(2)]
            with entrypoint_waiter(watcher, "on_escalated", timeout=30):
                tiers.append(rpc.mediation.record_attempt(**attempt)["tier"])

        assert tiers == ["village", "village", "township"]
        escalated = CaseEscalated.model_validate(Envelope.model_validate(EscalationWatcher.received[-1]).data)
        assert (str(escalated.case_id), escalated.from_tier, escalated.to_tier) == (case_id, "village", "township")
        with rpc_as() as rpc:
            linked = wait_until(lambda: rpc.grid_events.get_event(event_id=event_id)["mediation_case_id"], 30,
                                "the grid event linked to its case")
            shown = rpc.mediation.get_case(case_id=case_id)
        assert linked == case_id
        assert (shown["tier"], shown["village_failures"]) == ("township", 3)
        assert ([p["name"] for p in shown["parties"]], shown["subject"]) == (  # sealed in the log, opened on read
            ["Peng Jun", "Xiang Ying"], "a blocked irrigation channel")
    finally:
        for process in processes:
            process.stop()

"""The whole lifecycle of a reported event as public events, on real RabbitMQ and PostgreSQL:
what an outside system follows to tell the citizen the outcome."""

import pytest
from nameko.events import event_handler

from tests.integration.clients_support import client_token
from tests.integration.test_grid_events_service import DISPUTE
from tests.polling import wait_until

pytestmark = pytest.mark.integration

LIFECYCLE = ("event_accepted", "event_assigned", "event_handled", "feedback_recorded", "event_closed")


class LifecycleListener:
    """Keeps every lifecycle message as received, raw."""

    name = "lifecycle_listener"
    received: list = []

    @event_handler("grid_events", "event_accepted")
    def on_accepted(self, body):
        LifecycleListener.received.append(body)

    @event_handler("grid_events", "event_assigned")
    def on_assigned(self, body):
        LifecycleListener.received.append(body)

    @event_handler("grid_events", "event_handled")
    def on_handled(self, body):
        LifecycleListener.received.append(body)

    @event_handler("grid_events", "feedback_recorded")
    def on_feedback(self, body):
        LifecycleListener.received.append(body)

    @event_handler("grid_events", "event_closed")
    def on_closed(self, body):
        LifecycleListener.received.append(body)


def carry_through(rpc, event_id, satisfied=True):
    """An officer takes a report from acceptance to closure."""
    rpc.grid_events.accept_event(event_id=event_id)
    rpc.grid_events.assign_event(event_id=event_id, unit="justice-bureau")
    rpc.grid_events.record_handling(event_id=event_id, note="met both households at the wall")
    rpc.grid_events.record_feedback(event_id=event_id, feedback="the family is content", satisfied=satisfied)
    for step in rpc.grid_events.get_event(event_id=event_id)["required_steps"]:
        rpc.grid_events.tick_checklist_step(event_id=event_id, step=step)
    rpc.grid_events.close_event(event_id=event_id)


@pytest.fixture
def hotline_token(pg_url, tokens):
    return client_token(pg_url, tokens)


def test_lifecycle_is_published_in_order_without_personal_data(grid_seeded, container_factory, service_config, rpc_as,
                                                               hotline_token):
    LifecycleListener.received = []
    container_factory(LifecycleListener, service_config).start()
    with rpc_as(token=hotline_token) as rpc:
        event_id = rpc.grid_events.report_event(**DISPUTE)["event_id"]
    with rpc_as() as rpc:
        carry_through(rpc, event_id, satisfied=False)

    def mine():
        return [body for body in LifecycleListener.received if body["aggregate_id"] == event_id]

    wait_until(lambda: len(mine()) == len(LIFECYCLE), timeout=20, what="every lifecycle event")
    by_version = sorted(mine(), key=lambda body: body["aggregate_version"])
    assert [body["event_type"] for body in by_version] == list(LIFECYCLE)
    assert by_version[3]["data"]["satisfied"] is False and by_version[4]["data"]["satisfied"] is False
    text = repr(by_version)
    assert "content" not in text and "households" not in text and DISPUTE["description"] not in text


def test_reporter_reads_feedback_and_satisfaction_of_its_report(grid_seeded, rpc_as, hotline_token):
    with rpc_as(token=hotline_token) as rpc:
        event_id = rpc.grid_events.report_event(**DISPUTE)["event_id"]
    with rpc_as() as rpc:
        carry_through(rpc, event_id)
    with rpc_as(token=hotline_token) as rpc:
        outcome = rpc.grid_events.get_event(event_id=event_id)
    assert (outcome["status"], outcome["feedback"], outcome["satisfied"]) == ("closed", "the family is content", True)

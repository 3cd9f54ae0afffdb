"""The documented wire format (docs/integration.md), spoken with kombu alone against real
RabbitMQ and PostgreSQL: what a client in another language does."""

import uuid

import pytest
from kombu import Connection, Exchange, Producer, Queue

from tests.integration.clients_support import client_token
from tests.integration.test_grid_events_service import DISPUTE

pytestmark = pytest.mark.integration

RPC = Exchange("nameko-rpc", type="topic", durable=True)


def call(amqp_uri, token, routing_key, **kwargs):
    """One RPC as section 2 of docs/integration.md describes it; returns the reply body."""
    with Connection(amqp_uri) as conn:
        reply_key = f"wire-test-{uuid.uuid4()}"
        replies = Queue(reply_key, exchange=RPC, routing_key=reply_key, exclusive=True, auto_delete=True)
        replies(conn.channel()).declare()
        headers = {} if token is None else {"nameko.caller_token": token}
        Producer(conn.channel()).publish({"args": [], "kwargs": kwargs}, exchange=RPC, routing_key=routing_key,
                                         serializer="json", reply_to=reply_key, correlation_id=str(uuid.uuid4()),
                                         headers=headers)
        answer = {}

        def received(body, message):
            answer.update(body)
            message.ack()

        with conn.Consumer(replies, callbacks=[received], accept=["json"]):
            conn.drain_events(timeout=15)
        return answer


@pytest.fixture
def hotline(pg_url, tokens):
    return client_token(pg_url, tokens)


def test_wire_rpc_reports_and_reads_back_with_kombu_only(grid_seeded, service_config, hotline):
    uri = service_config["AMQP_URI"]
    reported = call(uri, hotline, "grid_events.report_event", **DISPUTE, external_ref="ticket-77")
    assert reported["error"] is None and reported["result"]["external_ref"] == "ticket-77"
    found = call(uri, hotline, "grid_events.get_event", event_id=reported["result"]["event_id"])
    assert found["result"]["status"] == "reported"


def test_wire_rpc_refusal_is_a_typed_error_body(grid_seeded, service_config):
    refused = call(service_config["AMQP_URI"], None, "grid_events.report_event", **DISPUTE)
    assert refused["result"] is None
    assert refused["error"]["exc_type"] == "Unauthenticated"
    assert set(refused["error"]) == {"exc_type", "exc_path", "exc_args", "value"}


def test_wire_catch_up_returns_signed_envelopes(grid_seeded, service_config, hotline):
    uri = service_config["AMQP_URI"]
    call(uri, hotline, "grid_events.report_event", **DISPUTE, external_ref="ticket-78")
    page = call(uri, hotline, "grid_events.events_since", position=0, limit=100)["result"]
    mine = [item for item in page["items"] if item["body"]["data"].get("external_ref") == "ticket-78"]
    assert [item["body"]["event_type"] for item in mine] == ["dispute_reported"]
    assert set(mine[0]["headers"]) == {"nameko.event_signer", "nameko.event_signature"}

"""Catch-up on real RabbitMQ and PostgreSQL: a subscriber that was away reads the public events
from the log, as published (same envelopes, valid signatures), in order, and resumes."""

import json

import pytest
from jsonschema import Draft202012Validator

from shared.config import load_settings
from shared.contract_docs import DOCS
from shared.errors import Unauthenticated, ValidationFailed
from shared.security.event_signing import SIGNATURE, SIGNER, event_verifier
from tests.integration.clients_support import client_token
from tests.integration.test_grid_events_service import DISPUTE
from tests.integration.test_grid_lifecycle_events import carry_through

pytestmark = pytest.mark.integration


def read_all(rpc, position=0, limit=3):
    items = []
    while True:
        page = rpc.grid_events.events_since(position=position, limit=limit)
        items += page["items"]
        position = page["position"]
        if not page["more"]:
            return items, position


def test_events_since_returns_published_events_in_order_with_valid_signatures(grid_seeded, rpc_as):
    with rpc_as() as rpc:
        event_id = rpc.grid_events.report_event(**DISPUTE)["event_id"]
        carry_through(rpc, event_id)
        items, _ = read_all(rpc)
    verifier = event_verifier(load_settings())
    for item in items:
        context = {key.removeprefix("nameko."): value for key, value in item["headers"].items()}
        verifier.verify("grid_events", item["body"], context)
        assert context[SIGNER] == "grid_events" and context[SIGNATURE]
    mine = [item["body"]["event_type"] for item in items if item["body"]["aggregate_id"] == event_id]
    assert mine == ["dispute_reported", "event_accepted", "event_assigned", "event_handled", "feedback_recorded",
                    "event_closed"]
    ids = [item["body"]["notification_id"] for item in items]
    assert ids == sorted(ids)


def test_events_since_resumes_after_position(grid_seeded, rpc_as):
    with rpc_as() as rpc:
        first = rpc.grid_events.report_event(**DISPUTE)["event_id"]
        _, position = read_all(rpc)
        second = rpc.grid_events.report_event(**DISPUTE)["event_id"]
        later, _ = read_all(rpc, position)
    assert [item["body"]["aggregate_id"] for item in later] == [second]
    assert first != second


def test_events_since_outside_jurisdiction_returns_nothing(grid_seeded, rpc_as, pg_url, tokens):
    token = client_token(pg_url, tokens, "court-433102", "433102")
    with rpc_as() as rpc:
        rpc.grid_events.report_event(**DISPUTE)
    with rpc_as(token=token) as rpc:
        items, position = read_all(rpc)
    assert items == [] and position > 0


def test_events_since_without_token_is_refused(grid_seeded, rpc_as):
    with rpc_as(token=False) as rpc, pytest.raises(Unauthenticated):
        rpc.grid_events.events_since(position=0)


def test_events_since_bad_limit_is_refused(grid_seeded, rpc_as):
    with rpc_as() as rpc, pytest.raises(ValidationFailed):
        rpc.grid_events.events_since(position=0, limit=5000)


def test_events_since_bodies_match_committed_contracts(grid_seeded, rpc_as):
    with rpc_as() as rpc:
        carry_through(rpc, rpc.grid_events.report_event(**DISPUTE, external_ref="ticket-1")["event_id"])
        items, _ = read_all(rpc)
    envelope = Draft202012Validator(json.loads((DOCS / "envelope.json").read_text()))
    for item in items:
        body = item["body"]
        envelope.validate(body)
        path = DOCS / "grid_events" / "events" / f"{body['event_type']}.v{body['schema_version']}.json"
        Draft202012Validator(json.loads(path.read_text())).validate(body["data"])
    assert {item["body"]["data"]["external_ref"] for item in items} == {"ticket-1"}

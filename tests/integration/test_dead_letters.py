"""Poison messages of each kind are dead-lettered with their reason, counted, listed and
replayable; none is dropped and none kills the consumer (docs/reliability.md)."""

import uuid

import pytest
from nameko.amqp.publish import Publisher
from nameko.standalone.events import get_event_exchange
from prometheus_client import REGISTRY

from services.grid_events.contracts import EventReported
from shared import dead_letters
from shared.dependencies import Store
from shared.entrypoints import ServiceBase, consumes
from shared.reliable import HANDLER_ATTEMPTS
from tests.conftest import signed_headers
from tests.integration.test_consumer_tracking import (
    InboxApplication,
    NotesView,
    note_count,
)
from tests.polling import wait_until

pytestmark = pytest.mark.integration

BROKEN = {"on": False}  # the handler's fault, switched by the test


class FlakyInbox(ServiceBase):
    name = "flaky_inbox"
    store = Store(InboxApplication, [NotesView()])

    @consumes("grid_events", "dispute_reported", EventReported)
    def on_dispute(self, call, envelope, payload):
        if BROKEN["on"]:
            raise RuntimeError("a defect in the handler")
        self.store.app.note(call, envelope, payload)


def envelope(data=None, schema_version=1):
    return {"source": "grid_events", "event_type": "dispute_reported", "schema_version": schema_version,
            "notification_id": 7, "aggregate_id": "x", "aggregate_version": 1,
            "occurred_at": "2026-01-01T00:00:00Z", "audit": {},
            "data": data if data is not None else {
                "event_id": str(uuid.uuid4()), "grid_code": "433101001001001", "jurisdiction": "433101001001",
                "county": "433101", "category": "dispute", "source": "petition", "severity": "low",
                "reported_at": "2026-01-01T00:00:00Z"}}


@pytest.fixture
def inbox(container_factory, service_config, pg_url):
    BROKEN["on"] = False
    container = container_factory(FlakyInbox, service_config)
    container.start()
    yield next(d for d in container.dependencies if isinstance(d, Store))
    BROKEN["on"] = False


def publish(service_config, body, token=True, **options):
    publisher = Publisher(service_config["AMQP_URI"], serializer="json")
    headers = signed_headers("grid_events", body) if token else {}
    publisher.publish(body, exchange=get_event_exchange("grid_events", service_config),
                      routing_key="dispute_reported", headers=headers, **options)


def letters(service_config):
    return dead_letters.list_letters("flaky_inbox", service_config["AMQP_URI"])


def wait_letters(service_config, count):
    wait_until(lambda: len(letters(service_config)) >= count, 30, "every poison message dead-lettered")
    return letters(service_config)


def counted(reason):
    return REGISTRY.get_sample_value("pingan_dead_letters_total", {"service": "flaky_inbox", "reason": reason}) or 0


def test_dead_letter_undecodable_message_kept_with_reason(inbox, service_config):
    before = counted("undecodable")
    publish(service_config, b"{not json", token=False, content_type="application/json", serializer=None)
    [letter] = wait_letters(service_config, 1)
    assert letter["reason"] == "undecodable" and letter["queue"].endswith("flaky_inbox.on_dispute")
    # The count follows the broker's confirm of the dead letter, so it may land just after the letter shows.
    assert wait_until(lambda: counted("undecodable") == before + 1, 10, "the dead letter counted")


def test_dead_letter_unsigned_message_kept_as_unauthenticated(inbox, service_config):
    publish(service_config, envelope(), token=False)
    [letter] = wait_letters(service_config, 1)
    assert letter["reason"] == "unauthenticated"
    assert note_count(inbox) == 0


def test_dead_letter_wrong_schema_kept_as_malformed(inbox, service_config):
    publish(service_config, envelope(schema_version=99))
    [letter] = wait_letters(service_config, 1)
    assert letter["reason"] == "malformed"
    assert note_count(inbox) == 0


def test_dead_letter_failing_handler_kept_then_replayed_once_fixed(inbox, service_config, monkeypatch):
    monkeypatch.setattr("shared.reliable.backoff_delay", lambda attempts: 0.01)
    BROKEN["on"] = True
    publish(service_config, envelope())
    [letter] = wait_letters(service_config, 1)
    assert letter["reason"] == "handler_failed"
    assert note_count(inbox) == 0

    BROKEN["on"] = False
    assert dead_letters.replay("flaky_inbox", service_config["AMQP_URI"]) == 1
    wait_until(lambda: note_count(inbox) == 1, 30, "the replayed message handled once")
    assert letters(service_config) == []


def test_dead_letter_drop_removes_only_the_named_one(inbox, service_config):
    publish(service_config, envelope(), token=False)
    publish(service_config, envelope(schema_version=99))
    first, second = wait_letters(service_config, 2)
    assert dead_letters.drop("flaky_inbox", service_config["AMQP_URI"], first["id"]) == 1
    assert [letter["id"] for letter in letters(service_config)] == [second["id"]]


def test_dead_letter_handler_attempts_bounded():
    assert 1 < HANDLER_ATTEMPTS <= 10

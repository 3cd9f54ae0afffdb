"""How an event handler settles a message after its worker: acknowledged when handled; after an
outage, backed off (doubling) and requeued, never dead-lettered; after a defect, requeued until
the attempts run out, then dead-lettered; refused ones dead-lettered at once."""

from types import SimpleNamespace

import pytest
import sqlalchemy.exc

from shared import reliable
from shared.reliable import HANDLER_ATTEMPTS, DeadLetter, EventHandler


class Settled:
    def __init__(self):
        self.acked, self.requeued, self.dead = [], [], []

    def ack_message(self, message):
        self.acked.append(message)

    def requeue_message(self, message):
        self.requeued.append(message)


@pytest.fixture
def handler(monkeypatch):
    waits = []
    monkeypatch.setattr(reliable.eventlet, "sleep", waits.append)
    monkeypatch.setattr(reliable, "backoff_delay", lambda failures: float(failures))
    settled = Settled()
    handler = EventHandler.__new__(EventHandler)
    handler.__dict__.update(queue_consumer=settled, _outage=0, _attempts={},
                            queue=SimpleNamespace(name="evt-q"),
                            dead_letters=SimpleNamespace(put=lambda m, reason, q: settled.dead.append(reason)))
    handler.waits = waits
    return handler


def message(body=b'{"a": 1}'):
    return SimpleNamespace(body=body, headers={})


def failed(error):
    return (type(error), error, None)


def test_consumer_outage_backs_off_doubling_and_never_dead_letters(handler):
    outage = sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))
    for _ in range(HANDLER_ATTEMPTS + 3):
        handler.handle_message_processed(message(), exc_info=failed(outage))
    assert handler.waits == [float(n) for n in range(1, HANDLER_ATTEMPTS + 4)]
    assert len(handler.queue_consumer.requeued) == HANDLER_ATTEMPTS + 3 and handler.queue_consumer.dead == []


def test_consumer_success_resets_outage_backoff(handler):
    outage = ConnectionResetError()
    handler.handle_message_processed(message(), exc_info=failed(outage))
    handler.handle_message_processed(message(), result=None)
    handler.handle_message_processed(message(), exc_info=failed(outage))
    assert handler.waits == [1.0, 1.0]


def test_consumer_defect_dead_lettered_after_attempts(handler):
    for _ in range(HANDLER_ATTEMPTS):
        handler.handle_message_processed(message(), exc_info=failed(RuntimeError("defect")))
    assert len(handler.queue_consumer.requeued) == HANDLER_ATTEMPTS - 1
    assert handler.queue_consumer.dead == ["handler_failed"] and len(handler.queue_consumer.acked) == 1


def test_consumer_refusal_dead_lettered_at_once(handler):
    handler.handle_message_processed(message(), exc_info=failed(DeadLetter("unauthenticated", "no token")))
    assert handler.queue_consumer.dead == ["unauthenticated"] and handler.queue_consumer.requeued == []


def test_consumer_dead_letter_unwritable_requeues_instead(handler):
    def refuse(*args):
        raise ConnectionResetError()

    handler.dead_letters = SimpleNamespace(put=refuse)
    handler.handle_message_processed(message(), exc_info=failed(DeadLetter("malformed", "bad")))
    assert handler.queue_consumer.acked == [] and len(handler.queue_consumer.requeued) == 1

"""nameko's RPC and event entrypoints, made to survive the broker and the database going away.

- A reply that cannot be sent (the broker went away mid-call) is logged and dropped, and the
  request left to the broker to deliver again: never the container's death. The command runs
  again and, sent with its ``command_id``, returns its first result.
- An event handler that fails for want of its database or broker backs off (doubling,
  bounded) before the message goes back to the queue; one that cannot be decoded, fails
  authentication or validation, or fails its handler ``HANDLER_ATTEMPTS`` times is put in the
  service's dead-letter queue (shared/dead_letters.py). docs/reliability.md.
"""

from __future__ import annotations

import contextlib
import hashlib
from functools import partial
from typing import Any

import eventlet
import structlog
from nameko import events, messaging
from nameko import rpc as nameko_rpc

from .dead_letters import DeadLetters
from .errors import PinganError
from .faults import backoff_delay, is_infrastructure

log = structlog.get_logger(__name__)

# A handler failing this many times (not for want of the database or broker) is dead-lettered.
HANDLER_ATTEMPTS = 5


class DeadLetter(PinganError):
    """Raised by an event entrypoint for a message that can never be handled as it is."""

    code = "dead_letter"

    def __init__(self, reason: str, message: str):
        super().__init__(message, reason)
        self.reason = reason


class RpcConsumer(nameko_rpc.RpcConsumer):
    def handle_result(self, message: Any, result: Any, exc_info: Any) -> Any:
        try:
            return super().handle_result(message, result, exc_info)
        except Exception as error:
            # The broker went away with the reply: unacknowledged, the request is delivered again.
            log.warning("reply_failed", error=type(error).__name__)
            with contextlib.suppress(Exception):  # the connection is gone; the broker requeues it itself
                self.queue_consumer.requeue_message(message)
            return result, exc_info


class Rpc(nameko_rpc.Rpc):
    rpc_consumer = RpcConsumer()


rpc = Rpc.decorator


class QueueConsumer(messaging.QueueConsumer):
    """Consumes the event queues; a message that cannot be decoded is dead-lettered, not fatal."""

    def get_consumers(self, consumer_cls: Any, channel: Any) -> Any:
        consumers = super().get_consumers(consumer_cls, channel)
        for provider, consumer in self._consumers.items():
            consumer.on_decode_error = partial(self._undecodable, provider)
        return consumers

    def _undecodable(self, provider: EventHandler, message: Any, error: Exception) -> None:
        log.error("event_undecodable", queue=provider.queue.name, error=type(error).__name__)
        provider.settle_dead(message, "undecodable")


class EventHandler(events.EventHandler):
    queue_consumer = QueueConsumer()

    def setup(self) -> None:
        super().setup()
        self.dead_letters = DeadLetters(self.container.service_name, self.container.config["AMQP_URI"])
        self._outage = 0  # consecutive failures for want of the database or broker
        self._attempts: dict[str, int] = {}

    def handle_message_processed(self, message: Any, result: Any = None, exc_info: Any = None) -> None:
        if exc_info is None:
            self._outage = 0
            self._attempts.pop(_key(message), None)
            self.queue_consumer.ack_message(message)
            return
        error = exc_info[1]
        if isinstance(error, DeadLetter):
            self.settle_dead(message, error.reason)
        elif is_infrastructure(error):
            self._outage += 1
            eventlet.sleep(backoff_delay(self._outage))
            self.queue_consumer.requeue_message(message)
        else:
            key = _key(message)
            delivered = int((message.headers or {}).get("x-delivery-count") or 0)  # quorum queues count
            attempts = self._attempts[key] = max(self._attempts.get(key, 0), delivered) + 1
            if attempts >= HANDLER_ATTEMPTS:
                self._attempts.pop(key, None)
                self.settle_dead(message, "handler_failed")
            else:
                eventlet.sleep(backoff_delay(attempts))
                self.queue_consumer.requeue_message(message)

    def settle_dead(self, message: Any, reason: str) -> None:
        """Keep the message in the dead-letter queue, then acknowledge it; if it cannot be
        kept (broker away), it goes back to its queue instead: never lost."""
        try:
            self.dead_letters.put(message, reason, self.queue.name)
        except Exception as error:
            log.warning("dead_letter_failed", reason=reason, error=type(error).__name__)
            self.queue_consumer.requeue_message(message)
            return
        self.queue_consumer.ack_message(message)


event_handler = EventHandler.decorator


def _key(message: Any) -> str:
    return hashlib.sha256(message.body if isinstance(message.body, bytes) else str(message.body).encode()).hexdigest()

"""Helpers of the canary tests: after an erasure, look for a planted name everywhere it could hide."""

import uuid
from contextlib import contextmanager
from urllib.parse import quote

import requests
from kombu import Connection, Queue
from nameko.standalone.events import get_event_exchange

from tests.polling import wait_until

MANAGEMENT = "http://127.0.0.1:15672/api"


@contextmanager
def unconsumed_queue(service_config: dict, service: str, routing_key: str = "#"):
    """A queue bound to ``service``'s events that nobody consumes: relayed messages stay in flight."""
    queue = Queue(f"canary-{uuid.uuid4().hex[:8]}", exchange=get_event_exchange(service, service_config),
                  routing_key=routing_key, durable=False)
    with Connection(service_config["AMQP_URI"]) as connection:
        bound = queue(connection.default_channel)
        bound.declare()
        yield bound
        bound.delete()


def vhost_messages(vhost: str) -> tuple[list[str], str]:
    """Every message still in any queue of the test vhost (peeked and requeued), and the queues' names.
    (The management API's message counts lag, so every queue is asked.)"""
    names, bodies = [], []
    auth = ("guest", "guest")
    queues = requests.get(f"{MANAGEMENT}/queues/{quote(vhost, safe='')}", auth=auth, timeout=10)
    queues.raise_for_status()
    for queue in queues.json():
        names.append(queue["name"])
        answer = requests.post(f"{MANAGEMENT}/queues/{quote(vhost, safe='')}/{quote(queue['name'], safe='')}/get",
                               json={"count": 1000, "ackmode": "ack_requeue_true", "encoding": "auto"},
                               auth=auth, timeout=10)
        answer.raise_for_status()
        bodies += [m["payload"] for m in answer.json()]
    return names, "\n".join(bodies)


def wait_for_in_flight(queue, count: int) -> None:
    """Wait until the relay has put ``count`` messages in the unconsumed ``queue``."""
    wait_until(lambda: queue.channel.queue_declare(queue=queue.name, passive=True).message_count >= count,
               15, f"{count} relayed messages in flight")

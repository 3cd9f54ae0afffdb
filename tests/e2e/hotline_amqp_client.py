"""The citizen hotline's pingan client as an outside team writes it from docs/integration.md alone:
kombu for AMQP, the standard library, and an Ed25519 library to check event signatures. No pingan
or nameko import (tests/e2e/test_hotline_over_amqp.py checks that this module has none)."""

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from kombu import Connection, Exchange, Producer, Queue

RPC = Exchange("nameko-rpc", type="topic", durable=True)  # section 2: the exchange every call goes to


class CallRefused(Exception):
    """A reply with an error body: ``exc_type`` is the name in section 6's table."""

    def __init__(self, error: dict):
        super().__init__(error["exc_type"], error["value"])
        self.exc_type = error["exc_type"]


@dataclass
class Pending:
    """A call sent; its reply comes to ``queue`` with ``correlation_id``."""

    queue: Queue
    correlation_id: str


class HotlineClient:
    def __init__(self, amqp_uri: str, token: str):
        self.connection = Connection(amqp_uri)
        self.token = token

    def close(self) -> None:
        self.connection.release()

    def send(self, method: str, **kwargs: Any) -> Pending:
        """Publish one call (arguments by name) and return without waiting for its reply."""
        reply_key = f"hotline-reply-{uuid.uuid4()}"
        replies = Queue(reply_key, exchange=RPC, routing_key=reply_key, exclusive=True, auto_delete=True)
        replies(self.connection.default_channel).declare()
        pending = Pending(replies, str(uuid.uuid4()))
        Producer(self.connection.default_channel).publish(
            {"args": [], "kwargs": kwargs}, exchange=RPC, routing_key=method, serializer="json",
            reply_to=reply_key, correlation_id=pending.correlation_id,
            headers={"nameko.caller_token": self.token, "nameko.call_id_stack": [f"hotline.{uuid.uuid4()}"]},
            mandatory=True)
        return pending

    def wait(self, pending: Pending, timeout: float = 30) -> Any:
        """The result of a sent call; ``CallRefused`` for an error reply."""
        answers: list[dict] = []

        def received(body: dict, message: Any) -> None:
            if message.properties.get("correlation_id") == pending.correlation_id:
                answers.append(body)
            message.ack()

        with self.connection.Consumer(pending.queue, callbacks=[received], accept=["json"]):
            while not answers:
                self.connection.drain_events(timeout=timeout)
        if answers[0]["error"]:
            raise CallRefused(answers[0]["error"])
        return answers[0]["result"]

    def call(self, method: str, **kwargs: Any) -> Any:
        return self.wait(self.send(method, **kwargs))

    def catch_up(self, service: str, position: int) -> tuple[list[dict], int]:
        """Section 5: every public event of ``service`` after ``position``, and the new position."""
        items: list[dict] = []
        more = True
        while more:
            page = self.call(f"{service}.events_since", position=position, limit=100)
            items += page["items"]
            position, more = page["position"], page["more"]
        return items, position


def signed_by(item: dict, public_keys: dict[str, str]) -> bool:
    """Section 4, "Authenticity": the signature header holds over the body in canonical JSON."""
    body, headers = item["body"], item["headers"]
    signer = headers["nameko.event_signer"]
    if signer != body["source"]:
        return False
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    digest = hashlib.sha256(b"pingan-event-v1\n" + canonical.encode()).digest()
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_keys[signer]))
    try:
        key.verify(base64.b64decode(headers["nameko.event_signature"]), digest)
    except Exception:  # cryptography's InvalidSignature: not signed by that service
        return False
    return True

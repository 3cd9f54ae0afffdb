"""Each service's dead-letter queue, and ``pingan dead-letters list|replay|drop <service>``.

A message a consumer can never handle as it is (undecodable, failing authentication or
validation, or failing its handler repeatedly) is kept here with why, instead of being dropped,
for an operator to inspect, replay into the queue it came from, or drop. Listing shows the
reason and routing, never the body: it may hold anything (docs/reliability.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import typer
from kombu import Connection, Exchange, Queue

from .metrics import metrics

EXCHANGE = Exchange("pingan.dead-letters", type="direct", durable=True)
HEADER = "x-pingan-dead-letter"  # {id, reason, queue, routing_key, at}; removed on replay


def dead_letter_queue(service: str) -> Queue:
    return Queue(f"{service}.dead-letters", exchange=EXCHANGE, routing_key=service, durable=True)


class DeadLetters:
    def __init__(self, service: str, amqp_uri: str):
        self.service = service
        self.amqp_uri = amqp_uri

    def put(self, message: Any, reason: str, queue: str) -> None:
        """Publish ``message`` as received (body, content type, headers) with broker confirms."""
        headers = dict(message.headers or {})
        headers[HEADER] = {
            "id": uuid.uuid4().hex, "reason": reason, "queue": queue,
            "routing_key": (message.delivery_info or {}).get("routing_key", ""),
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        body = message.body if isinstance(message.body, (bytes, str)) else str(message.body)
        with Connection(self.amqp_uri, transport_options={"confirm_publish": True}) as conn:
            conn.Producer().publish(
                body, exchange=EXCHANGE, routing_key=self.service, declare=[dead_letter_queue(self.service)],
                content_type=message.content_type or "application/octet-stream",
                content_encoding=message.content_encoding or "binary",
                headers=headers, delivery_mode=2, retry=True, retry_policy={"max_retries": 2},
            )
        metrics().dead_letters.labels(self.service, reason).inc()


def _each(service: str, amqp_uri: str, act: Callable[[Any, dict, Connection], bool]) -> int:
    """Take each message once (as many as were queued at the start); ``act`` says whether it
    is settled (acknowledged) or left in the queue. Returns how many were settled."""
    settled = 0
    with Connection(amqp_uri) as conn:
        queue = dead_letter_queue(service)(conn.default_channel)
        queue.declare()
        waiting = queue.queue_declare(passive=True).message_count
        for _ in range(waiting):
            message = queue.get(no_ack=False, accept=None)
            if message is None:
                break
            if act(message, dict((message.headers or {}).get(HEADER) or {}), conn):
                message.ack()
                settled += 1
        # Unsettled ones return to the queue when the channel closes.
    return settled


def list_letters(service: str, amqp_uri: str) -> list[dict]:
    found: list[dict] = []

    def note(message: Any, about: dict, conn: Connection) -> bool:
        found.append({**about, "bytes": len(message.body or b"")})
        return False  # listing leaves every letter where it is

    _each(service, amqp_uri, note)
    return found


def replay(service: str, amqp_uri: str, letter_id: str | None = None) -> int:
    """Publish each (or the one named) back to the queue it came from, then remove it here."""

    def send(message: Any, about: dict, conn: Connection) -> bool:
        if letter_id is not None and about.get("id") != letter_id:
            return False
        headers = {k: v for k, v in (message.headers or {}).items() if k != HEADER}
        producer = Connection(conn.as_uri(include_password=True), transport_options={"confirm_publish": True})
        with producer:
            producer.Producer().publish(
                message.body, exchange="", routing_key=about.get("queue", ""), headers=headers,
                content_type=message.content_type, content_encoding=message.content_encoding,
                delivery_mode=2, retry=True, retry_policy={"max_retries": 2})
        return True

    return _each(service, amqp_uri, send)


def drop(service: str, amqp_uri: str, letter_id: str | None = None) -> int:
    return _each(service, amqp_uri, lambda message, about, conn: letter_id is None or about.get("id") == letter_id)


app = typer.Typer(help="Inspect, replay or drop the messages a service could not handle.", no_args_is_help=True)
_AMQP = typer.Option(None, envvar="AMQP_URI", help="The broker (default: AMQP_URI).")
_ID = typer.Option(None, "--id", help="Only this dead letter (default: all).")


def _uri(amqp_uri: str | None) -> str:
    if not amqp_uri or amqp_uri.startswith("memory://"):
        raise typer.BadParameter("set AMQP_URI (or --amqp-uri) to the broker the services use")
    return amqp_uri


@app.command("list")
def list_command(service: str, amqp_uri: str | None = _AMQP) -> None:
    """The service's dead letters, one a line: id, reason, queue, routing key, when, size; never the body."""
    letters = list_letters(service, _uri(amqp_uri))
    for letter in letters:
        typer.echo("\t".join(str(letter.get(k, "")) for k in ("id", "reason", "queue", "routing_key", "at", "bytes")))
    typer.echo(f"{len(letters)} dead letter(s) for {service}", err=True)


@app.command("replay")
def replay_command(service: str, letter_id: str | None = _ID, amqp_uri: str | None = _AMQP) -> None:
    """Send dead letters back to the queue they came from (once fixed, they are handled)."""
    typer.echo(f"replayed {replay(service, _uri(amqp_uri), letter_id)}")


@app.command("drop")
def drop_command(service: str, letter_id: str | None = _ID, amqp_uri: str | None = _AMQP) -> None:
    """Remove dead letters for good."""
    typer.echo(f"dropped {drop(service, _uri(amqp_uri), letter_id)}")

"""Entrypoint decorators and the base every service class extends.

``@api(Model)`` is the front of the write and read paths: verify the caller
token, parse the payload into ``Model`` (a typed ValidationFailed
otherwise), then call the method with the verified call and the command.
``@consumes(...)`` does the same for another service's public events.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

import structlog
from kombu import Connection
from nameko.dependency_providers import Config
from nameko.web.handlers import http
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from pydantic import BaseModel

from .catch_up import EventsSince, events_since
from .contracts import Payload, open_envelope
from .dependencies import CallerIdentity, Observability, Presence
from .errors import EXPECTED_ERRORS, Conflict, PinganError, ValidationFailed
from .faults import is_infrastructure, unavailable
from .liveness import liveness
from .reliable import DeadLetter, event_handler, rpc
from .validation import field_names, parse, scrubbed

log = structlog.get_logger(__name__)


def api(model: type[BaseModel]) -> Callable:
    """Expose a method over RPC, taking named arguments validated as ``model``."""

    def decorate(method: Callable) -> Callable:
        @functools.wraps(method)
        def entry(self: Any, *args: Any, **payload: Any) -> Any:
            call = self.caller.verify()
            if args:
                raise ValidationFailed(f"{model.__name__}: pass arguments by name, not by position")
            try:
                return method(self, call, parse(model, payload))
            except PinganError as refusal:  # never a caller's value back in the answer or the log
                raise scrubbed(refusal, payload, field_names(model)) from None
            except Exception as error:
                if not is_infrastructure(error):
                    raise
                # Typed and retryable, without the driver's text (SQL, parameters, tables).
                log.warning("infrastructure_unavailable", error=type(error).__name__)
                raise unavailable(self.name) from None

        entry.command_model = model  # lets tools and tests enumerate every command's fields
        return rpc(expected_exceptions=EXPECTED_ERRORS)(entry)

    return decorate


def consumes(source: str, event_type: str, schema: type[Payload]) -> Callable:
    """Handle ``source``'s public ``event_type`` events, verified and validated.

    The method gets the verified call, the envelope and the payload; it
    passes ``message_key(envelope)`` to the application so that a redelivered
    message changes nothing. A message that can never be handled as it is (not
    signed by ``source`` over this very body, malformed payload, refused by the
    domain) is dead-lettered; any other error returns it to the queue to be
    tried again, after a backoff (shared/reliable.py).
    """

    def decorate(method: Callable) -> Callable:
        @functools.wraps(method)
        def entry(self: Any, raw: Any) -> Any:
            try:
                call = self.caller.verify_event(source, event_type, raw)
            except PinganError as refusal:
                raise _refused("unauthenticated", refusal) from None
            try:
                envelope, payload = open_envelope(raw, schema)
            except PinganError as refusal:
                raise _refused("malformed", refusal) from None
            try:
                return method(self, call, envelope, payload)
            except Conflict:
                raise  # a concurrent change: tried again
            except PinganError as refusal:
                raise _refused("refused", refusal) from None

        def _refused(reason: str, refusal: PinganError) -> DeadLetter:
            # Messages of our errors name fields and rules, never the message's values.
            log.error("event_refused", source=source, event_type=event_type, reason=reason,
                      error=type(refusal).__name__, detail=refusal.message)
            return DeadLetter(reason, refusal.message)

        return event_handler(source, event_type, requeue_on_error=True)(entry)

    return decorate


class ProcessBase:
    """What every pingan process serves besides its work: metrics, liveness, the call id in its logs."""

    observability = Observability()
    config = Config()

    @liveness("GET", "/health")
    def http_health(self, request: Any) -> None:
        """Answered outside the worker pool (shared/liveness.py); never runs as a worker."""

    @http("GET", "/metrics")
    def http_metrics(self, request: Any) -> tuple[int, dict, str]:
        # nameko's @http must return str, not bytes (design §5)
        return 200, {"Content-Type": CONTENT_TYPE_LATEST}, generate_latest(REGISTRY).decode()


class ServiceBase(ProcessBase):
    """What every service has besides its domain: identity, metrics, health, readiness, catch-up."""

    caller = CallerIdentity()

    @rpc
    def health(self) -> dict:
        """An RPC that answers while the service runs; ``pingan ping`` calls it."""
        return {"service": self.name, "ok": True}

    @api(EventsSince)
    def events_since(self, call: Any, query: EventsSince) -> dict:
        """The service's public events after ``position``, as the relay publishes them (shared/catch_up.py)."""
        return events_since(self.name, self.store, call, query, self.events_category)

    # A service whose every record is of one sensitive category (juvenile protection: minors) says so,
    # and its events are read back only by callers who serve it (shared/catch_up.py).
    events_category: str | None = None

    @http("GET", "/ready")
    def http_ready(self, request: Any) -> tuple[int, str]:
        database = self.store.database_ok()
        broker = broker_ok(self.config["AMQP_URI"])
        stalled = self.store.projections_ready()  # read models that cannot follow the log, with why
        status = 200 if database and broker and not stalled else 503
        return status, json.dumps({"service": self.name, "database": database, "broker": broker,
                                   "stalled_projections": stalled})


class EdgeBase(ProcessBase):
    """A process at the edge (services/<name>/edge.py, shared/registry.py): no store, no events of its own;
    it answers outside callers by calling the services, and is ready while it reaches the broker."""

    presence = Presence()

    @http("GET", "/ready")
    def http_ready(self, request: Any) -> tuple[int, str]:
        broker = broker_ok(self.config["AMQP_URI"])
        return (200 if broker else 503), json.dumps({"service": self.name, "broker": broker})


def broker_ok(amqp_uri: str) -> bool:
    if amqp_uri.startswith("memory://"):
        return True
    try:
        with Connection(amqp_uri, connect_timeout=2) as connection:
            connection.ensure_connection(max_retries=1)
        return True
    except Exception:
        return False

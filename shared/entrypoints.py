"""Entrypoint decorators and the base every service class extends.

``@api(Model)`` is the front of the write and read paths: verify the caller
token, parse the payload into ``Model`` (a typed ValidationFailed
otherwise), then call the method with the verified call and the command.
``@consumes(...)`` does the same for another service's public events.
"""

from __future__ import annotations

import functools
import json
from typing import Any, Callable

import structlog
from kombu import Connection
from nameko.dependency_providers import Config
from nameko.events import event_handler
from nameko.rpc import rpc
from nameko.web.handlers import http
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from pydantic import BaseModel

from .contracts import Payload, open_envelope
from .dependencies import CallerIdentity, Observability
from .errors import EXPECTED_ERRORS, PinganError, ValidationFailed
from .validation import parse, scrubbed

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
                raise scrubbed(refusal, payload)

        return rpc(expected_exceptions=EXPECTED_ERRORS)(entry)

    return decorate


def consumes(source: str, event_type: str, schema: type[Payload]) -> Callable:
    """Handle ``source``'s public ``event_type`` events, verified and validated.

    The method gets the verified call, the envelope and the payload; it
    passes ``message_key(envelope)`` to the application so that a redelivered
    message changes nothing. A message that can never be handled (not signed
    by ``source`` over this very body, malformed payload) is logged and acknowledged; any other error
    returns it to the queue to be tried again.
    """

    def decorate(method: Callable) -> Callable:
        @functools.wraps(method)
        def entry(self: Any, raw: Any) -> Any:
            try:
                call = self.caller.verify_event(source, event_type, raw)
                envelope, payload = open_envelope(raw, schema)
                return method(self, call, envelope, payload)
            except PinganError as refusal:
                log.error("event_refused", source=source, event_type=event_type,
                          error=type(refusal).__name__, reason=refusal.message)
                return None

        return event_handler(source, event_type, requeue_on_error=True)(entry)

    return decorate


class ServiceBase:
    """What every service has besides its domain: identity, metrics, health, readiness."""

    caller = CallerIdentity()
    observability = Observability()
    config = Config()

    @rpc
    def health(self) -> dict:
        """An RPC that answers while the service runs; ``pingan ping`` calls it."""
        return {"service": self.name, "ok": True}

    @http("GET", "/health")
    def http_health(self, request: Any) -> tuple[int, str]:
        return 200, json.dumps({"service": self.name, "ok": True})

    @http("GET", "/ready")
    def http_ready(self, request: Any) -> tuple[int, str]:
        database = self.store.database_ok()
        broker = _broker_ok(self.config["AMQP_URI"])
        stalled = self.store.projections_ready()  # read models that cannot follow the log, with why
        status = 200 if database and broker and not stalled else 503
        return status, json.dumps({"service": self.name, "database": database, "broker": broker,
                                   "stalled_projections": stalled})

    @http("GET", "/metrics")
    def http_metrics(self, request: Any) -> tuple[int, dict, str]:
        # nameko's @http must return str, not bytes (design §5)
        return 200, {"Content-Type": CONTENT_TYPE_LATEST}, generate_latest(REGISTRY).decode()


def _broker_ok(amqp_uri: str) -> bool:
    if amqp_uri.startswith("memory://"):
        return True
    try:
        with Connection(amqp_uri, connect_timeout=2) as connection:
            connection.ensure_connection(max_retries=1)
        return True
    except Exception:
        return False

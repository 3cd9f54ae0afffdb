"""The HTTP gateway: the integration operations as JSON over HTTP (docs/integration.md, "Over HTTP").

It holds no store and no key: each request's ``Authorization: Bearer <token>`` becomes the
``caller_token`` context of the RPC it forwards, so the service verifies the very token the
caller holds and keeps deciding what it may do. ``Idempotency-Key`` becomes the command id,
so a retried report returns the first answer (shared/commands.py). Refusals answer as RFC 9457
problems (services/gateway/problems.py).
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import eventlet
from eventlet.event import Event
from nameko.extensions import DependencyProvider
from nameko.rpc import ReplyListener, ServiceProxy
from nameko.web.handlers import HttpRequestHandler
from werkzeug.wrappers import Request, Response

from shared.config import load_settings
from shared.context import TOKEN_KEY
from shared.entrypoints import EdgeBase
from shared.errors import NotFound, ServiceUnavailable, Unauthenticated, ValidationFailed
from shared.registry import service_names

from .contracts import IDEMPOTENCY_KEY, MAX_BODY_BYTES, BodyTooLarge, MalformedBody, UnsupportedMediaType
from .problems import from_exception

REPORTS = "grid_events"  # where an outside system's reports go (docs/services/grid_events.md)
INTEGER_PARAMETERS = frozenset({"page", "page_size", "position", "limit"})


class GatewayRoute(HttpRequestHandler):
    """nameko's ``@http``, carrying the request's Bearer token as the worker's ``caller_token``
    and answering every refusal as a problem."""

    def handle_request(self, request: Request) -> Response:
        request.shallow = False
        try:
            args, kwargs = self.get_entrypoint_parameters(request)
            self.check_signature(args, kwargs)
            done = Event()
            self.container.spawn_worker(self, args, kwargs, context_data=bearer_context(request),
                                        handle_result=partial(self.handle_result, done))
            return self.response_from_result(done.wait())
        except Exception as error:  # every answer is JSON: a typed refusal or a generic 500, never a trace
            return from_exception(error)


route = GatewayRoute.decorator


def bearer_context(request: Request) -> dict:
    """The worker's context: the caller's own token, as sent; nothing when it sent none."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return {TOKEN_KEY: token.strip()} if scheme.lower() == "bearer" and token.strip() else {}


class Services(DependencyProvider):
    """Calls a service's RPC method as the worker's caller, within the gateway's timeout."""

    reply_listener = ReplyListener()

    def setup(self) -> None:
        self.timeout = load_settings().gateway_timeout

    def get_dependency(self, worker_ctx: Any) -> Any:
        def call(service: str, method: str, arguments: dict) -> Any:
            if TOKEN_KEY not in worker_ctx.data:
                raise Unauthenticated("the request carries no Bearer token")
            timer = eventlet.Timeout(self.timeout)
            try:
                return getattr(ServiceProxy(worker_ctx, service, self.reply_listener), method)(**arguments)
            except eventlet.Timeout as expired:
                if expired is not timer:
                    raise
                raise ServiceUnavailable(f"{service} did not answer in time; retry with the same "
                                         f"{IDEMPOTENCY_KEY}") from None
            finally:
                timer.cancel()

        return call


class GatewayService(EdgeBase):
    name = "gateway"

    call = Services()

    @route("POST", "/v1/reports")
    def report(self, request: Request) -> tuple[int, dict, str]:
        """Report an event (a dispute: ``category`` = ``dispute``) as ``grid_events.report_event``."""
        arguments = json_body(request)
        if "command_id" in arguments:
            raise ValidationFailed(f"ReportEvent: command_id: send it as the {IDEMPOTENCY_KEY} header")
        key = request.headers.get(IDEMPOTENCY_KEY)
        if key is not None:
            arguments["command_id"] = key  # the service validates it as any command id
        return answer(201, self.call(REPORTS, "report_event", arguments))

    @route("GET", "/v1/reports")
    def list_reports(self, request: Request) -> tuple[int, dict, str]:
        """The caller's own reports, e.g. by ``external_ref`` (``grid_events.list_events``)."""
        return answer(200, self.call(REPORTS, "list_events", query_arguments(request)))

    @route("GET", "/v1/reports/<event_id>")
    def get_report(self, request: Request, event_id: str) -> tuple[int, dict, str]:
        """One of the caller's reports with its outcome: status, feedback, satisfied (``grid_events.get_event``)."""
        return answer(200, self.call(REPORTS, "get_event", {**query_arguments(request), "event_id": event_id}))

    @route("GET", "/v1/services/<service>/events")
    def events_since(self, request: Request, service: str) -> tuple[int, dict, str]:
        """A service's public events after ``position`` (its ``events_since``), for catching up."""
        if service not in service_names():
            raise NotFound("no such service")
        return answer(200, self.call(service, "events_since", query_arguments(request)))

    @route("GET,POST,PUT,PATCH,DELETE", "/v1/<path:rest>")
    def unknown(self, request: Request, rest: str) -> None:
        """Anything else under /v1 (erasure, others' records, other services' methods) is not offered here."""
        raise NotFound("the gateway offers no such operation (docs/integration.md, \"Over HTTP\")")

    @route("GET", "/openapi.json")
    def openapi(self, request: Request) -> tuple[int, dict, str]:
        from .openapi import document

        return answer(200, document())


def answer(status: int, body: Any) -> tuple[int, dict, str]:
    return status, {"Content-Type": "application/json"}, json.dumps(body)


def json_body(request: Request) -> dict:
    """The request's JSON object, or a typed refusal before anything is forwarded."""
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("the body must be sent as Content-Type: application/json")
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise BodyTooLarge(f"the body may be at most {MAX_BODY_BYTES} bytes")
    raw = request.stream.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise BodyTooLarge(f"the body may be at most {MAX_BODY_BYTES} bytes")
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_no_constant, object_pairs_hook=_once_each)
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: nested past the parser's depth
        raise MalformedBody("the body is not valid UTF-8 JSON, or names a field twice") from None
    if not isinstance(body, dict):
        raise MalformedBody("the body must be a JSON object of named fields")
    return body


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _once_each(pairs: list[tuple[str, Any]]) -> dict:
    """An object naming a field twice is refused: which value a service would see is not the caller's to guess."""
    found = dict(pairs)
    if len(found) != len(pairs):
        raise ValueError("a field is named twice")
    return found


def query_arguments(request: Request) -> dict:
    """Query parameters as named arguments: each once; counts as integers. The service validates the rest."""
    arguments: dict[str, Any] = {}
    for name, values in request.args.lists():
        if len(values) != 1:
            raise ValidationFailed(f"{name}: give the parameter once")
        value = values[0]
        if name in INTEGER_PARAMETERS:
            if not (value.isascii() and value.isdigit()) or len(value) > 9:
                raise ValidationFailed(f"{name}: expected a whole number")
            arguments[name] = int(value)
        else:
            arguments[name] = value
    return arguments

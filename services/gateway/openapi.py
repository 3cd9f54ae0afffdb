"""The gateway's OpenAPI 3.1 document, made from the same pydantic models the services validate
with; ``make contracts`` writes it to docs/contracts/gateway/openapi.json (shared/contract_docs.py)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from services.grid_events import contracts as grid_events
from shared.catch_up import EventsSince

from .contracts import IDEMPOTENCY_KEY, MAX_BODY_BYTES, EventsPage, Problem
from .problems import MEDIA_TYPE, STATUSES

REF = "#/components/schemas/{model}"


def document() -> dict:
    from shared.registry import service_names

    schemas: dict[str, Any] = {}

    def component(model: type[BaseModel], mode: str = "serialization", drop: tuple[str, ...] = ()) -> dict:
        schema = model.model_json_schema(mode=mode, ref_template=REF)  # type: ignore[arg-type]
        schemas.update(schema.pop("$defs", {}))
        for name in drop:
            schema.get("properties", {}).pop(name, None)
            if name in schema.get("required", ()):
                schema["required"].remove(name)
        schemas[model.__name__] = schema
        return {"$ref": REF.format(model=model.__name__)}

    def parameters(model: type[BaseModel], keep: tuple[str, ...]) -> list[dict]:
        schema = model.model_json_schema(mode="validation", ref_template=REF)
        schemas.update(schema.pop("$defs", {}))
        return [{"name": name, "in": "query", "required": False, "schema": schema["properties"][name]}
                for name in keep]

    problem = component(Problem)

    def refusals(*statuses: int) -> dict:
        return {str(status): {"description": _titles(status), "content": {MEDIA_TYPE: {"schema": problem}}}
                for status in sorted({401, 500, 503, *statuses})}

    def ok(status: int, description: str, schema: dict) -> dict:
        return {str(status): {"description": description, "content": {"application/json": {"schema": schema}}}}

    record = {"type": "object", "description": "the record as grid_events.get_event answers "
                                               "(docs/services/grid_events.md)"}
    report = component(grid_events.ReportEvent, "validation", drop=("command_id",))
    reported = {"type": "object", "required": ["event_id", "status", "version"], "properties": {
        "event_id": {"type": "string", "format": "uuid"}, "status": {"$ref": REF.format(model="Status")},
        "version": {"type": "integer", "minimum": 1},
        "external_ref": {"anyOf": [{"type": "string"}, {"type": "null"}]}}}
    events_page = component(EventsPage)
    return {
        "openapi": "3.1.0",
        "info": {"title": "pingan gateway", "version": "1",
                 "description": "The integration operations as JSON over HTTP with a Bearer token of an "
                                "integration client (docs/integration.md). Refusals are RFC 9457 problems."},
        "servers": [{"url": "http://{address}", "variables": {"address": {
            "default": "127.0.0.1:8005",
            "description": "the gateway's address: `make run` and `make run-services` print it; in the chart, "
                           "the <release>-gateway Service"}}}],
        "security": [{"bearer": []}],
        "paths": {
            "/v1/reports": {
                "post": {
                    "operationId": "report_event", "summary": "Report an event (a dispute: category dispute)",
                    "parameters": [{"name": IDEMPOTENCY_KEY, "in": "header", "required": False,
                                    "description": "the command id: a repeat returns the first answer",
                                    "schema": {"type": "string", "minLength": 1, "maxLength": 100}}],
                    "requestBody": {"required": True, "description": f"at most {MAX_BODY_BYTES} bytes",
                                    "content": {"application/json": {"schema": report}}},
                    "responses": {**ok(201, "reported (or the first answer to this Idempotency-Key)", reported),
                                  **refusals(400, 403, 409, 413, 415, 422)},
                },
                "get": {
                    "operationId": "list_events", "summary": "The caller's own reports",
                    "parameters": parameters(grid_events.ListEvents, ("external_ref", "status", "page", "page_size")),
                    "responses": {**ok(200, "a page of the caller's reports", {"type": "object"}),
                                  **refusals(403, 422)},
                },
            },
            "/v1/reports/{event_id}": {
                "get": {
                    "operationId": "get_event", "summary": "One own report and its outcome (feedback, satisfied)",
                    "parameters": [{"name": "event_id", "in": "path", "required": True,
                                    "schema": {"type": "string", "format": "uuid"}}],
                    "responses": {**ok(200, "the report", record), **refusals(403, 404, 422)},
                },
            },
            "/v1/services/{service}/events": {
                "get": {
                    "operationId": "events_since", "summary": "A service's public events after a position",
                    "parameters": [{"name": "service", "in": "path", "required": True,
                                    "schema": {"type": "string", "enum": service_names()}},
                                   *parameters(EventsSince, ("position", "limit"))],
                    "responses": {**ok(200, "the next page of events", events_page), **refusals(403, 404, 422)},
                },
            },
        },
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                                           "description": "`pingan clients token <client id>`"}},
        },
    }


def _titles(status: int) -> str:
    return "; ".join(sorted({e.title for e in STATUSES.values() if e.status == status})) or "refused"

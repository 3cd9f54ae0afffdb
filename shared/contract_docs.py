"""Machine-readable contracts, generated from the pydantic models: ``make contracts``.

For every registered service, into ``docs/contracts/<service>/``: a JSON Schema (2020-12) per
RPC method's arguments (``rpc/<method>.json``) and per public event's payload
(``events/<event_type>.v<schema_version>.json``), and an AsyncAPI 3.0 document of its events
(``asyncapi.json``); beside them the envelope every event travels in and the error body every
refused call answers with. ``tests/unit/test_contract_docs.py`` fails when the committed files
are not what this writes (docs/integration.md, "Versioning").

    python -m shared.contract_docs              # write; refused (exit 1) on a breaking change
    python -m shared.contract_docs --withdraw   # write, letting schemas no longer published go
    python -m shared.contract_docs --check      # exit 1 if any file is stale
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

DOCS = Path(__file__).resolve().parents[1] / "docs" / "contracts"
DIALECT = "https://json-schema.org/draft/2020-12/schema"
COMPONENTS = "#/components/schemas/{model}"


class RemoteError(BaseModel):
    """What a refused call answers with over AMQP: nameko's serialised exception (docs/integration.md)."""

    model_config = ConfigDict(extra="forbid")

    exc_type: str
    exc_path: str
    exc_args: list[Any]
    value: str


def rpc_models(service_class: type) -> dict[str, type[BaseModel]]:
    """Each RPC method of ``service_class`` with the model its named arguments are validated as."""
    found = {}
    for name in dir(service_class):
        model = getattr(getattr(service_class, name), "command_model", None)
        if model is not None:
            found[name] = model
    return dict(sorted(found.items()))


def published(service_class: type) -> dict[str, type[BaseModel]]:
    from shared.dependencies import Store

    store = next((v for v in vars(service_class).values() if isinstance(v, Store)), None)
    return dict(sorted(store.contracts.schemas.items())) if store and store.contracts else {}


def json_schema(model: type[BaseModel], mode: Literal["validation", "serialization"], title: str) -> dict:
    schema = model.model_json_schema(mode=mode)
    return {"$schema": DIALECT, "$id": title, **schema}


def asyncapi(service: str, events: dict[str, type[BaseModel]]) -> dict:
    from shared.contracts import Envelope

    schemas: dict[str, Any] = {}

    def component(model: type[BaseModel]) -> dict:
        schema = model.model_json_schema(mode="serialization", ref_template=COMPONENTS)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
        return {"$ref": COMPONENTS.format(model=model.__name__)}

    envelope = component(Envelope)
    channels, operations, messages = {}, {}, {}
    for event_type, model in events.items():
        version = model.model_fields["schema_version"].default
        payload = component(model)
        messages[event_type] = {
            "name": event_type,
            "title": f"{service}.{event_type} v{version}",
            "summary": (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else event_type,
            "contentType": "application/json",
            "headers": {"type": "object", "properties": {
                "nameko.event_signer": {"type": "string", "const": service},
                "nameko.event_signature": {"type": "string", "description": "base64 Ed25519 over the canonical "
                                                                            "JSON of the body"}},
                "required": ["nameko.event_signer", "nameko.event_signature"]},
            "payload": {"allOf": [envelope, {"type": "object", "properties": {
                "event_type": {"const": event_type}, "schema_version": {"const": version}, "data": payload}}]},
        }
        channels[event_type] = {
            "address": event_type,
            "messages": {event_type: {"$ref": f"#/components/messages/{event_type}"}},
            "bindings": {"amqp": {"is": "routingKey", "exchange": {
                "name": f"{service}.events", "type": "topic", "durable": True, "autoDelete": False, "vhost": "/"}}},
        }
        operations[f"receive_{event_type}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{event_type}"},
            "messages": [{"$ref": f"#/channels/{event_type}/messages/{event_type}"}],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": f"pingan {service} events", "version": "1",
                 "description": "Public events, relayed at least once; deduplicate on (source, event_type, "
                                "notification_id). Catch up with the events_since RPC (docs/integration.md)."},
        "defaultContentType": "application/json",
        "servers": {"rabbitmq": {"host": "rabbitmq:5672", "protocol": "amqp", "protocolVersion": "0.9.1"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": dict(sorted(schemas.items()))},
    }


def generate() -> dict[Path, str]:
    """Every file, by path under docs/contracts, with its text."""
    from shared.contracts import Envelope
    from shared.registry import service_classes

    files: dict[str, Any] = {
        "envelope.json": json_schema(Envelope, "serialization", "envelope.json"),
        "error.json": json_schema(RemoteError, "serialization", "error.json"),
    }
    for service_class in service_classes():
        service: str = service_class.name  # type: ignore[attr-defined]  # every ServiceBase subclass names itself
        for method, model in rpc_models(service_class).items():
            path = f"{service}/rpc/{method}.json"
            files[path] = json_schema(model, "validation", path)
        events = published(service_class)
        for event_type, model in events.items():
            path = f"{service}/events/{event_type}.v{model.model_fields['schema_version'].default}.json"
            files[path] = json_schema(model, "serialization", path)
        files[f"{service}/asyncapi.json"] = asyncapi(service, events)
    return {Path(path): json.dumps(body, indent=2, sort_keys=True) + "\n" for path, body in files.items()}


def stale(root: Path = DOCS) -> list[str]:
    """The files under ``root`` that differ from, lack or outlive what ``generate`` writes."""
    expected = generate()
    present = {p.relative_to(root) for p in root.rglob("*.json")} if root.exists() else set()
    wrong = [str(p) for p, text in expected.items() if not (root / p).exists() or (root / p).read_text() != text]
    return sorted(wrong + [str(p) for p in present - set(expected)])


def incompatible(root: Path = DOCS, withdraw: bool = False) -> list[str]:
    """Changes to the published schemas under ``root`` (events by version, RPC arguments by method)
    that the models would make without a new version: a breaking change to ``<type>.v1`` must come
    as ``<type>.v2`` beside it (docs/integration.md, "Versioning"). ``withdraw`` allows a schema to
    disappear (its stated period over); otherwise that too is breaking."""
    from .contract_compat import breaking_changes

    expected = generate()
    problems = []
    for path in sorted(root.rglob("*.json") if root.exists() else ()):
        published = path.relative_to(root)
        if published.parent.name not in ("events", "rpc"):
            continue
        if published not in expected:
            if not withdraw:
                problems.append(f"{published}: no longer published (withdraw it with `make contracts WITHDRAW=1` "
                                "once its successor has run beside it for the stated period)")
            continue
        problems += [f"{published}: {change}" for change in
                     breaking_changes(json.loads(path.read_text()), json.loads(expected[published]))]
    return problems


def write(root: Path = DOCS) -> None:
    expected = generate()
    for path in (root.rglob("*.json") if root.exists() else ()):
        if path.relative_to(root) not in expected:
            path.unlink()
    for path, text in expected.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)


def main(argv: list[str], root: Path = DOCS) -> int:
    if "--check" in argv:
        wrong = stale(root)
        for path in wrong:
            print(f"stale: docs/contracts/{path}")
        return 1 if wrong else 0
    breaking = incompatible(root, withdraw="--withdraw" in argv)
    if breaking:
        for problem in breaking:
            print(f"breaking: docs/contracts/{problem}", file=sys.stderr)
        print("refused: a published schema would change incompatibly. Publish the change as a new version "
              "(schema_version + 1, or a new RPC method) beside the old one (docs/integration.md, \"Versioning\").",
              file=sys.stderr)
        return 1
    write(root)
    print(f"wrote {len(generate())} files under docs/contracts/")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

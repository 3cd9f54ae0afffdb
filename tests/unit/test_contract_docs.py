"""The machine-readable contracts in docs/contracts are what `make contracts` generates from the
models, valid JSON Schema 2020-12, and describe the messages the relay really sends."""

import json
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest
from jsonschema import Draft202012Validator

from services.grid_events import contracts as grid
from shared.contract_docs import DOCS, generate, incompatible, published, stale
from shared.contracts import Envelope
from shared.registry import service_classes

SCHEMAS = sorted(p for p in generate() if p.name != "asyncapi.json")


def test_committed_contracts_are_current():
    assert stale() == [], "docs/contracts is stale: run `make contracts` (and bump schema_version if a " \
                          "published payload changed incompatibly, docs/integration.md \"Versioning\")"


def test_committed_contracts_change_only_compatibly():
    breaking = incompatible(withdraw=True)
    assert breaking == [], "a published schema changed incompatibly without a new version; publish it as " \
                           "v<N+1> beside the old one (docs/integration.md \"Versioning\"):\n" + "\n".join(breaking)


@pytest.mark.parametrize("path", SCHEMAS, ids=str)
def test_contract_schema_is_valid_json_schema(path: Path):
    Draft202012Validator.check_schema(json.loads((DOCS / path).read_text()))


def test_relayed_envelope_validates_against_committed_schemas():
    payload = grid.EventReported(event_id=uuid4(), grid_code="433101001001001", jurisdiction="433101001001",
                                 county="433101", category="dispute", source="petition", severity="medium",
                                 reported_at=datetime.now(UTC), external_ref="ticket-1")
    body = Envelope(source="grid_events", event_type=grid.DISPUTE_REPORTED, schema_version=1, notification_id=7,
                    aggregate_id=str(payload.event_id), aggregate_version=1, occurred_at=payload.reported_at,
                    audit={"actor_id": "hotline", "role": "integration", "jurisdiction": "433100", "call_id": "c-1"},
                    data=payload.model_dump(mode="json")).model_dump(mode="json")
    Draft202012Validator(json.loads((DOCS / "envelope.json").read_text())).validate(body)
    event_schema = json.loads((DOCS / "grid_events/events/dispute_reported.v1.json").read_text())
    Draft202012Validator(event_schema).validate(body["data"])


def test_contract_schema_refuses_unknown_payload_field():
    event_schema = json.loads((DOCS / "grid_events/events/event_closed.v1.json").read_text())
    errors = list(Draft202012Validator(event_schema).iter_errors({"unexpected": 1}))
    assert errors


@pytest.mark.parametrize("service_class", service_classes(), ids=lambda cls: cls.name)
def test_asyncapi_lists_every_published_event_with_resolvable_refs(service_class):
    document = json.loads((DOCS / service_class.name / "asyncapi.json").read_text())
    assert document["asyncapi"] == "3.0.0"
    assert sorted(document["channels"]) == sorted(published(service_class))
    unresolved = [ref for ref in _refs(document) if _resolve(document, ref) is None]
    assert unresolved == []


def _refs(node):
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _resolve(document, ref):
    node = document
    for part in ref.removeprefix("#/").split("/"):
        node = node.get(part) if isinstance(node, dict) else None
    return node

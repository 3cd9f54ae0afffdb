"""Every registered service documents, in docs/services/<service>.md, each of its RPC
methods and each public event it publishes with every payload field and the schema
version, so other systems can rely on the page alone."""

import inspect
import re
from pathlib import Path

import pytest

from shared.dependencies import Store
from shared.registry import service_class, service_names

DOCS = Path(__file__).resolve().parents[2] / "docs" / "services"


def doc_of(service: str) -> str:
    return (DOCS / f"{service}.md").read_text()


def rpc_methods(service: str) -> list[str]:
    return sorted(name for name, member in inspect.getmembers(service_class(service))
                  if any(type(e).__name__ == "Rpc" for e in getattr(member, "nameko_entrypoints", ())))


def published(service: str) -> dict:
    store = next(v for v in vars(service_class(service)).values() if isinstance(v, Store))
    return dict(store.contracts.schemas) if store.contracts else {}


def event_row(doc: str, event_type: str) -> tuple[str | None, str | None]:
    """The event's table row, and the header of the table it stands in."""
    header = None
    for line in doc.splitlines():
        if line.startswith("|") and "schema_version" in line:
            header = line
        if line.startswith(f"| `{event_type}` |"):
            return line, header
    return None, None


METHODS = [(service, method) for service in service_names() for method in rpc_methods(service)]
EVENTS = [(service, event_type) for service in service_names() for event_type in sorted(published(service))]


@pytest.mark.parametrize("service", service_names())
def test_every_registered_service_has_a_page(service):
    assert (DOCS / f"{service}.md").is_file()


@pytest.mark.parametrize("service, method", METHODS)
def test_rpc_method_is_documented(service, method):
    assert f"`{method}`" in doc_of(service), f"{service}.{method} is not in docs/services/{service}.md"


@pytest.mark.parametrize("service, event_type", EVENTS)
def test_published_event_is_documented_with_its_fields_and_version(service, event_type):
    doc = doc_of(service)
    row, header = event_row(doc, event_type)
    assert row is not None, f"{service}.{event_type} is not in docs/services/{service}.md"
    schema = published(service)[event_type]
    same_as = re.search(r"as `([a-z_]+)`", row)
    if same_as:  # "as `other_event`": the same payload as a documented event
        row, _ = event_row(doc, same_as.group(1))
        assert published(service)[same_as.group(1)] is schema
    missing = [f for f in schema.model_fields if f != "schema_version" and f"`{f}`" not in row]
    assert missing == [], f"{service}.{event_type}: fields {missing} undocumented"
    assert f"schema_version {schema.model_fields['schema_version'].default}" in header

"""The versioning policy enforced (docs/integration.md, "Versioning"): a published schema may change
only additively under its version; every breaking change is named, and `make contracts` refuses it."""

import json
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel

from shared.contract_compat import breaking_changes
from shared.contract_docs import generate, incompatible, main, write


class Place(BaseModel):
    grid_code: str
    name: str


class Published(BaseModel):
    event_id: str
    severity: Literal["low", "medium", "high"]
    count: int
    place: Place
    tags: list[str]
    note: str | None = None


def schema(model: type[BaseModel]) -> dict:
    return model.model_json_schema(mode="serialization")


def test_contract_compat_same_schema_is_compatible():
    assert breaking_changes(schema(Published), schema(Published)) == []


def test_contract_compat_optional_field_added_is_additive():
    class Added(Published):
        external_ref: str | None = None

    assert breaking_changes(schema(Published), schema(Added)) == []


def test_contract_compat_field_removed_is_breaking():
    class Removed(BaseModel):
        event_id: str
        severity: Literal["low", "medium", "high"]
        count: int
        place: Place
        tags: list[str]

    assert breaking_changes(schema(Published), schema(Removed)) == ["payload.note: field removed"]


def test_contract_compat_field_newly_required_is_breaking():
    class Required(Published):
        note: str | None  # type: ignore[assignment]  # the default removed: now required

    assert breaking_changes(schema(Published), schema(Required)) == ["payload.note: field newly required"]


def test_contract_compat_type_changed_is_breaking():
    class Retyped(Published):
        count: str  # type: ignore[assignment]

    assert breaking_changes(schema(Published), schema(Retyped)) == [
        "payload.count: type changed from integer to string"]


def test_contract_compat_enum_value_removed_is_breaking():
    class Narrowed(Published):
        severity: Literal["low", "medium"]  # type: ignore[assignment]

    assert breaking_changes(schema(Published), schema(Narrowed)) == ["payload.severity: value 'high' removed"]


def test_contract_compat_enum_value_added_is_additive():
    class Level(StrEnum):
        LOW = "low"
        MEDIUM = "medium"
        HIGH = "high"
        SEVERE = "severe"

    class Widened(Published):
        severity: Level  # type: ignore[assignment]

    assert breaking_changes(schema(Published), schema(Widened)) == []


def test_contract_compat_nested_field_removed_is_breaking():
    class Spot(BaseModel):
        grid_code: str

    class Nested(Published):
        place: Spot  # type: ignore[assignment]

    assert breaking_changes(schema(Published), schema(Nested)) == ["payload.place.name: field removed"]


def test_contract_compat_list_item_type_changed_is_breaking():
    class Items(Published):
        tags: list[int]  # type: ignore[assignment]

    assert breaking_changes(schema(Published), schema(Items)) == [
        "payload.tags[]: type changed from string to integer"]


def _published_tree(tmp_path):
    write(tmp_path)
    event = tmp_path / "grid_events" / "events" / "event_closed.v1.json"
    return event, json.loads(event.read_text())


def test_contract_docs_published_event_changed_without_version_is_refused(tmp_path):
    event, published = _published_tree(tmp_path)
    published["properties"]["legacy_code"] = {"type": "string"}  # as if the model had dropped it since
    event.write_text(json.dumps(published))

    assert incompatible(tmp_path) == ["grid_events/events/event_closed.v1.json: payload.legacy_code: field removed"]
    assert main([], root=tmp_path) == 1
    assert json.loads(event.read_text()) == published  # nothing written


def test_contract_docs_published_event_withdrawn_is_refused_unless_asked(tmp_path):
    _published_tree(tmp_path)
    (tmp_path / "grid_events" / "events" / "event_closed.v0.json").write_text(json.dumps({"type": "object"}))

    assert [p.split(":")[0] for p in incompatible(tmp_path)] == ["grid_events/events/event_closed.v0.json"]
    assert incompatible(tmp_path, withdraw=True) == []


def test_contract_docs_additive_change_is_written(tmp_path):
    event, published = _published_tree(tmp_path)
    del published["properties"]["external_ref"]  # as if the model had just added it (optional)
    event.write_text(json.dumps(published))

    assert main([], root=tmp_path) == 0
    assert event.read_text() == generate()[event.relative_to(tmp_path)]

"""Control characters and lone surrogates are refused in every field of every command and
event, naming the field and never echoing the value (docs/reliability.md)."""

import pytest
from pydantic import BaseModel

from shared.contracts import Payload, open_envelope
from shared.errors import ValidationFailed
from shared.registry import service_classes
from shared.validation import Command, parse

FORBIDDEN = ["\x00", "\x07", "\r", "\x1b", "\x7f", "\x85", "\x9f", "\ud800"]


class Note(Command):
    text: str
    tags: list[str] = []
    extra: dict = {}


def command_models() -> list[tuple[str, type[BaseModel]]]:
    """(service.method, model) of every RPC command of every registered service."""
    found = []
    for service in service_classes():
        for name in dir(service):
            model = getattr(getattr(service, name), "command_model", None)
            if model is not None:
                found.append((f"{service.name}.{name}", model))
    return found


@pytest.mark.parametrize("char", FORBIDDEN, ids=[f"U+{ord(c):04X}" for c in FORBIDDEN])
def test_control_character_in_text_refused_naming_field(char):
    with pytest.raises(ValidationFailed) as refused:
        parse(Note, {"text": f"a{char}b"})
    assert refused.value.details == [{"field": "text", "problem": "contains a control character"}]
    assert char not in refused.value.message


def test_control_character_nested_refused_with_path():
    with pytest.raises(ValidationFailed) as refused:
        parse(Note, {"text": "fine", "tags": ["ok", "b\x00ad"], "extra": {"k": {"deep": "\x01"}}})
    assert [p["field"] for p in refused.value.details] == ["tags.1", "extra.k.deep"]


def test_control_character_in_key_refused():
    with pytest.raises(ValidationFailed):
        parse(Note, {"text": "fine", "extra": {"a\x00": "x"}})


def test_tab_newline_and_other_scripts_accepted():
    assert parse(Note, {"text": "第一行\n\t第二行 — ok"}).text == "第一行\n\t第二行 — ok"


def test_every_command_of_every_service_refuses_nul_in_each_field():
    models = command_models()
    assert len(models) > 40  # every service's commands are found, not a handful
    for method, model in models:
        for field in model.model_fields:
            with pytest.raises(ValidationFailed) as refused:
                parse(model, {field: "a\x00b"})
            assert {"field": field, "problem": "contains a control character"} in refused.value.details, method


def test_erase_person_with_nul_is_validation_failed():
    from services.grid_events import contracts as c

    with pytest.raises(ValidationFailed, match="person_id"):
        parse(c.ErasePerson, {"person_id": "a\x00b", "reason": "subject_request"})


class Ping(Payload):
    note: str


def test_event_payload_with_control_character_refused():
    envelope = {"source": "s", "event_type": "pinged", "schema_version": 1, "notification_id": 1,
                "aggregate_id": "x", "aggregate_version": 1, "occurred_at": "2026-01-01T00:00:00+00:00",
                "audit": {}, "data": {"schema_version": 1, "note": "bad\x00"}}
    with pytest.raises(ValidationFailed, match="data.note"):
        open_envelope(envelope, Ping)

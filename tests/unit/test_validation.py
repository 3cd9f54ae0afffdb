"""Bad input gets a clear, typed error that names fields but never echoes values."""

import pytest

from services.grid_events.contracts import ReportEvent
from shared.contracts import Envelope, Payload, open_envelope
from shared.errors import ValidationFailed
from shared.validation import parse

VALID = dict(grid_code="433101001001001", category="dispute", source="petition", severity="low",
             place="courtyard", description="boundary wall")


def test_parse_valid_payload_gives_typed_command():
    command = parse(ReportEvent, VALID)
    assert command.category.value == "dispute" and command.command_id is None


def test_parse_missing_field_names_it():
    with pytest.raises(ValidationFailed, match="severity: Field required"):
        parse(ReportEvent, {k: v for k, v in VALID.items() if k != "severity"})


def test_parse_error_never_echoes_submitted_values():
    secret = "Zhang San, ID 433101199001011234"
    with pytest.raises(ValidationFailed) as refused:
        parse(ReportEvent, {**VALID, "severity": secret})
    assert secret not in str(refused.value) and secret not in repr(refused.value.details)


def test_parse_unknown_field_is_refused():
    with pytest.raises(ValidationFailed, match="colour"):
        parse(ReportEvent, {**VALID, "colour": "red"})


def test_parse_non_object_payload_is_refused():
    with pytest.raises(ValidationFailed, match="named fields"):
        parse(ReportEvent, ["433101001001001"])


def test_open_envelope_refuses_unknown_schema_version():
    class Thing(Payload):
        schema_version: int = 1
        thing_id: str

    envelope = Envelope(source="s", event_type="t", schema_version=2, notification_id=1, aggregate_id="a",
                        aggregate_version=1, occurred_at="2026-01-01T00:00:00Z", audit={}, data={"thing_id": "x"})
    with pytest.raises(ValidationFailed, match="schema version 2"):
        open_envelope(envelope.model_dump(mode="json"), Thing)

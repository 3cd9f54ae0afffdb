"""emergency_command's public contracts: self-contained (no domain imported), every published
event mapped, and its view of the events it consumes reads what grid_events really publishes."""

import ast
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest

from services.emergency_command import contracts as c
from services.emergency_command import domain
from services.emergency_command.domain.incidents import TRIGGER_SOURCE
from services.emergency_command.publishing import published
from services.grid_events import contracts as grid_events
from services.grid_events import publishing as grid_publishing
from shared.contracts import open_envelope
from shared.errors import ValidationFailed
from shared.validation import parse

CONTRACTS_FILE = Path(c.__file__)
AT = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            found.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_contracts_import_only_pydantic_shared_and_the_standard_library():
    allowed = ("__future__", "datetime", "enum", "typing", "uuid", "pydantic", "shared")
    assert {m for m in imported_modules(CONTRACTS_FILE) if not m.startswith(allowed)} == set()


def test_every_published_event_type_is_declared_with_its_schema():
    assert published().schemas == c.PUBLISHED


def test_consumed_sources_are_the_domains_trigger_sources():
    assert {TRIGGER_SOURCE[domain.Trigger.SEVERE_GRID_EVENT], TRIGGER_SOURCE[domain.Trigger.RED_RISK]} == {
        c.GRID_EVENTS}
    assert TRIGGER_SOURCE[domain.Trigger.HIGHEST_RISK_PERSON] == c.KEY_POPULATIONS


def test_severe_event_view_reads_grid_events_payload():
    sent = grid_events.EventReported(event_id=uuid4(), grid_code="433101001001001", jurisdiction="433101001001",
                                     county="433101", category="fire", source="patrol", severity="severe",
                                     reported_at=AT)
    read = parse(c.SevereGridEvent, sent.model_dump(mode="json"))
    assert (read.event_id, read.category, read.severity) == (sent.event_id, "fire", "severe")


def test_red_risk_view_reads_grid_events_payload():
    sent = grid_events.RiskLevelChanged(risk_id=uuid4(), jurisdiction="433101001001", county="433101",
                                        category="public_health", level="red", previous_level="orange",
                                        changed_at=AT)
    read = parse(c.RedRisk, sent.model_dump(mode="json"))
    assert (read.risk_id, read.level) == (sent.risk_id, "red")


def test_consumed_event_names_are_grid_events_own():
    assert (c.SEVERE_EVENT_REPORTED, c.RISK_RAISED_TO_RED) == (
        grid_events.SEVERE_EVENT_REPORTED, grid_events.RISK_RAISED_TO_RED)
    assert {c.SEVERE_EVENT_REPORTED, c.RISK_RAISED_TO_RED} <= set(grid_publishing.contracts().schemas)


def test_consumed_view_of_another_schema_version_is_refused():
    envelope = {"source": "grid_events", "event_type": "severe_event_reported", "schema_version": 2,
                "notification_id": 1, "aggregate_id": "x", "aggregate_version": 1, "occurred_at": AT.isoformat(),
                "audit": {}, "data": {}}
    with pytest.raises(ValidationFailed):
        open_envelope(envelope, c.SevereGridEvent)

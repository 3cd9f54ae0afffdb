"""Every CAP document emergency_command renders validates against the official OASIS
CAP 1.2 XML schema (services/emergency_command/schema/CAP-v1.2.xsd), with xmlschema:
Alert, Update and Cancel chains, Actual and Exercise, with and without a polygon."""

from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from uuid import UUID

import pytest
import xmlschema

from services.emergency_command import contracts as c
from services.emergency_command.domain import render_cap
from services.emergency_command.publishing import published
from shared.validation import parse
from tests.history_support import as_call
from tests.unit.emergency_support import NOW, OFFICE, info, issue, later, memory_app, open_incident

SCHEMA_FILE = Path(__file__).parents[2] / "services" / "emergency_command" / "schema" / "CAP-v1.2.xsd"
POLYGON = [[28.31, 109.73], [28.33, 109.75], [28.29, 109.77], [28.31, 109.73]]


@lru_cache(maxsize=1)
def cap_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMA_FILE))


def chain(status: str, cancel: bool = True, **changes) -> list[str]:
    """The CAP documents of one warning: issued, updated twice, then cancelled."""
    app = memory_app()
    warning_id = issue(app, status=status, **changes)["warning_id"]
    app.update_warning(as_call(OFFICE), parse(c.UpdateWarning, {
        "warning_id": warning_id, "info": info(level="red", severity="Extreme", **changes)}), later(10))
    app.update_warning(as_call(OFFICE), parse(c.UpdateWarning, {
        "warning_id": warning_id, "info": info(level="yellow", severity="Moderate", **changes)}), later(20))
    if cancel:
        app.cancel_warning(as_call(OFFICE), parse(c.CancelWarning, {"warning_id": warning_id}), later(30))
    warning = app.repository.get(UUID(warning_id))
    return [render_cap(message) for message in warning.messages]


def test_schema_is_the_official_cap_1_2_schema():
    assert cap_schema().target_namespace == "urn:oasis:names:tc:emergency:cap:1.2"


@pytest.mark.parametrize("status", ["Actual", "Exercise"])
def test_alert_update_and_cancel_chain_validates(status):
    documents = chain(status)
    for document in documents:
        cap_schema().validate(document)
    assert [cap_schema().to_dict(d)["msgType"] for d in documents] == ["Alert", "Update", "Update", "Cancel"]
    assert {cap_schema().to_dict(d)["status"] for d in documents} == {status}


def test_cancel_references_every_earlier_message_in_the_chain():
    documents = [cap_schema().to_dict(d) for d in chain("Actual")]
    references = documents[-1]["references"].split(" ")
    assert [r.split(",")[1] for r in references] == [d["identifier"] for d in documents[:-1]]


def test_warning_with_polygon_validates():
    for document in chain("Actual", cancel=False, polygon=POLYGON):
        cap_schema().validate(document)
        assert "polygon" in cap_schema().to_dict(document)["info"][0]["area"][0]


def test_warning_with_only_required_info_validates():
    minimal = {"headline": None}
    for document in chain("Exercise", **minimal):
        cap_schema().validate(document)


def test_warning_linked_to_an_incident_validates():
    app = memory_app()
    incident_id = open_incident(app)
    result = app.issue_warning(as_call(OFFICE), parse(c.IssueWarning, {
        "command_id": "w-incident", "jurisdiction": "433101", "info": info(), "incident_id": incident_id}), NOW)
    cap_schema().validate(result["cap_xml"])
    assert cap_schema().to_dict(result["cap_xml"])["incidents"] == incident_id


def test_published_warning_event_carries_a_valid_cap_document():
    app = memory_app()
    issue(app)
    contracts = published()
    found = [payload for notification in app.recorder.select_notifications(start=1, limit=10)
             for event_type, payload in contracts.public_events(app.mapper.to_domain_event(notification))
             if event_type == c.WARNING_PUBLISHED]
    assert len(found) == 1
    cap_schema().validate(found[0].cap_xml)


def test_schema_refuses_a_document_out_of_schema_order():
    document = chain("Actual", cancel=False)[0]
    swapped = document.replace("<status>Actual</status><msgType>Alert</msgType>",
                               "<msgType>Alert</msgType><status>Actual</status>")
    assert swapped != document and not cap_schema().is_valid(swapped)


def test_expired_times_keep_the_cap_time_form():
    document = cap_schema().to_dict(chain("Actual", cancel=False,
                                          expires=(NOW + timedelta(days=2)).isoformat())[0])
    assert document["info"][0]["expires"].endswith("+08:00")

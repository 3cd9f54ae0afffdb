"""The emergency_command application on the in-memory store: each command goes
through authorisation, the domain and one save; a refused one stores nothing."""

from datetime import date, timedelta
from uuid import UUID, uuid4

import pytest

from services.emergency_command import contracts as c
from services.emergency_command.domain import Incident
from shared.contracts import Envelope
from shared.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from shared.security.personal_data import is_sealed
from shared.validation import parse
from tests.history_support import as_call
from tests.unit.emergency_support import (
    ELSEWHERE,
    GRID_WORKER,
    NOW,
    OFFICE,
    SERVICE,
    TODAY,
    TOWNSHIP,
    VILLAGE,
    assign,
    info,
    issue,
    later,
    memory_app,
    open_incident,
    register_area,
    stored,
)
from tests.unit.test_emergency_command_domain_support import VAULT


@pytest.fixture
def app():
    return memory_app()


def severe_event(event_id, notification_id=1) -> tuple[Envelope, c.SevereGridEvent]:
    data = {"event_id": str(event_id), "jurisdiction": VILLAGE, "county": "433101", "category": "fire",
            "severity": "severe", "reported_at": NOW.isoformat(), "grid_code": VILLAGE + "001", "source": "patrol"}
    envelope = Envelope(source="grid_events", event_type="severe_event_reported", schema_version=1,
                        notification_id=notification_id, aggregate_id=str(event_id), aggregate_version=1,
                        occurred_at=NOW, audit={}, data=data)
    return envelope, parse(c.SevereGridEvent, data)


# -- incidents ---------------------------------------------------------------------------------


def test_open_incident_by_operator_returns_the_same_incident_for_the_same_ref(app):
    first = open_incident(app, ref="op-flood-1")
    events = stored(app)
    again = open_incident(app, ref="op-flood-1")
    assert again == first and stored(app) == events


def test_open_incident_outside_jurisdiction_is_forbidden_and_stores_nothing(app):
    with pytest.raises(Forbidden):
        open_incident(app, caller=ELSEWHERE)
    assert stored(app) == 0


def test_open_incident_by_grid_worker_is_forbidden(app):
    with pytest.raises(Forbidden):
        open_incident(app, caller=GRID_WORKER)


def test_severe_grid_event_opens_one_incident_however_often_delivered(app):
    event_id = uuid4()
    for notification_id in (7, 7, 8):  # redelivered, then the same event under another message
        app.open_from_severe_event(as_call(SERVICE), *severe_event(event_id, notification_id))
    incident = app.repository.get(Incident.create_id("grid_events", str(event_id)))
    assert (incident.trigger, incident.level, incident.classification, incident.commander_unit) == (
        "severe_grid_event", "III", "accident", "433101:emergency_office")
    assert incident.version == 1


def test_severe_grid_event_from_a_person_caller_is_forbidden(app):
    with pytest.raises(Forbidden):
        app.open_from_severe_event(as_call(OFFICE), *severe_event(uuid4()))
    assert stored(app) == 0


def test_red_risk_opens_an_incident_at_level_four(app):
    risk_id = uuid4()
    data = {"risk_id": str(risk_id), "jurisdiction": VILLAGE, "county": "433101", "category": "public_health",
            "level": "red", "previous_level": "orange", "changed_at": NOW.isoformat()}
    envelope = Envelope(source="grid_events", event_type="risk_raised_to_red", schema_version=1, notification_id=3,
                        aggregate_id=str(risk_id), aggregate_version=2, occurred_at=NOW, audit={}, data=data)
    app.open_from_red_risk(as_call(SERVICE), envelope, parse(c.RedRisk, data))
    incident = app.repository.get(Incident.create_id("grid_events", str(risk_id)))
    assert (incident.trigger, incident.level, incident.classification) == ("red_risk", "IV", "public_health")


def test_highest_risk_person_opens_an_incident_naming_the_person_by_opaque_id(app):
    data = {"assessment_id": "kp-assess-1", "person_id": "kp-person-42", "jurisdiction": VILLAGE,
            "assessed_at": NOW.isoformat()}
    envelope = Envelope(source="key_populations", event_type=c.PERSON_AT_HIGHEST_RISK, schema_version=1,
                        notification_id=1, aggregate_id="x", aggregate_version=1, occurred_at=NOW, audit={}, data=data)
    app.open_from_highest_risk_person(as_call(SERVICE), envelope, parse(c.PersonAtHighestRisk, data))
    incident = app.repository.get(Incident.create_id("key_populations", "kp-assess-1"))
    assert (incident.trigger, incident.person_id) == ("highest_risk_person", "kp-person-42")


def test_assign_task_seals_its_instructions(app):
    incident_id = open_incident(app)
    task_id = assign(app, incident_id)
    assigned = [e for e in app.repository.event_store.get(UUID(incident_id)) if type(e).__name__ == "TaskAssigned"][0]
    assert task_id == "T1" and is_sealed(assigned.instructions)
    assert VAULT.open(assigned.instructions) == "Evacuate Long's courtyard"


def test_task_is_acknowledged_by_a_township_officer(app):
    incident_id = open_incident(app)
    task_id = assign(app, incident_id)
    result = app.acknowledge_task(as_call(TOWNSHIP), parse(c.AcknowledgeTask, {
        "incident_id": incident_id, "task_id": task_id}), later(20))
    assert result["tasks"] == {"T1": "acknowledged"}


def test_acknowledging_a_task_of_a_closed_incident_is_invalid_and_stores_nothing(app):
    incident_id = open_incident(app)
    task_id = assign(app, incident_id)
    app.cancel_task(as_call(OFFICE), parse(c.CancelTask, {"incident_id": incident_id, "task_id": task_id}),
                    VAULT.seal, later(15))
    app.close_incident(as_call(OFFICE), parse(c.CloseIncident, {"incident_id": incident_id,
                                                                 "summary": "Water receded"}), VAULT.seal, later(30))
    events = stored(app)
    with pytest.raises(InvalidTransition):
        app.acknowledge_task(as_call(OFFICE), parse(c.AcknowledgeTask, {"incident_id": incident_id,
                                                                         "task_id": task_id}), later(40))
    assert stored(app) == events


def test_lowering_the_level_without_a_situation_report_is_invalid_and_stores_nothing(app):
    incident_id = open_incident(app)
    events = stored(app)
    with pytest.raises(InvalidTransition):
        app.change_level(as_call(OFFICE), parse(c.ChangeLevel, {"incident_id": incident_id, "level": "IV"}), later(5))
    assert stored(app) == events


def test_lowering_the_level_after_a_situation_report_is_recorded(app):
    incident_id = open_incident(app)
    app.report_situation(as_call(TOWNSHIP), parse(c.ReportSituation, {"incident_id": incident_id,
                                                                       "text": "Under control"}), VAULT.seal, later(5))
    result = app.change_level(as_call(OFFICE), parse(c.ChangeLevel, {"incident_id": incident_id, "level": "IV"}),
                              later(6))
    assert result["level"] == "IV"


def test_a_step_dated_in_the_future_is_refused_and_stores_nothing(app):
    incident_id = open_incident(app)
    events = stored(app)
    with pytest.raises(ValidationFailed):
        app.report_situation(as_call(OFFICE), parse(c.ReportSituation, {
            "incident_id": incident_id, "text": "later", "at": later(60).isoformat()}), VAULT.seal, NOW)
    assert stored(app) == events


def test_a_step_on_an_incident_outside_jurisdiction_is_forbidden(app):
    incident_id = open_incident(app)
    with pytest.raises(Forbidden):
        app.change_level(as_call(ELSEWHERE), parse(c.ChangeLevel, {"incident_id": incident_id, "level": "I"}),
                         later(5))


def test_a_step_on_an_unknown_incident_is_not_found(app):
    with pytest.raises(NotFound):
        app.change_level(as_call(OFFICE), parse(c.ChangeLevel, {"incident_id": str(uuid4()), "level": "I"}), NOW)


# -- warnings ----------------------------------------------------------------------------------


def test_issue_warning_returns_its_cap_alert(app):
    result = issue(app)
    assert result["msg_type"] == "Alert" and "<msgType>Alert</msgType>" in result["cap_xml"]


def test_cancelling_a_cancelled_warning_is_invalid_and_stores_nothing(app):
    warning_id = issue(app)["warning_id"]
    app.cancel_warning(as_call(OFFICE), parse(c.CancelWarning, {"warning_id": warning_id}), later(5))
    events = stored(app)
    with pytest.raises(InvalidTransition):
        app.cancel_warning(as_call(OFFICE), parse(c.CancelWarning, {"warning_id": warning_id}), later(6))
    assert stored(app) == events


def test_update_warning_references_the_alert(app):
    first = issue(app)
    result = app.update_warning(as_call(OFFICE), parse(c.UpdateWarning, {
        "warning_id": first["warning_id"], "info": info(level="red", severity="Extreme")}), later(5))
    assert result["msg_type"] == "Update" and first["identifier"] in result["cap_xml"]


def test_issue_warning_with_mismatched_severity_is_refused_and_stores_nothing(app):
    with pytest.raises(ValidationFailed):
        issue(app, level="red", severity="Minor")
    assert stored(app) == 0


def test_issue_warning_for_an_area_outside_the_issuer_is_refused(app):
    with pytest.raises(ValidationFailed):
        issue(app, areas=["433123001"])
    assert stored(app) == 0


def test_issue_warning_by_a_township_officer_is_forbidden(app):
    with pytest.raises(Forbidden):
        issue(app, caller=TOWNSHIP)


def test_issue_warning_twice_by_one_command_is_the_same_warning(app):
    command = parse(c.IssueWarning, {"command_id": "warn-once", "jurisdiction": "433101", "info": info()})
    first = app.issue_warning(as_call(OFFICE), command, NOW)
    events = stored(app)
    assert app.issue_warning(as_call(OFFICE), command, NOW) == first and stored(app) == events


# -- key areas ---------------------------------------------------------------------------------


def test_drill_dated_in_the_future_is_refused_and_stores_nothing(app):
    area_id = register_area(app)
    app.adopt_plan(as_call(OFFICE), parse(c.AdoptPlan, {"area_id": area_id, "version": 1, "approved_by": "433101:gov",
                                                        "approved_on": "2026-09-10", "document_ref": "plan-1"}),
                   VAULT.seal, TODAY)
    events = stored(app)
    with pytest.raises(ValidationFailed):
        app.record_drill(as_call(OFFICE), parse(c.RecordDrill, {
            "area_id": area_id, "held_on": (TODAY + timedelta(days=1)).isoformat(), "scenario": "fire",
            "participant_count": 40}), VAULT.seal, TODAY)
    assert stored(app) == events


def test_key_area_shortfall_is_returned(app):
    area_id = register_area(app)
    app.set_requirements(as_call(OFFICE), parse(c.SetRequirements, {"area_id": area_id, "staff": 6,
                                                                     "equipment": {"extinguisher": 10}}))
    result = app.report_resources(as_call(TOWNSHIP), parse(c.ReportResources, {
        "area_id": area_id, "staff": 4, "equipment": {"extinguisher": 10}, "on": TODAY.isoformat()}), TODAY)
    assert result["understaffed"] and result["shortfall"] == {"staff": 2, "equipment": {}}


def test_registering_a_key_area_twice_is_a_conflict(app):
    command = parse(c.RegisterKeyArea, {"registry_ref": "jishou-no1-school", "jurisdiction": VILLAGE,
                                        "kind": "school", "managing_unit": "433101:edu", "drill_every_days": 90,
                                        "registered_on": "2026-09-01"})
    app.register_key_area(as_call(OFFICE), command, TODAY)
    with pytest.raises(Conflict):
        app.register_key_area(as_call(TOWNSHIP), command, TODAY)


def test_flag_overdue_flags_a_missing_plan_and_an_overdue_drill_once(app):
    area_id = register_area(app, registered_on=date(2026, 6, 1), every=30)
    assert sorted(app.flag_overdue(as_call(SERVICE), UUID(area_id), TODAY)) == ["drill", "plan"]
    events = stored(app)
    assert app.flag_overdue(as_call(SERVICE), UUID(area_id), TODAY) == [] and stored(app) == events

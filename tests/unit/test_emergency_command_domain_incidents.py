"""Incidents under command (Art. 6(3)): idempotent intake per source, levels I–IV, command tasks,
situation reports in order, escalation and de-escalation, closure and read-only after it."""

from datetime import datetime, timedelta
from uuid import uuid4

import pytest

from services.emergency_command.domain import Incident, incident_subject
from shared.errors import InvalidTransition, NotFound, ValidationFailed

from .test_emergency_command_domain_support import COUNTY, NOW, VAULT, acting, names_of

HOUR = timedelta(hours=1)


def intake(existing=None, **changes) -> Incident:
    facts = {"trigger": "severe_grid_event", "source_ref": str(uuid4()), "jurisdiction": COUNTY,
             "classification": "natural_disaster", "level": "III", "commander_unit": "county-emergency-office",
             "opened_at": NOW, **changes}
    with acting():
        return Incident.intake(existing, **facts)


def sealed(incident, text="road to the village washed out") -> str:
    return VAULT.seal(incident_subject(incident.id), text)


def refused(incident, error, command):
    before = len(names_of(incident))
    with acting(), pytest.raises(error):
        command()
    assert len(names_of(incident)) == before


def with_task(incident) -> str:
    with acting():
        return incident.assign_task("fire-brigade", sealed(incident, "clear the road"), NOW + 4 * HOUR, NOW + HOUR)


# -- intake ------------------------------------------------------------------------------


def test_intake_id_derived_from_source_service_and_ref():
    ref = str(uuid4())
    assert intake(source_ref=ref).id == Incident.create_id("grid_events", ref)


def test_intake_same_source_again_returns_existing_without_event():
    first = intake()
    again = intake(existing=first, source_ref=first.source_ref, level="I")
    assert again is first and names_of(first) == ["Opened"] and first.level == "III"


def test_intake_other_source_service_other_incident():
    ref = str(uuid4())
    by_grid = intake(source_ref=ref)
    by_person = intake(trigger="highest_risk_person", source_ref=ref, person_id="kp-0001")
    assert by_grid.id != by_person.id


def test_intake_unknown_level_refused():
    with pytest.raises(ValidationFailed):
        intake(level="V")


def test_intake_unknown_classification_refused():
    with pytest.raises(ValidationFailed):
        intake(classification="alien_invasion")


def test_intake_key_person_without_person_refused():
    with pytest.raises(ValidationFailed):
        intake(trigger="highest_risk_person")


def test_intake_person_id_shaped_like_resident_id_refused():
    with pytest.raises(ValidationFailed):
        intake(trigger="highest_risk_person", person_id="43310119900101001X")


def test_intake_source_ref_shaped_like_old_resident_id_refused():
    with pytest.raises(ValidationFailed):
        intake(source_ref="433101900101001")


def test_intake_grid_event_naming_person_refused():
    with pytest.raises(ValidationFailed):
        intake(person_id="kp-0001")


def test_intake_naive_time_refused():
    with pytest.raises(ValidationFailed):
        intake(opened_at=datetime(2026, 12, 2, 9, 0))


# -- command tasks -------------------------------------------------------------------------


def test_task_without_unit_refused():
    incident = intake()
    refused(incident, ValidationFailed, lambda: incident.assign_task(None, sealed(incident), NOW + HOUR, NOW))


def test_task_due_before_assignment_refused():
    incident = intake()
    refused(incident, ValidationFailed, lambda: incident.assign_task("police", sealed(incident), NOW, NOW + HOUR))


def test_task_plaintext_instructions_refused():
    incident = intake()
    refused(incident, ValidationFailed, lambda: incident.assign_task("police", "find Mr Long", NOW + HOUR, NOW))


def test_task_acknowledged_then_completed():
    incident = intake()
    task = with_task(incident)
    with acting():
        incident.acknowledge_task(task, NOW + 2 * HOUR)
        incident.complete_task(task, None, NOW + 3 * HOUR)
    assert incident.tasks[task]["status"] == "completed"


def test_task_acknowledged_twice_refused():
    incident = intake()
    task = with_task(incident)
    with acting():
        incident.acknowledge_task(task, NOW + 2 * HOUR)
    refused(incident, InvalidTransition, lambda: incident.acknowledge_task(task, NOW + 2 * HOUR))


def test_unknown_task_not_found():
    incident = intake()
    refused(incident, NotFound, lambda: incident.acknowledge_task("T9", NOW + HOUR))


def test_overdue_tasks_listed_at_given_time():
    incident = intake()
    task = with_task(incident)
    assert (incident.overdue_tasks(NOW + 4 * HOUR), incident.overdue_tasks(NOW + 5 * HOUR)) == ([], [task])


# -- situation reports and levels ------------------------------------------------------------


def test_situation_reports_appended_in_order():
    incident = intake()
    with acting():
        incident.report_situation(sealed(incident, "first"), NOW + HOUR)
        incident.report_situation(sealed(incident, "second"), NOW + 2 * HOUR)
    assert [r["seq"] for r in incident.reports] == [1, 2]


def test_situation_report_before_last_step_refused():
    incident = intake()
    with acting():
        incident.report_situation(sealed(incident), NOW + 2 * HOUR)
    refused(incident, ValidationFailed, lambda: incident.report_situation(sealed(incident), NOW + HOUR))


def test_escalation_without_report_accepted():
    incident = intake(level="III")
    with acting():
        incident.change_level("I", NOW + HOUR)
    assert (incident.level, names_of(incident)[-1]) == ("I", "Escalated")


def test_deescalation_without_report_refused():
    incident = intake(level="II")
    refused(incident, InvalidTransition, lambda: incident.change_level("IV", NOW + HOUR))


def test_deescalation_after_report_accepted():
    incident = intake(level="II")
    with acting():
        incident.report_situation(sealed(incident), NOW + HOUR)
        incident.change_level("IV", NOW + 2 * HOUR)
    assert (incident.level, names_of(incident)[-1]) == ("IV", "Deescalated")


def test_second_deescalation_needs_new_report():
    incident = intake(level="I")
    with acting():
        incident.report_situation(sealed(incident), NOW + HOUR)
        incident.change_level("II", NOW + 2 * HOUR)
    refused(incident, InvalidTransition, lambda: incident.change_level("III", NOW + 3 * HOUR))


def test_same_level_refused():
    incident = intake(level="III")
    refused(incident, InvalidTransition, lambda: incident.change_level("III", NOW + HOUR))


def test_unknown_level_change_refused():
    incident = intake()
    refused(incident, ValidationFailed, lambda: incident.change_level("0", NOW + HOUR))


# -- closure ---------------------------------------------------------------------------------


def test_close_with_open_task_refused():
    incident = intake()
    with_task(incident)
    refused(incident, InvalidTransition, lambda: incident.close(sealed(incident, "review"), NOW + 2 * HOUR))


def test_close_without_summary_refused():
    incident = intake()
    refused(incident, ValidationFailed, lambda: incident.close("", NOW + HOUR))


def test_closed_incident_refuses_task_acknowledgement():
    incident = intake()
    task = with_task(incident)
    with acting():
        incident.cancel_task(task, None, NOW + 2 * HOUR)
        incident.close(sealed(incident, "after-action review"), NOW + 3 * HOUR)
    refused(incident, InvalidTransition, lambda: incident.acknowledge_task(task, NOW + 4 * HOUR))


def test_closed_incident_refuses_reports():
    incident = intake()
    with acting():
        incident.close(sealed(incident, "after-action review"), NOW + HOUR)
    refused(incident, InvalidTransition, lambda: incident.report_situation(sealed(incident), NOW + 2 * HOUR))


def test_appoint_commander_changes_commander_unit():
    incident = intake()
    with acting():
        incident.appoint_commander("prefecture-emergency-office", NOW + HOUR)
    assert incident.commander_unit == "prefecture-emergency-office"

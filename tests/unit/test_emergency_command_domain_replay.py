"""Events are data: every aggregate, after a full life, is stored through eventsourcing's JSON
transcoder (in memory) and rebuilt from its events to the same state."""

from datetime import date, timedelta
from uuid import uuid4

from eventsourcing.application import Application

from services.emergency_command.domain import EmergencyWarning, Incident, KeyArea, incident_subject, render_cap

from .test_emergency_command_domain_support import COUNTY, NOW, TODAY, TOWNSHIP, VAULT, acting

HOUR = timedelta(hours=1)


def rebuilt(aggregate):
    app = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    app.save(aggregate)
    return app.repository.get(aggregate.id)


def test_key_area_rebuilt_from_events_equals_original():
    with acting():
        area = KeyArea.register(str(uuid4()), TOWNSHIP, "hospital", "health-bureau", 30, date(2026, 1, 5))
        area.set_requirements(12, {"camera": 10})
        area.report_resources(9, {"camera": 4}, TODAY)
        area.adopt_plan(1, "county-office", date(2026, 1, 20), "doc-1", None, TODAY)
        area.record_drill(date(2026, 6, 1), "fire", 80, ["hospital-1"], None, TODAY)
        area.flag_overdue(TODAY)
    again = rebuilt(area)
    assert (again.as_row(), again.shortfall, again.plans) == (area.as_row(), area.shortfall, area.plans)


def test_incident_rebuilt_from_events_equals_original():
    with acting():
        incident = Incident.intake(None, "red_risk", str(uuid4()), COUNTY, "social_security", "II", "police", NOW)
        text = VAULT.seal(incident_subject(incident.id), "crowd gathering at the bridge")
        task = incident.assign_task("police", text, NOW + 3 * HOUR, NOW + HOUR)
        incident.acknowledge_task(task, NOW + 2 * HOUR)
        incident.report_situation(text, NOW + 2 * HOUR)
        incident.change_level("III", NOW + 2 * HOUR)
    again = rebuilt(incident)
    assert (again.level, again.tasks, again.reports, again.levels) == (
        incident.level, incident.tasks, incident.reports, incident.levels)


def test_warning_rebuilt_from_events_renders_same_documents():
    info = {"categories": ["Geo"], "event": "山体滑坡", "urgency": "Immediate", "severity": "Extreme",
            "certainty": "Observed", "level": "red", "effective": NOW, "expires": NOW + 6 * HOUR, "areas": [COUNTY]}
    with acting():
        warning = EmergencyWarning.issue(str(uuid4()), "433100", "pingan.433100", "Actual", info, NOW)
        warning.update({**info, "severity": "Severe", "level": "orange"}, NOW + HOUR)
        warning.cancel(NOW + 2 * HOUR)
    again = rebuilt(warning)
    assert [render_cap(m) for m in again.messages] == [render_cap(m) for m in warning.messages]

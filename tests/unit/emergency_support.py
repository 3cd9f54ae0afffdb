"""What the emergency_command application and service tests share: the in-memory
application, callers, a fixed clock, a real vault and the commands of a main flow."""

from datetime import date, datetime, timedelta, timezone
from uuid import uuid4

from services.emergency_command import contracts as c
from services.emergency_command.application import EmergencyCommandApplication
from shared.context import CallerContext, Role
from shared.validation import parse
from tests.history_support import as_call
from tests.unit.test_emergency_command_domain_support import VAULT

CST = timezone(timedelta(hours=8))
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=CST)
TODAY = NOW.date()
VILLAGE = "433101001001"
OFFICE = CallerContext(actor_id="eoc-1", role=Role.EMERGENCY_OFFICE, jurisdiction="433101")
TOWNSHIP = CallerContext(actor_id="town-1", role=Role.TOWNSHIP_OFFICER, jurisdiction="433101001")
ELSEWHERE = CallerContext(actor_id="eoc-9", role=Role.EMERGENCY_OFFICE, jurisdiction="433123")
GRID_WORKER = CallerContext(actor_id="gw-1", role=Role.GRID_WORKER, jurisdiction=VILLAGE)
SERVICE = CallerContext(actor_id="service:grid_events", role=Role.SERVICE, jurisdiction="433100")


def memory_app() -> EmergencyCommandApplication:
    return EmergencyCommandApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def stored(app) -> int:
    """How many events the log holds: a refused command adds none."""
    return app.recorder.max_notification_id() or 0


def later(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)


def open_incident(app, caller=OFFICE, ref=None, at=NOW) -> str:
    return app.open_incident(as_call(caller), parse(c.OpenIncident, {
        "incident_ref": ref or f"op-{uuid4().hex[:8]}", "jurisdiction": VILLAGE, "classification": "accident",
        "level": "III", "commander_unit": "433101:emergency_office"}), at)["incident_id"]


def assign(app, incident_id, caller=OFFICE, at=None, due_minutes=120) -> str:
    at = at or later(10)
    return app.assign_task(as_call(caller), parse(c.AssignTask, {
        "incident_id": incident_id, "unit": "433101:fire_brigade", "instructions": "Evacuate Long's courtyard",
        "due_at": (at + timedelta(minutes=due_minutes)).isoformat()}), VAULT.seal, at)["task_id"]


def info(level="orange", severity="Severe", **changes) -> dict:
    return {"categories": ["Met"], "event": "暴雨", "urgency": "Expected", "severity": severity,
            "certainty": "Likely", "level": level, "effective": NOW.isoformat(),
            "expires": (NOW + timedelta(hours=12)).isoformat(), "areas": ["433101001", "433101002"],
            "headline": "暴雨橙色预警", **changes}


def issue(app, caller=OFFICE, status="Actual", jurisdiction="433101", **changes) -> dict:
    return app.issue_warning(as_call(caller), parse(c.IssueWarning, {
        "command_id": f"warn-{uuid4().hex[:8]}", "jurisdiction": jurisdiction, "status": status,
        "info": info(**changes)}), NOW)


def register_area(app, caller=OFFICE, registered_on=date(2026, 9, 1), every=90) -> str:
    return app.register_key_area(as_call(caller), parse(c.RegisterKeyArea, {
        "registry_ref": f"area-{uuid4().hex[:8]}", "jurisdiction": VILLAGE, "kind": "school",
        "managing_unit": "433101:education_bureau", "drill_every_days": every,
        "registered_on": registered_on.isoformat()}), TODAY)["area_id"]

"""emergency_command for the contract suite: an incident whose task and situation report carry the canary."""

from datetime import timedelta

from shared.context import CallerContext, Role
from tests.contract_support import Scenario
from tests.unit.emergency_support import NOW, OFFICE, VILLAGE

OUTSIDER = CallerContext(actor_id="officer-9", role=Role.COUNTY_OFFICER, jurisdiction="433102")


def write(worker, canary: str) -> str:
    incident_id = worker(OFFICE).open_incident(incident_ref="op-contract", jurisdiction=VILLAGE,
                                               classification="natural_disaster", level="II",
                                               commander_unit="433101:emergency_office")["incident_id"]
    worker(OFFICE).assign_task(incident_id=incident_id, unit="433101:rescue_team", instructions=canary,
                               due_at=(NOW + timedelta(hours=2)).isoformat())
    worker(OFFICE).report_situation(incident_id=incident_id, text=canary)
    return incident_id


SCENARIO = Scenario(
    write=write,
    read=lambda worker, incident_id: worker(OFFICE).get_incident(incident_id=incident_id, purpose="emergency"),
    refuse=lambda worker, incident_id: worker(OUTSIDER).report_situation(incident_id=incident_id, text="refused"),
    dependencies={"now": lambda: NOW},
)

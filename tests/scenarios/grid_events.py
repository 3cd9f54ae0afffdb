"""grid_events for the contract suite: a risk whose place and description carry the canary
(the registry of units and grids seeded first)."""

from shared.context import CallerContext, Role
from tests.contract_support import Scenario
from tests.unit.grid_support import UNIT, VILLAGE, World

COUNTY_OFFICER = CallerContext(actor_id="officer-3", role=Role.COUNTY_OFFICER, jurisdiction="433101")
OUTSIDER = CallerContext(actor_id="officer-5", role=Role.COUNTY_OFFICER, jurisdiction="433102")


def risk(canary: str) -> dict:
    return dict(jurisdiction=VILLAGE, category="lending", source="risk", level="yellow", place=canary,
                description=canary, responsible_unit=UNIT, responsible_person_id="p-1",
                responsible_person_name=canary)


SCENARIO = Scenario(
    app=lambda vault: World(seal=vault.seal).seed().app,
    write=lambda worker, canary: worker(COUNTY_OFFICER).register_risk(**risk(canary))["risk_id"],
    read=lambda worker, risk_id: worker(COUNTY_OFFICER).get_risk(risk_id=risk_id, purpose="case_work"),
    refuse=lambda worker, risk_id: worker(OUTSIDER).register_risk(**risk("refused")),
)

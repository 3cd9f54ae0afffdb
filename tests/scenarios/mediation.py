"""mediation for the contract suite: a case whose subject and party carry the canary."""

from shared.context import CallerContext, Role
from tests.contract_support import Scenario

VILLAGE = "433101001001"
MEDIATOR = CallerContext(actor_id="mediator-1", role=Role.MEDIATOR, jurisdiction=VILLAGE)
OUTSIDER = CallerContext(actor_id="officer-5", role=Role.COUNTY_OFFICER, jurisdiction="433102")


def write(worker, canary: str) -> str:
    return worker(MEDIATOR).open_case(jurisdiction=VILLAGE, source="petition", subject=canary, parties=[
        {"name": canary, "languages": ["mandarin"], "understands_mandarin": True}])["case_id"]


SCENARIO = Scenario(
    write=write,
    read=lambda worker, case_id: worker(MEDIATOR).get_case(case_id=case_id, purpose="case_work"),
    refuse=lambda worker, case_id: worker(OUTSIDER).open_case(jurisdiction=VILLAGE, source="petition",
                                                             subject="refused", parties=[
        {"name": "refused", "languages": ["mandarin"], "understands_mandarin": True}]),
)

"""key_populations for the contract suite: a person registered and enrolled, with helper team, guardian and
a follow-up, every free-text and personal field carrying the canary (docs/services/key_populations.md)."""

from datetime import timedelta
from uuid import uuid4

from tests.contract_support import Scenario
from tests.unit.key_populations_support import ENROLLED, FACTS, TODAY, TOWNSHIP, VILLAGE, caller

OUTSIDER = caller(jurisdiction="433122002", actor_id="officer-9")  # a township officer of another township


def write(worker, canary: str) -> str:
    person_id = f"kp-{uuid4().hex[:10]}"
    worker(TOWNSHIP).register_person(person_id=person_id, jurisdiction=VILLAGE, name=canary, id_number=canary,
                                     address=canary, contact=canary)
    team = [{"member_id": "m-township", "role": "township_official", "name": canary},
            {"member_id": "m-police", "role": "police_officer", "name": canary},
            {"member_id": "m-social", "role": "social_worker", "name": canary}]
    facts = {**FACTS["severe_mental_disorder"], "guardian_name": canary, "guardian_contact": canary}
    enrolment_id = worker(TOWNSHIP).enrol(person_id=person_id, category="severe_mental_disorder",
                                          enrolled_on=str(ENROLLED), facts=facts, team=team,
                                          responsible_id="m-township", risk_level=1)["enrolment_id"]
    worker(TOWNSHIP).record_follow_up(enrolment_id=enrolment_id, held_on=str(TODAY - timedelta(days=1)),
                                      kind="home_visit", outcome="stable", note=canary)
    return enrolment_id


SCENARIO = Scenario(
    write=write,
    read=lambda worker, enrolment_id: worker(TOWNSHIP).get_enrolment(enrolment_id=enrolment_id,
                                                                      purpose="supervision"),
    refuse=lambda worker, enrolment_id: worker(OUTSIDER).record_follow_up(
        enrolment_id=enrolment_id, held_on=str(TODAY - timedelta(days=1)), kind="home_visit", outcome="stable",
        note="refused"),
    dependencies={"today": lambda: TODAY},
)

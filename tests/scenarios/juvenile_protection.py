"""juvenile_protection for the contract suite: a report accepted into a minor's case, with a guardian,
a plan task and a plan review, the school recorded and the plan's lead changed, every free-text and
personal field carrying the canary (docs/services/juvenile_protection.md)."""

from uuid import uuid4

from tests.contract_support import Scenario
from tests.unit.juvenile_support import CIVIL_AFFAIRS, ELSEWHERE, NOW, SCHOOL, VILLAGE


def write(worker, canary: str) -> str:
    report_id = worker(SCHOOL).receive_report(source="school", reference="contract-report", jurisdiction=VILLAGE,
                                              summary=canary, deadline_hours=24)["report_id"]
    case_id = worker(CIVIL_AFFAIRS).accept_report(
        report_id=report_id, minor_id=f"m-{uuid4().hex[:10]}", birth_month="2012-03", date_of_birth="2012-03-14",
        name=canary, id_number="433123201203140011", address=canary, categories=["left_behind"])["case_id"]
    worker(CIVIL_AFFAIRS).add_guardian(case_id=case_id, relation="grandparent", guardian_name=canary,
                                       guardian_phone="13800000000")
    plan_id = worker(CIVIL_AFFAIRS).draw_up_plan(case_id=case_id, lead_department="civil_affairs",
                                                 first_review_on="2027-03-01")["plan_id"]
    worker(CIVIL_AFFAIRS).assign_plan_task(plan_id=plan_id, department="education", due_on="2026-12-20",
                                           description=canary)
    worker(CIVIL_AFFAIRS).record_school(case_id=case_id, school_id="school-fh-01")
    worker(CIVIL_AFFAIRS).review_plan(plan_id=plan_id, outcome="tasks_revised", next_review_on="2027-02-01",
                                      note=canary)
    worker(CIVIL_AFFAIRS).change_plan_lead(plan_id=plan_id, lead_department="education")
    return case_id


SCENARIO = Scenario(
    write=write,
    read=lambda worker, case_id: worker(CIVIL_AFFAIRS).get_case(case_id=case_id, purpose="case_work"),
    refuse=lambda worker, case_id: worker(ELSEWHERE).add_guardian(case_id=case_id, relation="mother",
                                                                  guardian_name="refused"),
    dependencies={"now": lambda: NOW, "today": lambda: NOW.date()},
)

"""juvenile_protection's later changes to a case or plan through the nameko entrypoints: removing a
category, recording the school, the plan's periodic review with its outcome, a new lead department,
and the timer flagging an overdue plan or placement review once."""

import json

import pytest

from services.juvenile_protection import domain
from services.juvenile_protection.publishing import published
from shared.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from shared.security.audit_log import AuditTrail
from tests.unit.juvenile_support import (
    CANARY,
    CIVIL_AFFAIRS,
    EDUCATION,
    ELSEWHERE,
    POLICE,
    SCHOOL,
    World,
    admitted_referral,
    open_case,
    plan_with_tasks,
    seal_record,
)

COUNTY = "433123"


@pytest.fixture
def world():
    return World()


def refused_storing_nothing(world, error, call, **arguments):
    before = world.stored()
    with pytest.raises(error):
        call(**arguments)
    assert world.stored() == before


def _case(world, case_id):
    return world(CIVIL_AFFAIRS).get_case(case_id=case_id, purpose="case_work")


def _plan(world, plan_id):
    return world(CIVIL_AFFAIRS).get_plan(plan_id=plan_id, purpose="case_work")


# -- categories -----------------------------------------------------------------------------------


def test_removed_category_leaves_the_case_and_its_count(world):
    case_id = open_case(world, categories=["left_behind", "victim"])
    world(EDUCATION).remove_category(case_id=case_id, category="victim")
    counted = world(CIVIL_AFFAIRS).count_cases(purpose="case_work")["by_category"]
    assert _case(world, case_id)["categories"] == ["left_behind"] and counted["victim"] == 0


def test_removing_the_last_category_is_refused_and_stores_nothing(world):
    case_id = open_case(world)
    refused_storing_nothing(world, InvalidTransition, world(CIVIL_AFFAIRS).remove_category, case_id=case_id,
                            category="left_behind")


def test_removing_a_category_the_case_lacks_is_refused_and_stores_nothing(world):
    case_id = open_case(world)
    refused_storing_nothing(world, NotFound, world(CIVIL_AFFAIRS).remove_category, case_id=case_id,
                            category="victim")


def test_removing_a_category_from_a_closed_case_is_refused_and_stores_nothing(world):
    case_id = open_case(world, categories=["left_behind", "victim"])
    world(CIVIL_AFFAIRS).close_case(case_id=case_id, reason="moved")
    refused_storing_nothing(world, InvalidTransition, world(CIVIL_AFFAIRS).remove_category, case_id=case_id,
                            category="victim")


def test_removing_a_category_outside_the_callers_jurisdiction_is_forbidden(world):
    case_id = open_case(world, categories=["left_behind", "victim"])
    refused_storing_nothing(world, Forbidden, world(ELSEWHERE).remove_category, case_id=case_id, category="victim")


def test_removing_a_category_by_a_role_not_running_cases_is_forbidden(world):
    case_id = open_case(world, categories=["left_behind", "victim"])
    refused_storing_nothing(world, Forbidden, world(POLICE).remove_category, case_id=case_id, category="victim")


def test_removing_a_category_from_a_sealed_case_answers_not_found(world):
    case_id = open_case(world, categories=["in_conflict_with_law", "victim"])
    seal_record(world, case_id)
    refused_storing_nothing(world, NotFound, world(CIVIL_AFFAIRS).remove_category, case_id=case_id,
                            category="victim")


# -- school ---------------------------------------------------------------------------------------


def test_recorded_school_is_read_with_the_case_and_changed_later(world):
    case_id = open_case(world)
    world(EDUCATION).record_school(case_id=case_id, school_id="school-fh-01")
    first = _case(world, case_id)["school_id"]
    world(EDUCATION).record_school(case_id=case_id, school_id=None)  # dropped out
    assert (first, _case(world, case_id)["school_id"]) == ("school-fh-01", None)


def test_recording_the_same_school_again_is_refused_and_stores_nothing(world):
    case_id = open_case(world)
    world(EDUCATION).record_school(case_id=case_id, school_id="school-fh-01")
    refused_storing_nothing(world, Conflict, world(EDUCATION).record_school, case_id=case_id,
                            school_id="school-fh-01")


def test_recording_a_school_with_a_control_character_is_refused_and_stores_nothing(world):
    case_id = open_case(world)
    refused_storing_nothing(world, ValidationFailed, world(EDUCATION).record_school, case_id=case_id,
                            school_id="school\x00-1")


def test_recording_a_school_outside_the_callers_jurisdiction_is_forbidden(world):
    case_id = open_case(world)
    refused_storing_nothing(world, Forbidden, world(ELSEWHERE).record_school, case_id=case_id,
                            school_id="school-fh-01")


def test_recording_a_school_by_a_reporting_unit_is_forbidden(world):
    case_id = open_case(world)
    refused_storing_nothing(world, Forbidden, world(SCHOOL).record_school, case_id=case_id,
                            school_id="school-fh-01")


# -- plan reviews -----------------------------------------------------------------------------------


def test_plan_review_records_its_outcome_and_the_next_date(world):
    plan_id, _ = plan_with_tasks(world, open_case(world))
    world(CIVIL_AFFAIRS).review_plan(plan_id=plan_id, outcome="tasks_revised", next_review_on="2027-02-01",
                                     note=f"school visit added, {CANARY}")
    found = _plan(world, plan_id)
    assert (found["reviews"], found["last_review_outcome"], found["last_reviewed_on"], found["next_review_on"]) == (
        1, "tasks_revised", "2026-12-02", "2027-02-01")


def test_plan_review_with_the_next_date_not_after_today_is_refused_and_stores_nothing(world):
    plan_id, _ = plan_with_tasks(world, open_case(world))
    refused_storing_nothing(world, ValidationFailed, world(CIVIL_AFFAIRS).review_plan, plan_id=plan_id,
                            outcome="on_track", next_review_on="2026-12-02", note="too soon")


def test_plan_review_with_an_unknown_outcome_is_refused_and_stores_nothing(world):
    plan_id, _ = plan_with_tasks(world, open_case(world))
    refused_storing_nothing(world, ValidationFailed, world(CIVIL_AFFAIRS).review_plan, plan_id=plan_id,
                            outcome="fine", next_review_on="2027-02-01", note="ok")


def test_review_of_an_ended_plan_is_refused_and_stores_nothing(world):
    case_id = open_case(world)
    plan_id, _ = plan_with_tasks(world, case_id)
    world(CIVIL_AFFAIRS).close_case(case_id=case_id, reason="moved")
    refused_storing_nothing(world, InvalidTransition, world(CIVIL_AFFAIRS).review_plan, plan_id=plan_id,
                            outcome="on_track", next_review_on="2027-02-01", note="after the end")


def test_plan_review_note_with_a_control_character_is_refused_and_stores_nothing(world):
    plan_id, _ = plan_with_tasks(world, open_case(world))
    refused_storing_nothing(world, ValidationFailed, world(CIVIL_AFFAIRS).review_plan, plan_id=plan_id,
                            outcome="on_track", next_review_on="2027-02-01", note="ok\x1b[2J")


def test_plan_review_outside_the_callers_jurisdiction_is_forbidden(world):
    plan_id, _ = plan_with_tasks(world, open_case(world))
    refused_storing_nothing(world, Forbidden, world(ELSEWHERE).review_plan, plan_id=plan_id, outcome="on_track",
                            next_review_on="2027-02-01", note="not ours")


def test_plan_review_by_a_task_holder_without_the_case_role_is_forbidden(world):
    plan_id, _ = plan_with_tasks(world, open_case(world))
    refused_storing_nothing(world, Forbidden, world(POLICE).review_plan, plan_id=plan_id, outcome="on_track",
                            next_review_on="2027-02-01", note="not ours")


def test_plan_review_note_is_sealed_and_never_published(world):
    plan_id, _ = plan_with_tasks(world, open_case(world))
    world(CIVIL_AFFAIRS).review_plan(plan_id=plan_id, outcome="escalated", next_review_on="2027-01-15",
                                     note=f"worse at home, {CANARY}")
    events = [world.app.mapper.to_domain_event(n) for n in world.app.recorder.select_notifications(1, 1000)]
    reviewed = [e for e in events if isinstance(e, domain.ProtectionPlan.Reviewed)]
    payloads = [p.model_dump(mode="json") for e in reviewed for _, p in published().public_events(e)]
    assert CANARY not in str(reviewed[0].note) and CANARY not in json.dumps(payloads)
    assert payloads[0]["outcome"] == "escalated" and payloads[0]["county"] == COUNTY


# -- lead department ----------------------------------------------------------------------------------


def test_changed_lead_department_is_read_with_the_plan(world):
    plan_id, _ = plan_with_tasks(world, open_case(world))
    world(EDUCATION).change_plan_lead(plan_id=plan_id, lead_department="education")
    assert _plan(world, plan_id)["lead_department"] == "education"


def test_lead_changed_to_the_current_lead_is_refused_and_stores_nothing(world):
    plan_id, _ = plan_with_tasks(world, open_case(world))
    refused_storing_nothing(world, Conflict, world(CIVIL_AFFAIRS).change_plan_lead, plan_id=plan_id,
                            lead_department="civil_affairs")


def test_lead_change_on_an_ended_plan_is_refused_and_stores_nothing(world):
    case_id = open_case(world)
    plan_id, _ = plan_with_tasks(world, case_id)
    world(CIVIL_AFFAIRS).close_case(case_id=case_id, reason="moved")
    refused_storing_nothing(world, InvalidTransition, world(CIVIL_AFFAIRS).change_plan_lead, plan_id=plan_id,
                            lead_department="education")


def test_lead_change_outside_the_callers_jurisdiction_is_forbidden(world):
    plan_id, _ = plan_with_tasks(world, open_case(world))
    refused_storing_nothing(world, Forbidden, world(ELSEWHERE).change_plan_lead, plan_id=plan_id,
                            lead_department="education")


def test_lead_change_to_an_unknown_department_is_refused_and_stores_nothing(world):
    plan_id, _ = plan_with_tasks(world, open_case(world))
    refused_storing_nothing(world, ValidationFailed, world(CIVIL_AFFAIRS).change_plan_lead, plan_id=plan_id,
                            lead_department="chamber_of_commerce")


def test_lead_change_on_a_sealed_cases_plan_answers_not_found(world):
    case_id = open_case(world, categories=["in_conflict_with_law"])
    plan_id, _ = plan_with_tasks(world, case_id)
    seal_record(world, case_id)
    refused_storing_nothing(world, NotFound, world(EDUCATION).change_plan_lead, plan_id=plan_id,
                            lead_department="education")


def test_read_of_a_reviewed_plan_is_audited(world):
    plan_id, _ = plan_with_tasks(world, open_case(world))
    world(CIVIL_AFFAIRS).review_plan(plan_id=plan_id, outcome="on_track", next_review_on="2027-02-01", note="ok")
    _plan(world, plan_id)
    last = list(AuditTrail(world.app).entries())[-1]
    assert (last.outcome, last.record_ids) == ("allowed", [plan_id])


# -- overdue reviews ---------------------------------------------------------------------------------


def _figure(world, kind):
    return world.figures().get(("pingan_juvenile_reviews_overdue",
                                (("county", COUNTY), ("kind", kind), ("service", "juvenile_protection"))), 0)


def test_overdue_plan_review_is_flagged_once_and_counted(world):
    plan_id, _ = plan_with_tasks(world, open_case(world))  # first review 2027-03-01
    world.advance(days=90)  # 2027-03-02
    flagged = [world(CIVIL_AFFAIRS).check_deadlines()["plan_reviews_overdue"] for _ in range(2)]
    assert flagged == [1, 0] and _plan(world, plan_id)["review_overdue"] and _figure(world, "plan") == 1


def test_review_held_clears_the_overdue_flag_and_the_next_date_is_flagged_afresh(world):
    plan_id, _ = plan_with_tasks(world, open_case(world))
    world.advance(days=90)
    world(CIVIL_AFFAIRS).check_deadlines()
    world(CIVIL_AFFAIRS).review_plan(plan_id=plan_id, outcome="on_track", next_review_on="2027-04-01", note="late")
    cleared = _figure(world, "plan")
    world.advance(days=31)
    assert (cleared, world(CIVIL_AFFAIRS).check_deadlines()["plan_reviews_overdue"], _figure(world, "plan")) == (
        0, 1, 1)


def test_plan_review_not_yet_due_is_not_flagged(world):
    plan_with_tasks(world, open_case(world))
    world.advance(days=89)  # 2027-03-01, the review day itself
    assert world(CIVIL_AFFAIRS).check_deadlines()["plan_reviews_overdue"] == 0


def test_overdue_placement_review_is_flagged_once_and_counted(world):
    referral_id = admitted_referral(world, open_case(world, categories=["serious_misconduct"]))
    world(CIVIL_AFFAIRS).place_in_special_school(referral_id=referral_id, school_id="special-1",
                                                 first_review_on="2027-01-15")
    world.advance(days=45)  # 2027-01-16
    flagged = [world(CIVIL_AFFAIRS).check_deadlines()["placement_reviews_overdue"] for _ in range(2)]
    found = world(EDUCATION).get_referral(referral_id=referral_id, purpose="case_work")
    assert flagged == [1, 0] and found["review_overdue"] and _figure(world, "placement") == 1


def test_sealed_cases_overdue_review_is_not_counted(world):
    case_id = open_case(world, categories=["in_conflict_with_law"])
    plan_with_tasks(world, case_id)
    seal_record(world, case_id)
    world.advance(days=90)
    world(CIVIL_AFFAIRS).check_deadlines()
    assert _figure(world, "plan") == 0

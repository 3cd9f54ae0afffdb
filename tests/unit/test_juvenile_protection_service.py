"""juvenile_protection through its nameko entrypoints on the in-memory store, its read models in
SQLite: intake with its deadline, cases, the coordinated plan, majority, sealing and the figures."""

import json
import uuid
from datetime import timedelta

import pytest

from services.juvenile_protection import contracts as c
from services.juvenile_protection import domain
from services.juvenile_protection.publishing import published
from services.key_populations import contracts as key_populations
from shared.context import Role
from shared.contracts import Envelope
from shared.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed
from shared.security.audit_log import AuditTrail
from shared.testing import call_as
from shared.validation import parse
from tests.unit.juvenile_support import (
    CANARY,
    CIVIL_AFFAIRS,
    COURT,
    EDUCATION,
    ELSEWHERE,
    NOW,
    POLICE,
    PROSECUTOR,
    VILLAGE,
    World,
    accept,
    admitted_referral,
    open_case,
    plan_with_tasks,
    receive,
    seal_record,
)


@pytest.fixture
def world():
    return World()


# -- intake ------------------------------------------------------------------------------------


def test_accepted_report_opens_a_case_read_with_the_childs_identity(world):
    case_id = open_case(world)
    found = world(CIVIL_AFFAIRS).get_case(case_id=case_id, purpose="case_work")
    assert (found["name"], found["status"], found["categories"]) == (CANARY, "open", ["left_behind"])


def test_report_received_twice_is_one_report(world):
    first = receive(world, "school-77")
    before = world.stored()
    assert receive(world, "school-77") == first and world.stored() == before


def test_report_past_its_deadline_is_flagged_once_by_the_timer(world):
    receive(world, deadline_hours=1)
    world.advance(hours=1, minutes=1)
    flagged = [world(CIVIL_AFFAIRS).check_deadlines()["reports_overdue"] for _ in range(2)]
    listed = world(CIVIL_AFFAIRS).list_reports(overdue=True, purpose="case_work")
    assert flagged == [1, 0] and listed["total"] == 1


def test_report_within_its_deadline_is_not_flagged(world):
    receive(world)
    world.advance(hours=23, minutes=59)
    assert world(CIVIL_AFFAIRS).check_deadlines()["reports_overdue"] == 0


def test_overdue_reports_figure_counts_by_county(world):
    receive(world, deadline_hours=1)
    world.advance(hours=2)
    world(CIVIL_AFFAIRS).check_deadlines()
    assert world.figures()[("pingan_juvenile_reports_overdue", (("county", "433123"),
                                                                 ("service", "juvenile_protection")))] == 1


def test_accepting_a_child_of_18_is_refused_and_stores_nothing(world):
    report_id = receive(world)
    before = world.stored()
    with pytest.raises(ValidationFailed):
        accept(world, report_id, birth=NOW.date().replace(year=NOW.year - 19))
    assert world.stored() == before


def test_accepting_a_report_twice_is_refused(world):
    report_id = receive(world)
    accept(world, report_id)
    with pytest.raises(InvalidTransition):
        accept(world, report_id)


def test_accepting_a_report_outside_the_callers_jurisdiction_is_forbidden(world):
    report_id = receive(world)
    with pytest.raises(Forbidden):
        world(ELSEWHERE).accept_report(report_id=report_id, minor_id="m-1", birth_month="2012-03",
                                       date_of_birth="2012-03-14", name="x", categories=["victim"])


def test_a_further_report_is_accepted_into_the_childs_open_case(world):
    case_id = open_case(world)
    further = receive(world)
    world(CIVIL_AFFAIRS).accept_report(report_id=further, case_id=case_id)
    assert world(CIVIL_AFFAIRS).get_case(case_id=case_id, purpose="case_work")["reports"] == 2


def test_redirected_report_leaves_the_intake_queue(world):
    report_id = receive(world)
    world(CIVIL_AFFAIRS).redirect_report(report_id=report_id, to_department="health", note="medical matter")
    assert world(CIVIL_AFFAIRS).list_reports(status="received", purpose="case_work")["total"] == 0


# -- the coordinated plan -------------------------------------------------------------------------


def test_plan_is_complete_only_when_every_departments_task_is_done(world):
    plan_id, (first, second) = plan_with_tasks(world, open_case(world))
    for task_id in (first, second):
        world(EDUCATION).acknowledge_plan_task(plan_id=plan_id, task_id=task_id)
    after_one = world(EDUCATION).complete_plan_task(plan_id=plan_id, task_id=first, note="visited")["complete"]
    after_two = world(EDUCATION).complete_plan_task(plan_id=plan_id, task_id=second, note="enrolled")["complete"]
    assert (after_one, after_two) == (False, True)


def test_completing_an_unacknowledged_task_is_refused_and_stores_nothing(world):
    plan_id, (task_id, _) = plan_with_tasks(world, open_case(world))
    before = world.stored()
    with pytest.raises(InvalidTransition):
        world(EDUCATION).complete_plan_task(plan_id=plan_id, task_id=task_id, note="done")
    assert world.stored() == before


def test_case_closes_as_protected_only_with_a_complete_plan(world):
    case_id = open_case(world)
    plan_with_tasks(world, case_id)
    with pytest.raises(InvalidTransition):
        world(CIVIL_AFFAIRS).close_case(case_id=case_id, reason="protected")


def test_closing_a_case_ends_its_plan(world):
    case_id = open_case(world)
    plan_id, _ = plan_with_tasks(world, case_id)
    world(CIVIL_AFFAIRS).close_case(case_id=case_id, reason="moved")
    assert world(CIVIL_AFFAIRS).get_plan(plan_id=plan_id, purpose="case_work")["status"] == "ended"


def test_stalled_task_is_flagged_once_and_counted_by_department(world):
    plan_id, _ = plan_with_tasks(world, open_case(world), departments=("education",))
    world.advance(days=30)
    flagged = [world(CIVIL_AFFAIRS).check_deadlines()["tasks_stalled"] for _ in range(2)]
    key = ("pingan_juvenile_plan_tasks_stalled",
           (("county", "433123"), ("department", "education"), ("service", "juvenile_protection")))
    assert flagged == [1, 0] and world.figures()[key] == 1


# -- majority ----------------------------------------------------------------------------------


def test_child_reaching_18_is_handed_over_to_the_plans_lead_department(world):
    case_id = open_case(world, birth=NOW.date().replace(year=NOW.year - 18, month=12, day=1))
    plan_with_tasks(world, case_id)
    world.advance(days=1)  # majority falls on the first day after the 18th-birthday month
    assert world(CIVIL_AFFAIRS).check_deadlines()["cases_of_adults"] == 0
    world.advance(days=30)
    world(CIVIL_AFFAIRS).check_deadlines()
    found = world(CIVIL_AFFAIRS).get_case(case_id=case_id, purpose="case_work")
    assert (found["status"], found["handed_over_to"]) == ("handed_over", "civil_affairs")


def test_child_reaching_18_without_a_plan_has_the_case_closed(world):
    case_id = open_case(world, birth=NOW.date().replace(year=NOW.year - 18, month=12, day=1))
    world.advance(days=31)
    world(CIVIL_AFFAIRS).check_deadlines()
    found = world(CIVIL_AFFAIRS).get_case(case_id=case_id, purpose="case_work")
    assert (found["status"], found["closure_reason"]) == ("closed", "reached_majority")


# -- access ------------------------------------------------------------------------------------


def test_read_outside_the_callers_jurisdiction_is_denied_audited_and_opens_nothing(world):
    case_id = open_case(world)
    opened = world.vault.opened
    with pytest.raises(Forbidden):
        world(ELSEWHERE).get_case(case_id=case_id, purpose="case_work")
    assert world.vault.opened == opened and list(AuditTrail(world.app).entries())[-1].outcome == "denied"


def test_read_without_a_stated_purpose_is_denied(world):
    case_id = open_case(world)
    with pytest.raises(Forbidden):
        world(CIVIL_AFFAIRS).get_case(case_id=case_id)


# -- sealed records ------------------------------------------------------------------------------


def _answers(world, case_id, caller=CIVIL_AFFAIRS, **purpose):
    """Every way a caller can see cases: pages, one record, counts, reports, figures."""
    purpose = purpose or {"purpose": "case_work"}
    service = world(caller)
    try:
        one = service.get_case(case_id=case_id, **purpose)
    except NotFound as missing:
        one = str(missing)
    return {"cases": service.list_cases(**purpose), "victims": service.list_cases(category="victim", **purpose),
            "count": service.count_cases(**purpose), "reports": service.list_reports(**purpose), "one": one,
            "figures": world.figures()}


def _two_cases(world, seal: bool) -> str:
    open_case(world, "report-kept", categories=["victim"], minor_id="m-kept")
    if seal is None:
        return "0b5e6a3c-0000-4000-8000-000000000000"
    sealed = open_case(world, "report-sealed", categories=["in_conflict_with_law", "victim"], minor_id="m-sealed")
    plan_with_tasks(world, sealed)
    seal_record(world, sealed)
    return sealed


def test_sealed_case_answers_every_query_as_if_it_did_not_exist(world):
    sealed_id = _two_cases(world, True)
    without = World()
    _two_cases(without, None)
    for caller, purpose in ((CIVIL_AFFAIRS, {}), (POLICE, {"purpose": "criminal_investigation"}),
                            (PROSECUTOR, {"purpose": "prosecution"})):
        assert _answers(world, sealed_id, caller, **purpose) == _answers(without, sealed_id, caller, **purpose)


def test_sealed_case_is_read_with_an_approval_and_the_access_audited(world):
    sealed_id = _two_cases(world, True)
    found = world(COURT).get_case(case_id=sealed_id, purpose="trial", approval_ref="court-approval-5",
                                  approval_expires=(NOW + timedelta(days=2)).isoformat())
    last = list(AuditTrail(world.app).entries())[-1]
    assert found["name"] == CANARY and "court-approval-5" in last.action and last.outcome == "allowed"


def test_sealed_record_approval_for_another_roles_purpose_is_refused(world):
    sealed_id = _two_cases(world, True)
    with pytest.raises(ValidationFailed):
        world(CIVIL_AFFAIRS).get_case(case_id=sealed_id, purpose="trial", approval_ref="court-approval-5",
                                      approval_expires=(NOW + timedelta(days=2)).isoformat())


def test_expired_sealed_record_approval_is_refused(world):
    sealed_id = _two_cases(world, True)
    with pytest.raises(ValidationFailed):
        world(COURT).get_case(case_id=sealed_id, purpose="trial", approval_ref="court-approval-5",
                              approval_expires=(NOW - timedelta(minutes=1)).isoformat())


def test_sealed_cases_plan_reads_as_missing(world):
    sealed_id = _two_cases(world, True)
    plan_id = str(domain.plan_id_for(sealed_id))
    with pytest.raises(NotFound):
        world(EDUCATION).get_plan(plan_id=plan_id, purpose="case_work")


def test_commands_on_a_sealed_case_answer_not_found_to_case_workers(world):
    sealed_id = _two_cases(world, True)
    with pytest.raises(NotFound):
        world(CIVIL_AFFAIRS).add_guardian(case_id=sealed_id, relation="mother", guardian_name="Long Mei")


def test_unsealed_case_is_listed_again(world):
    sealed_id = _two_cases(world, True)
    world(COURT).unseal_record(case_id=sealed_id, ground="sealed_in_error", reference="ruling-9")
    assert world(CIVIL_AFFAIRS).list_cases(purpose="case_work")["total"] == 2


# -- personal data -----------------------------------------------------------------------------------


def test_no_plaintext_canary_in_stored_events_rows_or_published_events(world):
    case_id = open_case(world)
    world(CIVIL_AFFAIRS).add_guardian(case_id=case_id, relation="grandparent", guardian_name=CANARY,
                                      guardian_phone="13800000000")
    plan_with_tasks(world, case_id)
    stored = b"".join(n.state for n in _notifications(world))
    mapped = [json.dumps(p.model_dump(mode="json")) for e in _domain_events(world)
              for _, p in published().public_events(e)]
    with world(CIVIL_AFFAIRS).store.read() as conn:
        rows = [str(tuple(r)) for t in ("jp_cases_view", "jp_guardians_view", "jp_plan_tasks_view",
                                        "jp_reports_view") for r in conn.exec_driver_sql(f"select * from {t}")]
    assert CANARY.encode() not in stored and not any(CANARY in text for text in mapped + rows)


def test_erased_child_reads_without_their_identity(world):
    case_id = open_case(world)
    world(CIVIL_AFFAIRS).erase_child_personal_data(case_id=case_id, reason="purpose_achieved")
    found = world(CIVIL_AFFAIRS).get_case(case_id=case_id, purpose="case_work")
    assert found["name"] != CANARY and found["status"] == "open"


def test_case_opened_event_leaves_out_the_category_sealing_rests_on(world):
    open_case(world, categories=["in_conflict_with_law", "misconduct"])
    events = [e for e in _domain_events(world) if isinstance(e, domain.MinorCase.Opened)]
    (_, payload), = published().public_events(events[0])
    assert payload.categories == [c.Category.MISCONDUCT]


def _notifications(world):
    found, start = [], 1
    while batch := world.app.recorder.select_notifications(start, 10):
        found += batch
        start = batch[-1].id + 1
    return found


def _domain_events(world):
    return [world.app.mapper.to_domain_event(n) for n in _notifications(world)]


# -- the public vocabulary -----------------------------------------------------------------------------


@pytest.mark.parametrize("public, private", [(c.Category, domain.Category), (c.Department, domain.Department),
                                             (c.SealingGround, domain.SealingGround),
                                             (c.UnsealingGround, domain.UnsealingGround),
                                             (c.GuardianRelation, domain.GuardianRelation),
                                             (c.ReviewOutcome, domain.ReviewOutcome)])
def test_public_vocabulary_matches_the_domain(public, private):
    assert {m.value for m in public} == {m.value for m in private}


# -- special (专门) school referral ---------------------------------------------------------------


def _proposed(world, categories=("serious_misconduct",)) -> str:
    case_id = open_case(world, categories=list(categories))
    return world(CIVIL_AFFAIRS).propose_special_school(case_id=case_id, proposed_by="education",
                                                       grounds=f"repeated fights, {CANARY}")["referral_id"]


def test_special_school_referral_runs_from_proposal_to_return(world):
    referral_id = admitted_referral(world, open_case(world, categories=["serious_misconduct"]))
    world(CIVIL_AFFAIRS).place_in_special_school(referral_id=referral_id, school_id="special-school-1",
                                                 first_review_on="2027-03-01")
    world(CIVIL_AFFAIRS).return_to_ordinary_school(referral_id=referral_id, school_id="school-9")
    found = world(EDUCATION).get_referral(referral_id=referral_id, purpose="case_work")
    assert (found["status"], found["basis"], found["school_id"]) == ("returned", "evaluation committee, art. 6",
                                                                    "school-9")


def test_decision_before_both_assessments_is_refused_and_stores_nothing(world):
    referral_id = _proposed(world)
    world(EDUCATION).assess_referral(referral_id=referral_id, by="education", recommends=True, findings="agreed")
    before = world.stored()
    with pytest.raises(InvalidTransition):
        world(EDUCATION).decide_referral(referral_id=referral_id, admitted=True, basis="too early")
    assert world.stored() == before


def test_assessment_by_another_departments_role_is_forbidden(world):
    referral_id = _proposed(world)
    with pytest.raises(Forbidden):
        world(EDUCATION).assess_referral(referral_id=referral_id, by="public_security", recommends=True,
                                         findings="not ours")


def test_referral_of_a_child_without_serious_misconduct_is_refused(world):
    with pytest.raises(InvalidTransition):
        _proposed(world, categories=("left_behind",))


# -- referrals from key_populations -----------------------------------------------------------------


def _referral(notification_id: int, person_id: str = "kp-person-1") -> tuple:
    # Made with the producer's own contract, so the consumer's view is checked against what is sent.
    sent = key_populations.MinorDependantsReported(
        referral_id=f"ref-{person_id}", enrolment_id=uuid.uuid4(), person_id=person_id, category="drug_users",
        jurisdiction=VILLAGE, county=VILLAGE[:6], minor_dependants=1, reported_at=NOW).model_dump(mode="json")
    envelope = Envelope(source="key_populations", event_type=c.MINOR_DEPENDANTS_REPORTED, schema_version=1,
                        notification_id=notification_id, aggregate_id="a", aggregate_version=1,
                        occurred_at=NOW, audit={}, data=sent)
    return envelope, parse(c.MinorDependantsReported, sent)


def test_referral_redelivered_or_replayed_receives_one_report(world):
    service = call_as(role=Role.SERVICE, jurisdiction="433100")
    for notification_id in (2, 1, 2, 1002):  # out of order, redelivered, replayed under a new notification
        world.app.refer_minor_dependants(service, *_referral(notification_id), NOW)
    assert world(CIVIL_AFFAIRS).list_reports(purpose="case_work")["total"] == 1


def test_referral_from_a_caller_other_than_a_service_is_forbidden(world):
    with pytest.raises(Forbidden):
        world.app.refer_minor_dependants(call_as(CIVIL_AFFAIRS), *_referral(1), NOW)

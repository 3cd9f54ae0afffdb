"""Minor's case rules: intake facts, the age-18 rule on a fixed clock, categories, guardians, closure."""

from datetime import date, datetime, timedelta
from uuid import uuid4

import pytest

from services.juvenile_protection.domain import (
    CaseStatus,
    MinorCase,
    age_on,
    case_id_for,
    check_minor_id,
    majority_on,
    minor_key,
)
from shared.errors import Conflict, InvalidTransition, NotFound, ValidationFailed

from .test_juvenile_protection_domain_support import (
    TODAY,
    VILLAGE,
    acting,
    guardian_fields,
    new_case,
    refused,
    seal,
)


def test_case_opens_with_sealed_identity_and_plain_birth_month():
    with acting():
        case = new_case()
    assert case.status == CaseStatus.OPEN
    assert case.birth_month == "2012-03"
    assert case.name.startswith("pii1:" + minor_key(case.minor_id) + ":")


def test_case_id_derives_from_the_report():
    report_id = uuid4()
    with acting():
        case = MinorCase.open(report_id=report_id, minor_id="m-1", jurisdiction=VILLAGE, birth_month="2015-01",
                              categories=["victim"], today=TODAY, name=seal("minor.m-1", "n"),
                              date_of_birth=seal("minor.m-1", "2015-01-02"))
    assert case.id == case_id_for(report_id)


def test_case_with_future_birth_month_is_refused():
    with acting(), pytest.raises(ValidationFailed, match="future"):
        new_case(birth_month="2027-01")


def test_case_for_child_aged_18_is_refused():
    with acting(), pytest.raises(ValidationFailed, match="18 or older"):
        new_case(birth_month="2008-11")  # majority on 2026-12-01, before TODAY


def test_case_for_child_in_18th_birthday_month_is_opened():
    # The birthday may still be ahead this month: in doubt the child is a minor.
    with acting():
        assert new_case(birth_month="2008-12").age(TODAY) == 17


@pytest.mark.parametrize("birth_month", ["２０１２-03", "2012-3", "2012-13", "2012-03-17", None])
def test_case_with_malformed_birth_month_is_refused(birth_month):
    with acting(), pytest.raises(ValidationFailed, match="birth month"):
        new_case(birth_month=birth_month)


def test_case_with_a_datetime_for_today_is_refused():
    with acting(), pytest.raises(ValidationFailed, match="today"):
        new_case(today=datetime(2026, 12, 2, 9, 0))


def test_case_with_unknown_category_is_refused():
    with acting(), pytest.raises(ValidationFailed, match="category"):
        new_case(categories=["truant"])


def test_case_without_category_is_refused():
    with acting(), pytest.raises(ValidationFailed, match="at least one category"):
        new_case(categories=[])


def test_case_with_plaintext_name_is_refused():
    with acting(), pytest.raises(ValidationFailed, match="'name'"):
        new_case(name="Long Xiaomei")


def test_case_with_name_sealed_under_another_key_is_refused():
    with acting(), pytest.raises(ValidationFailed, match="'date_of_birth'"):
        new_case(date_of_birth=seal("minor.someone-else", "2012-03-17"))


@pytest.mark.parametrize("minor_id", ["433123201203170021", "43312320120317002X", "433123120317002"])
def test_minor_id_shaped_like_resident_id_is_refused(minor_id):
    with pytest.raises(ValidationFailed, match="opaque"):
        check_minor_id(minor_id)


def test_case_outside_a_village_is_refused():
    with acting(), pytest.raises(ValidationFailed, match="12-digit"):
        MinorCase.open(report_id=uuid4(), minor_id="m-2", jurisdiction="433123001", birth_month="2015-01",
                       categories=["victim"], today=TODAY, name=seal("minor.m-2", "n"),
                       date_of_birth=seal("minor.m-2", "2015-01-02"))


def test_age_counts_from_the_month_after_birth():
    assert age_on("2012-03", date(2026, 3, 31)) == 13
    assert age_on("2012-03", date(2026, 4, 1)) == 14


def test_majority_falls_after_the_18th_birthday_month():
    assert majority_on("2008-12") == date(2027, 1, 1)
    assert majority_on("2009-06") == date(2027, 7, 1)


def test_due_for_majority_on_fixed_clock():
    with acting():
        case = new_case(birth_month="2009-06")
    assert not case.due_for_majority(date(2027, 6, 30))
    assert case.due_for_majority(date(2027, 7, 1))


def test_majority_closure_recorded_once():
    with acting():
        case = new_case(birth_month="2009-06")
        case.reach_majority(date(2027, 7, 1), handed_over_to=None)
        refused(case, InvalidTransition, case.reach_majority, date(2027, 7, 2), None)
    assert (case.status, case.closure["reason"]) == (CaseStatus.CLOSED, "reached_majority")
    assert not case.due_for_majority(date(2027, 7, 2))


def test_majority_hand_over_names_the_department():
    with acting():
        case = new_case(birth_month="2009-06")
        case.reach_majority(date(2027, 7, 3), handed_over_to="justice")
    assert (case.status, case.closure["handed_over_to"]) == (CaseStatus.HANDED_OVER, "justice")


def test_majority_before_the_date_is_refused():
    with acting():
        case = new_case(birth_month="2009-06")
        refused(case, InvalidTransition, case.reach_majority, date(2027, 6, 30), "civil_affairs")


def test_hand_over_to_unknown_department_is_refused():
    with acting():
        case = new_case(birth_month="2009-06")
        refused(case, ValidationFailed, case.reach_majority, date(2027, 7, 1), "orphanage-x")


def test_category_added_alongside_others():
    with acting():
        case = new_case()
        case.add_category("victim")
    assert case.categories == ["left_behind", "victim"]


def test_category_added_twice_is_refused():
    with acting():
        case = new_case()
        refused(case, Conflict, case.add_category, "left_behind")


def test_unknown_category_added_is_refused():
    with acting():
        case = new_case()
        refused(case, ValidationFailed, case.add_category, "runaway")


def test_last_category_removed_is_refused():
    with acting():
        case = new_case()
        refused(case, InvalidTransition, case.remove_category, "left_behind")


def test_category_not_carried_removed_is_refused():
    with acting():
        case = new_case()
        refused(case, NotFound, case.remove_category, "victim")


def test_guardian_added_with_own_key():
    with acting():
        case = new_case()
        guardian_id = case.add_guardian("grandparent", **guardian_fields(case))
    assert guardian_id == "G1"
    assert case.guardians["G1"]["relation"] == "grandparent"


def test_guardian_sealed_under_the_childs_key_is_refused():
    with acting():
        case = new_case()
        wrong = seal(minor_key(case.minor_id), "Long Da")
        refused(case, ValidationFailed, case.add_guardian, "father", wrong)


def test_guardian_with_unknown_relation_is_refused():
    with acting():
        case = new_case()
        refused(case, ValidationFailed, case.add_guardian, "neighbour", **guardian_fields(case))


def test_school_recorded_and_out_of_school():
    with acting():
        case = new_case()
        case.record_school(None)
    assert case.school_id is None


def test_closure_as_protected_needs_a_complete_plan():
    with acting():
        case = new_case()
        refused(case, InvalidTransition, case.close, "protected", TODAY, plan_complete=False)
        case.close("protected", TODAY, plan_complete=True)
    assert case.closure == {"reason": "protected", "on": TODAY.isoformat(), "handed_over_to": None}


def test_closure_with_unknown_reason_is_refused():
    with acting():
        case = new_case()
        refused(case, ValidationFailed, case.close, "bored", TODAY)


def test_closure_as_reached_majority_before_18_is_refused():
    with acting():
        case = new_case()
        refused(case, InvalidTransition, case.close, "reached_majority", TODAY)


def test_closed_case_is_read_only():
    with acting():
        case = new_case()
        case.close("moved", TODAY)
        refused(case, InvalidTransition, case.add_category, "victim")
        refused(case, InvalidTransition, case.add_guardian, "mother", **guardian_fields(case))
        refused(case, InvalidTransition, case.record_school, "school-2")
        refused(case, InvalidTransition, case.link_report, uuid4())
        refused(case, InvalidTransition, case.close, "other", TODAY + timedelta(days=1))


def test_further_report_linked_once():
    report_id = uuid4()
    with acting():
        case = new_case()
        case.link_report(report_id)
        refused(case, Conflict, case.link_report, report_id)
    assert str(report_id) in case.report_ids

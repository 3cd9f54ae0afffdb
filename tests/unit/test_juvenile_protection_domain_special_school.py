"""Special-school referral: proposed, assessed by education and public security, guardian heard, decided."""

from datetime import timedelta
from uuid import uuid4

import pytest

from services.juvenile_protection.domain import ReferralStatus, SpecialSchoolReferral
from shared.errors import Conflict, InvalidTransition, ValidationFailed

from .test_juvenile_protection_domain_support import TODAY, acting, new_case, new_referral, note, refused


def assessed(referral):
    for unit in ("education", "public_security"):
        referral.record_assessment(unit, True, note(referral.case_id, "findings"))
    return referral


def decided(admitted=True):
    referral = assessed(new_referral())
    referral.record_guardian_view("objects", note(referral.case_id, "prefers home"))
    referral.decide(admitted, TODAY, note(referral.case_id, "basis"))
    return referral


def test_referral_only_for_serious_misconduct():
    with acting():
        case = new_case(categories=["misconduct"])
        with pytest.raises(InvalidTransition, match="serious misconduct"):
            SpecialSchoolReferral.propose(uuid4(), case, "education", note(case.id))


def test_referral_for_closed_case_is_refused():
    with acting():
        case = new_case(categories=["serious_misconduct"])
        case.close("moved", TODAY)
        with pytest.raises(InvalidTransition):
            SpecialSchoolReferral.propose(uuid4(), case, "education", note(case.id))


def test_referral_assessed_after_both_departments():
    with acting():
        referral = new_referral()
        referral.record_assessment("education", True, note(referral.case_id))
        assert referral.status == ReferralStatus.PROPOSED
        referral.record_assessment("public_security", False, note(referral.case_id))
    assert referral.status == ReferralStatus.ASSESSED


def test_assessment_by_other_department_is_refused():
    with acting():
        referral = new_referral()
        refused(referral, ValidationFailed, referral.record_assessment, "health", True, note(referral.case_id))


def test_assessment_twice_by_one_department_is_refused():
    with acting():
        referral = new_referral()
        referral.record_assessment("education", True, note(referral.case_id))
        refused(referral, Conflict, referral.record_assessment, "education", False, note(referral.case_id))


def test_decision_before_assessment_is_refused():
    with acting():
        referral = new_referral()
        referral.record_guardian_view("agrees", None)
        referral.record_assessment("education", True, note(referral.case_id))
        refused(referral, InvalidTransition, referral.decide, True, TODAY, note(referral.case_id))


def test_decision_before_guardian_heard_is_refused():
    with acting():
        referral = assessed(new_referral())
        refused(referral, InvalidTransition, referral.decide, True, TODAY, note(referral.case_id))


def test_decision_without_basis_is_refused():
    with acting():
        referral = assessed(new_referral())
        referral.record_guardian_view("not_reachable", None)
        refused(referral, ValidationFailed, referral.decide, True, TODAY, None)


def test_guardian_view_recorded_once_before_decision():
    with acting():
        referral = decided()
        refused(referral, InvalidTransition, referral.record_guardian_view, "agrees", None)
    assert referral.guardian_view == "objects"


def test_guardian_view_unknown_is_refused():
    with acting():
        referral = new_referral()
        refused(referral, ValidationFailed, referral.record_guardian_view, "maybe", None)


def test_not_admitted_referral_cannot_be_placed():
    with acting():
        referral = decided(admitted=False)
        refused(referral, InvalidTransition, referral.place, "special-school-1", TODAY, TODAY + timedelta(days=90))


def test_admitted_child_placed_reviewed_and_returned():
    with acting():
        referral = decided()
        referral.place("special-school-1", TODAY, TODAY + timedelta(days=90))
        referral.record_review(TODAY + timedelta(days=90), TODAY + timedelta(days=180), note(referral.case_id))
        referral.return_to_ordinary_school("school-fh-03", TODAY + timedelta(days=200))
    assert (referral.status, referral.school_id) == (ReferralStatus.RETURNED, "school-fh-03")


def test_placement_review_overdue_after_its_date():
    with acting():
        referral = decided()
        referral.place("special-school-1", TODAY, TODAY + timedelta(days=90))
    assert not referral.review_overdue(TODAY + timedelta(days=90))
    assert referral.review_overdue(TODAY + timedelta(days=91))


def test_overdue_placement_review_is_flagged_once_per_review_date():
    with acting():
        referral = decided()
        referral.place("special-school-1", TODAY, TODAY + timedelta(days=90))
        flags = [referral.flag_review_overdue(TODAY + timedelta(days=d)) for d in (90, 91, 92)]
        referral.record_review(TODAY + timedelta(days=93), TODAY + timedelta(days=180), note(referral.case_id))
        flags.append(referral.flag_review_overdue(TODAY + timedelta(days=181)))
    assert flags == [False, True, False, True]


def test_referral_not_placed_is_never_flagged_for_review():
    with acting():
        referral = decided()
    assert not referral.flag_review_overdue(TODAY + timedelta(days=365))


def test_return_before_placement_is_refused():
    with acting():
        referral = decided()
        refused(referral, InvalidTransition, referral.return_to_ordinary_school, "school-fh-03", TODAY)

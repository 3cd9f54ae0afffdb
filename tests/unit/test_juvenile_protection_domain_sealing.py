"""Sealed records of minors in conflict with the law: sealing is an event, reads check the flag."""

from datetime import timedelta

import pytest

from shared.errors import Conflict, InvalidTransition, ValidationFailed

from .test_juvenile_protection_domain_support import TODAY, acting, new_case, refused

OFFENDER = ["in_conflict_with_law"]


def sealed_case():
    case = new_case(categories=OFFENDER)
    case.seal("sentence_five_years_or_less", offence_month="2025-10", sentence_months=18, reference="court-2026-17")
    return case


def test_record_sealed_sets_the_flag_and_keeps_the_record():
    with acting():
        case = sealed_case()
    assert case.sealed
    assert case.name is not None and case.categories == OFFENDER  # nothing deleted
    assert type(case.pending_events[-1]).__name__ == "RecordSealed"


@pytest.mark.parametrize("purpose", ["criminal_investigation", "prosecution", "trial"])
def test_sealed_record_opens_for_judicial_purposes(purpose):
    with acting():
        case = sealed_case()
    assert case.opens_for(purpose)


@pytest.mark.parametrize("purpose", ["case_work", "follow_up", "supervision", "audit", "emergency"])
def test_sealed_record_stays_closed_for_other_purposes(purpose):
    with acting():
        case = sealed_case()
    assert not case.opens_for(purpose)


def test_unsealed_record_opens_for_case_work():
    with acting():
        case = new_case(categories=OFFENDER)
    assert case.opens_for("case_work")


def test_record_without_conflict_with_law_is_not_sealed():
    with acting():
        case = new_case(categories=["victim"])
        refused(case, InvalidTransition, case.seal, "not_prosecuted", "2025-10", None, "proc-1")


def test_record_sealed_twice_is_refused():
    with acting():
        case = sealed_case()
        refused(case, Conflict, case.seal, "not_prosecuted", "2025-10", None, "proc-1")


def test_sentence_over_five_years_is_not_sealed():
    with acting():
        case = new_case(categories=OFFENDER)
        refused(case, ValidationFailed, case.seal, "sentence_five_years_or_less", "2025-10", 61, "court-1")


def test_sentence_ground_without_sentence_is_refused():
    with acting():
        case = new_case(categories=OFFENDER)
        refused(case, ValidationFailed, case.seal, "sentence_five_years_or_less", "2025-10", None, "court-1")


def test_non_prosecution_with_sentence_is_refused():
    with acting():
        case = new_case(categories=OFFENDER)
        refused(case, ValidationFailed, case.seal, "not_prosecuted", "2025-10", 12, "proc-1")


def test_offence_outside_minority_is_not_sealed():
    with acting():
        case = new_case(birth_month="2009-06", categories=OFFENDER)
        refused(case, ValidationFailed, case.seal, "not_prosecuted", "2009-05", None, "proc-1")
        refused(case, ValidationFailed, case.seal, "not_prosecuted", "2027-07", None, "proc-1")


def test_sealing_with_unknown_ground_is_refused():
    with acting():
        case = new_case(categories=OFFENDER)
        refused(case, ValidationFailed, case.seal, "good_behaviour", "2025-10", None, "x")


def test_sealing_without_reference_is_refused():
    with acting():
        case = new_case(categories=OFFENDER)
        refused(case, ValidationFailed, case.seal, "not_prosecuted", "2025-10", None, "")


def test_unsealing_needs_a_legal_ground():
    with acting():
        case = sealed_case()
        refused(case, ValidationFailed, case.unseal, "curiosity", "court-9")
        refused(case, ValidationFailed, case.unseal, "sealed_in_error", "")
        case.unseal("new_offence_combined_over_five_years", "court-2027-3")
    assert not case.sealed and case.opens_for("case_work")


def test_unsealing_an_unsealed_record_is_refused():
    with acting():
        case = new_case(categories=OFFENDER)
        refused(case, InvalidTransition, case.unseal, "sealed_in_error", "court-9")


def test_unsealed_record_is_not_sealed_again():
    with acting():
        case = sealed_case()
        case.unseal("recidivism_as_adult", "court-9")
        refused(case, InvalidTransition, case.seal, "not_prosecuted", "2025-10", None, "proc-2")


def test_sealed_category_cannot_be_removed():
    with acting():
        case = sealed_case()
        case.add_category("misconduct")
        refused(case, InvalidTransition, case.remove_category, "in_conflict_with_law")


def test_closed_case_can_still_be_sealed():
    with acting():
        case = new_case(categories=OFFENDER)
        case.close("other", TODAY + timedelta(days=1))
        case.seal("not_prosecuted", "2025-10", None, "proc-1")
    assert case.sealed

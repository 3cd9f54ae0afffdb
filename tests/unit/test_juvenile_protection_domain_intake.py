"""Intake rules: mandatory reports and referrals, the acceptance deadline, idempotent ids."""

from datetime import datetime, timedelta
from uuid import uuid4

import pytest

from services.juvenile_protection.domain import Report, ReportStatus, case_id_for, report_id_for, report_key
from shared.errors import InvalidTransition, ValidationFailed

from .test_juvenile_protection_domain_support import NOW, VILLAGE, acting, new_report, refused, seal


def test_report_received_with_default_deadline_of_24_hours():
    with acting():
        report = new_report()
    received, deadline = (datetime.fromisoformat(value) for value in (report.received_at, report.deadline_at))
    assert deadline - received == timedelta(hours=24)


def test_report_deadline_can_be_set_shorter():
    with acting():
        report = new_report(deadline_hours=2)
    assert datetime.fromisoformat(report.deadline_at) == NOW + timedelta(hours=2)


@pytest.mark.parametrize("hours", [0, -1, 24 * 7 + 1, "24", True])
def test_report_deadline_out_of_range_is_refused(hours):
    with acting(), pytest.raises(ValidationFailed, match="deadline"):
        new_report(deadline_hours=hours)


def test_report_with_unknown_source_is_refused():
    with acting(), pytest.raises(ValidationFailed, match="report source"):
        new_report(source="newspaper")


def test_report_with_plaintext_summary_is_refused():
    with acting(), pytest.raises(ValidationFailed, match="'summary'"):
        Report.receive(source="hospital", reference="h-1", jurisdiction=VILLAGE, received_at=NOW,
                       summary="child with burns")


def test_report_with_naive_received_time_is_refused():
    with acting(), pytest.raises(ValidationFailed, match="time zone"):
        new_report(received_at=NOW.replace(tzinfo=None))


@pytest.mark.parametrize("code", ["433123", "433123001", "４３３１２３００１００２", "43312300100\x00"])
def test_report_outside_a_village_is_refused(code):
    reference = "r-county"
    with acting(), pytest.raises(ValidationFailed):
        Report.receive(source="police", reference=reference, jurisdiction=code, received_at=NOW,
                       summary=seal(report_key(report_id_for("police", reference)), "s"))


def test_referral_id_is_the_same_for_the_same_source_reference():
    with acting():
        first = new_report(source="key_populations", reference="kp-event-17")
        second = new_report(source="key_populations", reference="kp-event-17")
    assert first.id == second.id
    assert case_id_for(first.id) == case_id_for(second.id)


def test_referral_id_differs_per_source_service():
    assert report_id_for("key_populations", "ref-1") != report_id_for("grid_events", "ref-1")


def test_referral_without_summary_is_received():
    with acting():
        report = Report.receive(source="key_populations", reference="kp-event-18", jurisdiction=VILLAGE,
                                received_at=NOW, summary=None)
    assert (report.status, report.summary) == (ReportStatus.RECEIVED, None)


def test_referral_is_marked_as_referral():
    with acting():
        assert new_report(source="grid_events").is_referral
        assert not new_report(source="school").is_referral


def test_report_accepted_records_the_case():
    case_id = uuid4()
    with acting():
        report = new_report()
        report.accept(case_id, NOW + timedelta(hours=3))
    assert (report.status, report.case_id) == (ReportStatus.ACCEPTED, str(case_id))
    assert report.pending_events[-1].late is False


def test_report_accepted_after_deadline_is_recorded_late():
    with acting():
        report = new_report()
        report.accept(uuid4(), NOW + timedelta(hours=25))
    assert report.pending_events[-1].late is True


def test_report_redirected_to_a_department():
    with acting():
        report = new_report()
        report.redirect("health", NOW + timedelta(hours=1), seal(report_key(report.id), "adult patient"))
    assert report.status == ReportStatus.REDIRECTED


def test_report_redirect_to_unknown_department_is_refused():
    with acting():
        report = new_report()
        refused(report, ValidationFailed, report.redirect, "bank", NOW, seal(report_key(report.id), "n"))


def test_report_handled_twice_is_refused():
    with acting():
        report = new_report()
        report.accept(uuid4(), NOW)
        refused(report, InvalidTransition, report.accept, uuid4(), NOW)
        refused(report, InvalidTransition, report.redirect, "health", NOW, seal(report_key(report.id), "n"))


def test_report_handled_before_receipt_is_refused():
    with acting():
        report = new_report()
        refused(report, ValidationFailed, report.accept, uuid4(), NOW - timedelta(minutes=1))


def test_report_overdue_only_after_deadline():
    with acting():
        report = new_report()
    assert not report.is_overdue(NOW + timedelta(hours=24))
    assert report.is_overdue(NOW + timedelta(hours=24, seconds=1))


def test_report_overdue_flagged_exactly_once():
    with acting():
        report = new_report()
        later = NOW + timedelta(hours=30)
        flags = [report.flag_overdue(later), report.flag_overdue(later), report.flag_overdue(later + timedelta(days=1))]
    assert flags == [True, False, False]
    assert [type(e).__name__ for e in report.pending_events].count("OverdueFlagged") == 1


def test_report_not_flagged_before_deadline():
    with acting():
        report = new_report(deadline_hours=1)
        assert report.flag_overdue(NOW + timedelta(minutes=59)) is False
    assert len(report.pending_events) == 1


def test_report_handled_in_time_is_never_overdue():
    with acting():
        report = new_report()
        report.accept(uuid4(), NOW + timedelta(hours=1))
        assert report.flag_overdue(NOW + timedelta(days=3)) is False


def test_overdue_event_carries_no_personal_data():
    with acting():
        report = new_report()
        report.flag_overdue(NOW + timedelta(days=2))
    flagged = report.pending_events[-1]
    assert set(vars(flagged)) - {"originator_id", "originator_version", "timestamp", "audit"} == {
        "deadline_at", "source", "jurisdiction"}

"""key_populations' private half of its contract: the public events each domain event becomes
(docs/architecture.md, "The contract split"). Only the relay uses it.

Every mapping takes ids, codes, levels and dates from the domain event; no personal field
(``PERSONAL_FIELDS`` of the domain) is ever read here."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shared.contracts import Contracts, Payload
from shared.jurisdiction import county_or_self

from . import contracts as c
from .domain import Enrolment  # each category's events are subclasses of these

Mapped = Iterable[tuple[str, Payload]]


def contracts() -> Contracts:
    published = Contracts.declaring(c.SERVICE, c.PUBLISHED)

    @published.maps(Enrolment.Enrolled)
    def enrolled(e: Any) -> Mapped:
        yield c.PERSON_ENROLLED, c.PersonEnrolled(
            enrolment_id=e.originator_id, person_id=e.person_id, category=e.category, jurisdiction=e.jurisdiction,
            county=county_or_self(e.jurisdiction), enrolled_on=e.enrolled_on, risk_level=e.risk_level)

    @published.maps(Enrolment.HighestRiskReached)
    def highest(e: Any) -> Mapped:
        # One assessment id per reaching of the highest level: the event's own place in the record's log.
        yield c.PERSON_ASSESSED_HIGHEST_RISK, c.PersonAssessedHighestRisk(
            assessment_id=f"{e.originator_id}.{e.originator_version}", person_id=e.person_id,
            enrolment_id=e.originator_id, category=e.category, jurisdiction=e.jurisdiction,
            county=county_or_self(e.jurisdiction), level=e.level, assessed_at=e.timestamp)

    @published.maps(Enrolment.MinorDependantsReported)
    def minors(e: Any) -> Mapped:
        yield c.MINOR_DEPENDANTS_REPORTED, c.MinorDependantsReported(
            referral_id=f"{e.originator_id}.{e.originator_version}", enrolment_id=e.originator_id,
            person_id=e.person_id, category=e.category, jurisdiction=e.jurisdiction,
            county=county_or_self(e.jurisdiction), minor_dependants=e.minor_dependants, reported_at=e.timestamp)

    @published.maps(Enrolment.RiskReassessed)
    def reassessed(e: Any) -> Mapped:
        yield c.RISK_REASSESSED, c.RiskReassessed(
            enrolment_id=e.originator_id, category=e.category, jurisdiction=e.jurisdiction, level=e.level,
            previous_level=e.previous_level, assessed_on=e.assessed_on, reason=e.reason, next_due=e.next_due)

    @published.maps(Enrolment.JointHandlingRequired)
    def joint(e: Any) -> Mapped:
        yield c.JOINT_HANDLING_REQUIRED, c.JointHandlingRequired(
            enrolment_id=e.originator_id, category=e.category, jurisdiction=e.jurisdiction, level=e.level)

    @published.maps(Enrolment.FollowUpOverdueFlagged)
    def overdue(e: Any) -> Mapped:
        yield c.FOLLOW_UP_OVERDUE, c.FollowUpOverdue(
            enrolment_id=e.originator_id, category=e.category, jurisdiction=e.jurisdiction,
            county=county_or_self(e.jurisdiction), due_on=e.due_on, responsible_id=e.responsible_id)

    @published.maps(Enrolment.TransferInitiated)
    def initiated(e: Any) -> Mapped:
        yield c.TRANSFER_INITIATED, c.TransferInitiated(
            enrolment_id=e.originator_id, category=e.category, jurisdiction=e.jurisdiction,
            to_jurisdiction=e.to_jurisdiction)

    @published.maps(Enrolment.TransferAccepted)
    def accepted(e: Any) -> Mapped:
        yield c.TRANSFER_ACCEPTED, c.TransferAccepted(
            enrolment_id=e.originator_id, category=e.category, from_jurisdiction=e.jurisdiction,
            jurisdiction=e.to_jurisdiction)

    @published.maps(Enrolment.TransferRefused)
    def refused(e: Any) -> Mapped:
        yield c.TRANSFER_REFUSED, c.TransferRefused(
            enrolment_id=e.originator_id, category=e.category, jurisdiction=e.jurisdiction,
            to_jurisdiction=e.to_jurisdiction, reason=e.reason)

    @published.maps(Enrolment.Exited)
    def exited(e: Any) -> Mapped:
        yield c.ENROLMENT_EXITED, c.EnrolmentExited(
            enrolment_id=e.originator_id, category=e.category, jurisdiction=e.jurisdiction, reason=e.reason,
            on=e.on)

    return published

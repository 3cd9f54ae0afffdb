"""Intake: mandatory reports and referrals about a minor.

Rules:
- Art. 7(5) protection starts from a report: any unit that meets a child at
  risk (school, hospital, village committee, police...) must report, and the
  report must be accepted or redirected within a deadline (24 hours unless
  set otherwise); a report still waiting at the deadline is flagged overdue,
  once.
- Referrals arrive from key populations (minor dependants of an enrolled
  person, Art. 7(4)) and from grid events; a report's id is derived from
  (source, source reference), so the same referral twice is one report, and
  its case id from the report's id, so it opens one case.
- ``received_at``, ``at`` and ``now`` are passed in: the domain reads no clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import event

from shared.errors import InvalidTransition, ValidationFailed
from shared.eventstore import AuditedAggregate, stable_id
from shared.security.sealing import require_sealed

from .common import check_village, department, member, report_key

DEFAULT_DEADLINE_HOURS = 24
MAX_DEADLINE_HOURS = 7 * 24


class Source(StrEnum):
    """Who reported: a unit bound to report (mandatory report), or another service (referral)."""

    SCHOOL = "school"
    HOSPITAL = "hospital"
    VILLAGE_COMMITTEE = "village_committee"
    POLICE = "police"
    OTHER_UNIT = "other_unit"
    KEY_POPULATIONS = "key_populations"
    GRID_EVENTS = "grid_events"


REFERRING_SERVICES = frozenset({Source.KEY_POPULATIONS, Source.GRID_EVENTS})


class ReportStatus(StrEnum):
    RECEIVED = "received"
    ACCEPTED = "accepted"
    REDIRECTED = "redirected"


def report_id_for(source: str, reference: str) -> UUID:
    """One report per (source, source reference): a repeated referral names the same report."""
    return stable_id("juvenile-report", f"{source}:{reference}")


def _aware(value: datetime, what: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValidationFailed(f"{what} is a date and time with its time zone")
    return value


class Report(AuditedAggregate):
    """One mandatory report or referral, from receipt to acceptance or redirection."""

    PERSONAL_FIELDS = ("summary",)  # sealed under report_key(report id)

    @classmethod
    def receive(cls, source: str, reference: str, jurisdiction: str, received_at: datetime, summary: str | None,
                deadline_hours: int = DEFAULT_DEADLINE_HOURS) -> Report:
        """Receive a report; a referral off the bus carries no summary (None), a unit's report usually does."""
        source = member(Source, source, "report source")
        if not reference:
            raise ValidationFailed("a report names its source reference")
        report_id = report_id_for(source, reference)
        require_sealed(report_key(report_id), summary=summary)
        received = _aware(received_at, "received_at")
        if isinstance(deadline_hours, bool) or not isinstance(deadline_hours, int) \
                or not 1 <= deadline_hours <= MAX_DEADLINE_HOURS:
            raise ValidationFailed(f"the acceptance deadline is 1 to {MAX_DEADLINE_HOURS} hours")
        return cls.create_with_id(cls.Received, id=report_id, source=source, reference=reference,
                                  jurisdiction=check_village(jurisdiction), received_at=received.isoformat(),
                                  deadline_at=(received + timedelta(hours=deadline_hours)).isoformat(), summary=summary)

    @event("Received")
    def __init__(self, source: str, reference: str, jurisdiction: str, received_at: str, deadline_at: str,
                 summary: str | None):
        self.source = source
        self.reference = reference
        self.jurisdiction = jurisdiction
        self.received_at = received_at
        self.deadline_at = deadline_at
        self.summary = summary
        self.status = ReportStatus.RECEIVED.value
        self.case_id: str | None = None
        self.overdue_flagged = False

    @property
    def is_referral(self) -> bool:
        return self.source in REFERRING_SERVICES

    # -- timer ------------------------------------------------------------------

    def is_overdue(self, now: datetime) -> bool:
        """Still waiting for acceptance or redirection after its deadline."""
        return (self.status == ReportStatus.RECEIVED
                and _aware(now, "now") > datetime.fromisoformat(self.deadline_at))

    def flag_overdue(self, now: datetime) -> bool:
        """Flag the report overdue once; False when it is not overdue or already flagged."""
        if self.overdue_flagged or not self.is_overdue(now):
            return False
        self._overdue_flagged(deadline_at=self.deadline_at, source=self.source, jurisdiction=self.jurisdiction)
        return True

    # -- commands ---------------------------------------------------------------

    def accept(self, case_id: UUID, at: datetime) -> None:
        """Accept the report into a case: a new one (``case_id_for(report id)``) or the child's open case."""
        self._require_received("accept")
        self._accepted(case_id=str(case_id), at=self._after_receipt(at), late=self._late(at))

    def redirect(self, to_department: str, at: datetime, note: str) -> None:
        """Pass the report to the unit competent for it (not a minor's protection matter here)."""
        self._require_received("redirect")
        to = department(to_department, "department to redirect to")
        require_sealed(report_key(self.id), note=note)
        self._redirected(to_department=to, at=self._after_receipt(at), note=note, late=self._late(at))

    def _require_received(self, action: str) -> None:
        if self.status != ReportStatus.RECEIVED:
            raise InvalidTransition(f"cannot {action} a report that is {self.status}")

    def _after_receipt(self, at: datetime) -> str:
        if _aware(at, "at") < datetime.fromisoformat(self.received_at):
            raise ValidationFailed("a report is handled after it is received")
        return at.isoformat()

    def _late(self, at: datetime) -> bool:
        return at > datetime.fromisoformat(self.deadline_at)

    # -- events -----------------------------------------------------------------

    @event("OverdueFlagged")
    def _overdue_flagged(self, deadline_at: str, source: str, jurisdiction: str) -> None:
        self.overdue_flagged = True

    @event("Accepted")
    def _accepted(self, case_id: str, at: str, late: bool) -> None:
        self.status = ReportStatus.ACCEPTED.value
        self.case_id = case_id

    @event("Redirected")
    def _redirected(self, to_department: str, at: str, note: str, late: bool) -> None:
        self.status = ReportStatus.REDIRECTED.value

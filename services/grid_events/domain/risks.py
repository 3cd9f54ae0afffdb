"""The risk and hazard register (Arts. 6(1)(2), 7(2)(3)): investigation →
early warning → measures → defused → feedback → closed, one linked mechanism
that cannot skip feedback; each risk names its responsible unit and person
(the social-risk responsibility list)."""

from __future__ import annotations

from eventsourcing.domain import event

from shared.errors import InvalidTransition, ValidationFailed
from shared.eventstore import AuditedAggregate

from ..contracts.risks import RiskCategory, RiskStatus  # the public vocabulary
from .incident_links import link_once

TRAFFIC_CATEGORIES = frozenset({RiskCategory.TRAFFIC_BLACK_SPOT, RiskCategory.HAZARDOUS_ROAD_SECTION})


class Risk(AuditedAggregate):
    """A registered risk or hazard. Traffic black spots and hazardous sections
    carry remediation measures and a re-inspection date, and are defused only
    after a passed re-inspection."""

    @event("Registered")
    def __init__(
        self,
        jurisdiction: str,
        category: str,
        source: str,
        level: str,
        place: str,
        description: str,
        responsible_unit: str,
        responsible_person_id: str,
        responsible_person_name: str,
    ):
        self.jurisdiction = jurisdiction
        self.category = category
        self.source = source
        self.level = level
        self.place = place
        self.description = description
        self.responsible_unit = responsible_unit
        self.responsible_person_id = responsible_person_id
        self.responsible_person_name = responsible_person_name  # personal
        self.status = RiskStatus.IDENTIFIED.value
        self.incident_id: str | None = None
        self.measures: str | None = None
        self.reinspection_date: str | None = None
        self.reinspection_passed: bool | None = None

    @property
    def is_traffic(self) -> bool:
        return self.category in TRAFFIC_CATEGORIES

    def issue_warning(self, level: str) -> None:
        self._require(RiskStatus.IDENTIFIED, "issue a warning for")
        self._warning_issued(level, self.level, self.jurisdiction, self.category)

    def change_level(self, level: str) -> None:
        self.require_open("change the warning level of")
        if level == self.level:
            raise InvalidTransition(f"the risk is already at warning level {level}")
        self._level_changed(level, self.level, self.jurisdiction, self.category)

    def assign_responsibility(self, unit: str, person_id: str, person_name: str) -> None:
        self.require_open("reassign")
        self._responsibility_assigned(unit, person_id, person_name)

    # Each step with free text has a check of its own, run before the text is sealed
    # (a refused command creates no key), and again by the step itself.

    def start_measures(self, measures: str, reinspection_date: str | None) -> None:
        self.check_start_measures(reinspection_date)
        self._measures_started(measures, reinspection_date)

    def check_start_measures(self, reinspection_date: str | None) -> None:
        self._require(RiskStatus.WARNING_ISSUED, "start measures for")
        if self.is_traffic and reinspection_date is None:
            raise ValidationFailed("a traffic black spot or hazardous section needs a re-inspection date")

    def record_reinspection(self, passed: bool, note: str) -> None:
        self.check_reinspection()
        self._reinspected(passed, note)

    def check_reinspection(self) -> None:
        if not self.is_traffic:
            raise InvalidTransition("only traffic black spots and hazardous sections are re-inspected")
        self._require(RiskStatus.MEASURES_UNDER_WAY, "re-inspect")

    def defuse(self, note: str) -> None:
        self.check_defuse()
        self._defused(note)

    def check_defuse(self) -> None:
        self._require(RiskStatus.MEASURES_UNDER_WAY, "defuse")
        if self.is_traffic and not self.reinspection_passed:
            raise InvalidTransition("a traffic black spot is defused only after a passed re-inspection")

    def report_feedback(self, feedback: str) -> None:
        self.check_feedback()
        self._feedback_reported(feedback)

    def check_feedback(self) -> None:
        self._require(RiskStatus.DEFUSED, "report feedback on")

    def close(self) -> None:
        if self.status == RiskStatus.DEFUSED:
            raise InvalidTransition("a risk cannot be closed without feedback: report the feedback first")
        self._require(RiskStatus.FEEDBACK_REPORTED, "close")
        self._closed(self.jurisdiction, self.category)

    def require_open(self, action: str) -> None:
        """Refuse ``action`` on a closed risk."""
        if self.status == RiskStatus.CLOSED:
            raise InvalidTransition(f"cannot {action} a closed risk")

    def link_incident(self, incident_id: str) -> None:
        """Record the emergency incident this risk opened when it went red (at most one)."""
        if link_once(self, incident_id):
            self._incident_linked(incident_id=incident_id)

    def _require(self, status: RiskStatus, action: str) -> None:
        self.require_open(action)
        if self.status != status:
            raise InvalidTransition(f"cannot {action} a risk that is {self.status}; it must be {status.value}")

    @event("WarningIssued")
    def _warning_issued(self, level: str, previous_level: str, jurisdiction: str, category: str) -> None:
        # Jurisdiction and category are repeated here and below so the public event can be made from this one.
        self.level = level
        self.status = RiskStatus.WARNING_ISSUED.value

    @event("LevelChanged")
    def _level_changed(self, level: str, previous_level: str, jurisdiction: str, category: str) -> None:
        self.level = level

    @event("ResponsibilityAssigned")
    def _responsibility_assigned(self, unit: str, person_id: str, person_name: str) -> None:
        self.responsible_unit = unit
        self.responsible_person_id = person_id
        self.responsible_person_name = person_name

    @event("MeasuresStarted")
    def _measures_started(self, measures: str, reinspection_date: str | None) -> None:
        self.measures = measures
        self.reinspection_date = reinspection_date
        self.status = RiskStatus.MEASURES_UNDER_WAY.value

    @event("Reinspected")
    def _reinspected(self, passed: bool, note: str) -> None:
        self.reinspection_passed = passed

    @event("Defused")
    def _defused(self, note: str) -> None:
        self.status = RiskStatus.DEFUSED.value

    @event("FeedbackReported")
    def _feedback_reported(self, feedback: str) -> None:
        self.status = RiskStatus.FEEDBACK_REPORTED.value

    @event("IncidentLinked")
    def _incident_linked(self, incident_id: str) -> None:
        self.incident_id = incident_id

    @event("Closed")
    def _closed(self, jurisdiction: str, category: str) -> None:
        self.status = RiskStatus.CLOSED.value

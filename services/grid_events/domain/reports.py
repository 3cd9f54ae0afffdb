"""Reported events: a lifecycle that cannot skip feedback, and a process
checklist whose required steps are ticked before closure (Arts. 5, 6(1), 9)."""

from __future__ import annotations

from eventsourcing.domain import event

from shared.errors import Conflict, InvalidTransition, ValidationFailed
from shared.eventstore import AuditedAggregate

from ..contracts.reports import Category, Severity, Status  # the public vocabulary
from .incident_links import link_once

# The process checklist (Art. 9): the steps every event must have ticked
# before it is closed; a dispute's steps follow the mediation process.
CHECKLIST_STEPS: dict[str, tuple[str, ...]] = {
    Category.DISPUTE: ("verify_facts", "contact_parties", "mediate", "return_visit"),
}
DEFAULT_CHECKLIST = ("verify_facts", "handle_on_site", "return_visit")


def checklist_for(category: str) -> list[str]:
    return list(CHECKLIST_STEPS.get(category, DEFAULT_CHECKLIST))


class EventReport(AuditedAggregate):
    """A reported event and its handling: accepted → assigned to a member unit →
    handled → feedback recorded → closed. Each step needs the one before it,
    and closing needs every required checklist step ticked."""

    @event("Reported")
    def __init__(
        self,
        grid_code: str,
        jurisdiction: str,
        category: str,
        source: str,
        severity: str,
        place: str,
        description: str,
        reporter_id: str,
        required_steps: list[str] | None = None,
        external_ref: str | None = None,
    ):
        # required_steps: the checklist as it stood when reported (absent from
        # events stored before checklists existed).
        self.grid_code = grid_code
        self.jurisdiction = jurisdiction
        self.category = category
        self.source = source
        self.severity = severity
        self.place = place
        self.description = description
        self.reporter_id = reporter_id
        self.external_ref = external_ref  # the reporter's own id for it (absent from older events)
        self.status = Status.REPORTED.value
        self.assigned_unit: str | None = None
        self.handling_body: str | None = None
        self.handling_note: str | None = None
        self.feedback: str | None = None
        self.mediation_case_id: str | None = None
        self.incident_id: str | None = None
        self.required_steps: list[str] = list(required_steps or [])
        self.ticked_steps: list[str] = []

    @property
    def is_dispute(self) -> bool:
        return self.category == Category.DISPUTE

    @property
    def is_severe(self) -> bool:
        return self.severity == Severity.SEVERE

    @property
    def open_steps(self) -> list[str]:
        return [step for step in self.required_steps if step not in self.ticked_steps]

    def tick_step(self, step: str, note: str | None) -> None:
        self.check_tick(step)
        self._step_ticked(step, note)

    def check_tick(self, step: str) -> None:
        """Refuse ticking ``step`` (checked before its note is sealed)."""
        if self.status == Status.CLOSED:
            raise InvalidTransition("cannot tick a step of a closed event")
        if step not in self.required_steps:
            raise ValidationFailed(
                f"{step!r} is not a step of this event's checklist: {', '.join(self.required_steps) or 'none'}"
            )
        if step in self.ticked_steps:
            raise InvalidTransition(f"the step {step!r} is already ticked")

    def accept(self) -> None:
        self._require(Status.REPORTED, "accept")
        self._accepted(*self._where())

    def assign(self, unit: str, body_code: str | None = None, contact_id: str | None = None) -> None:
        """Assign to a member unit (``unit`` its code, ``body_code`` the coordination
        body it belongs to); ``contact_id`` is the unit's contact point for the grid."""
        self._require(Status.ACCEPTED, "assign")
        self._assigned(unit, body_code, contact_id, *self._where())

    def record_handling(self, note: str) -> None:
        self._require(Status.ASSIGNED, "record handling of")
        self._handled(note, *self._where())

    def record_feedback(self, feedback: str, satisfied: bool) -> None:
        self._require(Status.HANDLED, "record feedback on")
        self._feedback_recorded(feedback, satisfied, *self._where())

    def close(self) -> None:
        if self.status == Status.HANDLED:
            raise InvalidTransition("an event cannot be closed without feedback: record the feedback first")
        self._require(Status.FEEDBACK_RECORDED, "close")
        if self.open_steps:
            raise InvalidTransition(
                f"an event cannot be closed before its required steps are ticked: {', '.join(self.open_steps)}"
            )
        self._closed(*self._where(), getattr(self, "satisfied", None))

    def link_mediation_case(self, case_id: str) -> None:
        """Record the mediation case opened for this dispute (at most one)."""
        if self.mediation_case_id == case_id:
            return
        if self.mediation_case_id is not None:
            raise Conflict(f"event {self.id} is already linked to mediation case {self.mediation_case_id}")
        self._mediation_case_linked(case_id)

    def link_incident(self, incident_id: str) -> None:
        """Record the emergency incident this severe event opened (at most one)."""
        if link_once(self, incident_id):
            self._incident_linked(incident_id=incident_id)

    def _where(self) -> tuple[str, str, str | None]:
        return self.grid_code, self.jurisdiction, getattr(self, "external_ref", None)

    def require_status(self, status: Status, action: str) -> None:
        """Refuse ``action`` unless the event is in ``status`` (checked before free text is sealed)."""
        self._require(status, action)

    def _require(self, status: Status, action: str) -> None:
        if self.status == Status.CLOSED:
            raise InvalidTransition(f"cannot {action} a closed event")
        if self.status != status:
            raise InvalidTransition(
                f"cannot {action} an event that is {self.status}; it must be {status.value}"
            )

    @event("StepTicked")
    def _step_ticked(self, step: str, note: str | None) -> None:
        self.ticked_steps.append(step)

    # grid_code, jurisdiction, external_ref (and a closure's satisfaction) are repeated on the lifecycle events
    # so their public events can be made from them alone; absent from events stored before.

    @event("Accepted")
    def _accepted(self, grid_code: str | None = None, jurisdiction: str | None = None,
                  external_ref: str | None = None) -> None:
        self.status = Status.ACCEPTED.value

    @event("Assigned")
    def _assigned(self, unit: str, body_code: str | None = None, contact_id: str | None = None,
                  grid_code: str | None = None, jurisdiction: str | None = None,
                  external_ref: str | None = None) -> None:
        # All but ``unit`` are absent from events stored before member units existed;
        # grid and jurisdiction are repeated so the public event can be made from this one.
        self.assigned_unit = unit
        self.handling_body = body_code
        self.status = Status.ASSIGNED.value

    @event("Handled")
    def _handled(self, note: str, grid_code: str | None = None, jurisdiction: str | None = None,
                 external_ref: str | None = None) -> None:
        self.handling_note = note
        self.status = Status.HANDLED.value

    @event("FeedbackRecorded")
    def _feedback_recorded(self, feedback: str, satisfied: bool, grid_code: str | None = None,
                           jurisdiction: str | None = None, external_ref: str | None = None) -> None:
        self.feedback = feedback
        self.satisfied = satisfied
        self.status = Status.FEEDBACK_RECORDED.value

    @event("MediationCaseLinked")
    def _mediation_case_linked(self, case_id: str) -> None:
        self.mediation_case_id = case_id

    @event("IncidentLinked")
    def _incident_linked(self, incident_id: str) -> None:
        self.incident_id = incident_id

    @event("Closed")
    def _closed(self, grid_code: str | None = None, jurisdiction: str | None = None,
                external_ref: str | None = None, satisfied: bool | None = None) -> None:
        self.status = Status.CLOSED.value

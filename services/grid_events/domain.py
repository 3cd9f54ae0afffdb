"""Grid events domain: the jurisdiction registry, grids with their workers, and
reported events with a lifecycle that cannot skip feedback (Arts. 5, 6(1), 9)."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import event

from shared.errors import Conflict, InvalidTransition
from shared.eventstore import AuditedAggregate, stable_id


class Category(StrEnum):
    DISPUTE = "dispute"
    PUBLIC_SECURITY = "public_security"
    SAFETY_HAZARD = "safety_hazard"
    FIRE = "fire"
    TRAFFIC = "traffic"
    PUBLIC_HEALTH = "public_health"
    ENVIRONMENT = "environment"
    OTHER = "other"


class Source(StrEnum):
    """Where a matter came from (Art. 9: govern the sources together)."""

    POLICE_CALL = "police_call"
    PETITION = "petition"
    LAWSUIT = "lawsuit"
    RISK = "risk"
    PATROL = "patrol"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    SEVERE = "severe"


class Status(StrEnum):
    REPORTED = "reported"
    ACCEPTED = "accepted"
    ASSIGNED = "assigned"
    HANDLED = "handled"
    FEEDBACK_RECORDED = "feedback_recorded"
    CLOSED = "closed"


class Jurisdiction(AuditedAggregate):
    """A unit of the administrative ladder: prefecture, county, township or village."""

    @staticmethod
    def create_id(code: str) -> UUID:
        return stable_id("jurisdiction", code)

    @event("Registered")
    def __init__(self, code: str, name: str, level: str, parent_code: str | None):
        self.code = code
        self.name = name
        self.level = level
        self.parent_code = parent_code


class Grid(AuditedAggregate):
    """The smallest unit of management (Art. 5): a part of a village with its grid workers."""

    @staticmethod
    def create_id(code: str) -> UUID:
        return stable_id("grid", code)

    @event("Registered")
    def __init__(self, code: str, village_code: str, name: str):
        self.code = code
        self.village_code = village_code
        self.name = name
        self.workers: list[str] = []

    def assign_worker(self, worker_id: str) -> None:
        if worker_id in self.workers:
            raise Conflict(f"worker {worker_id} is already assigned to grid {self.code}")
        self._worker_assigned(worker_id)

    def unassign_worker(self, worker_id: str) -> None:
        if worker_id not in self.workers:
            raise Conflict(f"worker {worker_id} is not assigned to grid {self.code}")
        self._worker_unassigned(worker_id)

    @event("WorkerAssigned")
    def _worker_assigned(self, worker_id: str) -> None:
        self.workers.append(worker_id)

    @event("WorkerUnassigned")
    def _worker_unassigned(self, worker_id: str) -> None:
        self.workers.remove(worker_id)


class EventReport(AuditedAggregate):
    """A reported event and its handling: accepted → assigned to a member unit →
    handled → feedback recorded → closed. Each step needs the one before it."""

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
    ):
        self.grid_code = grid_code
        self.jurisdiction = jurisdiction
        self.category = category
        self.source = source
        self.severity = severity
        self.place = place
        self.description = description
        self.reporter_id = reporter_id
        self.status = Status.REPORTED.value
        self.assigned_unit: str | None = None
        self.handling_note: str | None = None
        self.feedback: str | None = None
        self.mediation_case_id: str | None = None

    @property
    def is_dispute(self) -> bool:
        return self.category == Category.DISPUTE

    @property
    def is_severe(self) -> bool:
        return self.severity == Severity.SEVERE

    def accept(self) -> None:
        self._require(Status.REPORTED, "accept")
        self._accepted()

    def assign(self, unit: str) -> None:
        self._require(Status.ACCEPTED, "assign")
        self._assigned(unit)

    def record_handling(self, note: str) -> None:
        self._require(Status.ASSIGNED, "record handling of")
        self._handled(note)

    def record_feedback(self, feedback: str, satisfied: bool) -> None:
        self._require(Status.HANDLED, "record feedback on")
        self._feedback_recorded(feedback, satisfied)

    def close(self) -> None:
        if self.status == Status.HANDLED:
            raise InvalidTransition("an event cannot be closed without feedback: record the feedback first")
        self._require(Status.FEEDBACK_RECORDED, "close")
        self._closed()

    def link_mediation_case(self, case_id: str) -> None:
        """Record the mediation case opened for this dispute (at most one)."""
        if self.mediation_case_id == case_id:
            return
        if self.mediation_case_id is not None:
            raise Conflict(f"event {self.id} is already linked to mediation case {self.mediation_case_id}")
        self._mediation_case_linked(case_id)

    def _require(self, status: Status, action: str) -> None:
        if self.status == Status.CLOSED:
            raise InvalidTransition(f"cannot {action} a closed event")
        if self.status != status:
            raise InvalidTransition(
                f"cannot {action} an event that is {self.status}; it must be {status.value}"
            )

    @event("Accepted")
    def _accepted(self) -> None:
        self.status = Status.ACCEPTED.value

    @event("Assigned")
    def _assigned(self, unit: str) -> None:
        self.assigned_unit = unit
        self.status = Status.ASSIGNED.value

    @event("Handled")
    def _handled(self, note: str) -> None:
        self.handling_note = note
        self.status = Status.HANDLED.value

    @event("FeedbackRecorded")
    def _feedback_recorded(self, feedback: str, satisfied: bool) -> None:
        self.feedback = feedback
        self.satisfied = satisfied
        self.status = Status.FEEDBACK_RECORDED.value

    @event("MediationCaseLinked")
    def _mediation_case_linked(self, case_id: str) -> None:
        self.mediation_case_id = case_id

    @event("Closed")
    def _closed(self) -> None:
        self.status = Status.CLOSED.value

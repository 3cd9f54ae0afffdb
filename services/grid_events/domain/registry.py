"""The registry: the administrative ladder, grids with their workers and
department contact points, member units of the coordination bodies, and the
volunteers and organisations that take part (Arts. 2, 3, 5, 10)."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import event

from shared.errors import Conflict, InvalidTransition
from shared.eventstore import AuditedAggregate, stable_id
from shared.jurisdiction import Level


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
        self.responsible_office: str | None = None
        # Personal: the named responsible person (Art. 3).
        self.responsible_person_name: str | None = None
        self.responsible_person_id: str | None = None

    def name_responsible(self, office: str, person_id: str, person_name: str) -> None:
        """Art. 3: each township names its office or person for Ping'an work.
        A new naming replaces the last one; the old one stays in the log."""
        self.require_township()
        self._responsible_named(office, person_id, person_name)

    def require_township(self) -> None:
        if self.level != Level.TOWNSHIP.value:
            raise InvalidTransition(f"{self.code} is a {self.level}; only a township names a responsible office")

    @event("ResponsibleNamed")
    def _responsible_named(self, office: str, person_id: str, person_name: str) -> None:
        self.responsible_office = office
        self.responsible_person_id = person_id
        self.responsible_person_name = person_name


class Grid(AuditedAggregate):
    """The smallest unit of management (Art. 5): a part of a village with its
    grid workers and one contact point per member unit (department)."""

    @staticmethod
    def create_id(code: str) -> UUID:
        return stable_id("grid", code)

    @event("Registered")
    def __init__(self, code: str, village_code: str, name: str):
        self.code = code
        self.village_code = village_code
        self.name = name
        self.workers: list[str] = []
        self.contact_points: dict[str, str] = {}  # member unit id -> contact person id

    def assign_worker(self, worker_id: str) -> None:
        if worker_id in self.workers:
            raise Conflict(f"worker {worker_id} is already assigned to grid {self.code}")
        self._worker_assigned(worker_id)

    def unassign_worker(self, worker_id: str) -> None:
        if worker_id not in self.workers:
            raise Conflict(f"worker {worker_id} is not assigned to grid {self.code}")
        self._worker_unassigned(worker_id)

    def name_contact_point(self, unit_id: str, contact_id: str, contact_name: str, contact_phone: str | None) -> None:
        self.require_new_contact_point(unit_id, contact_id)
        self._contact_point_named(unit_id, contact_id, contact_name, contact_phone)

    def require_new_contact_point(self, unit_id: str, contact_id: str) -> None:
        if self.contact_points.get(unit_id) == contact_id:
            raise Conflict(f"{contact_id} is already the contact point of {unit_id} for grid {self.code}")

    @event("WorkerAssigned")
    def _worker_assigned(self, worker_id: str) -> None:
        self.workers.append(worker_id)

    @event("WorkerUnassigned")
    def _worker_unassigned(self, worker_id: str) -> None:
        self.workers.remove(worker_id)

    @event("ContactPointNamed")
    def _contact_point_named(self, unit_id: str, contact_id: str, contact_name: str, contact_phone: str | None) -> None:
        # contact_name and contact_phone are personal: kept in the event, never published.
        self.contact_points[unit_id] = contact_id


class MemberUnit(AuditedAggregate):
    """A department designated a member unit of a coordination body (Art. 2).

    The body sits at the prefecture or a county; ``unit_id`` is
    ``<body code>:<unit code>``, e.g. ``433101:justice-bureau``.
    """

    @staticmethod
    def create_id(body_code: str, unit_code: str) -> UUID:
        return MemberUnit.id_of(MemberUnit.unit_id_for(body_code, unit_code))

    @staticmethod
    def id_of(unit_id: str) -> UUID:
        return stable_id("member_unit", unit_id)

    @staticmethod
    def unit_id_for(body_code: str, unit_code: str) -> str:
        return f"{body_code}:{unit_code}"

    @event("Registered")
    def __init__(self, body_code: str, unit_code: str, name: str, duties: list[str]):
        self.body_code = body_code
        self.unit_code = unit_code
        self.unit_id = self.unit_id_for(body_code, unit_code)
        self.name = name
        self.duties = list(duties)

    def change_duties(self, duties: list[str]) -> None:
        if list(duties) == self.duties:
            raise Conflict(f"{self.unit_id} already has these duties")
        self._duties_changed(list(duties))

    @event("DutiesChanged")
    def _duties_changed(self, duties: list[str]) -> None:
        self.duties = duties


class Participant(AuditedAggregate):
    """A volunteer, social organisation or enterprise taking part in Ping'an
    work (Art. 10); it can be assigned work items and its recognitions are kept."""

    @event("Registered")
    def __init__(self, jurisdiction: str, kind: str, name: str):
        self.jurisdiction = jurisdiction
        self.kind = kind
        self.name = name  # personal for a volunteer
        self.recognitions: list[str] = []

    def recognise(self, note: str) -> None:
        self._recognised(note)

    @event("Recognised")
    def _recognised(self, note: str) -> None:
        self.recognitions.append(note)

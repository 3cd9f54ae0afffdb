"""The person behind key-population records (Art. 7(4)): identity sealed under
the person's key, the village they live in; their enrolments are records of
their own, one per category.

Rules:
- Name, ID number, address and contact arrive sealed under ``person_key``;
  the name is required, the rest may be unknown.
- The person lives in a village of the prefecture; moving records a new one.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import event

from shared.errors import InvalidTransition, ValidationFailed
from shared.eventstore import AuditedAggregate, stable_id

from .common import check_opaque_person_id, check_village, person_key, require_sealed


class Person(AuditedAggregate):
    # Event attributes sealed under person_key(person_id); IdentityCorrected holds them under "changes".
    PERSONAL_FIELDS = ("name", "id_number", "address", "contact",
                       "changes.name", "changes.id_number", "changes.address", "changes.contact")

    @staticmethod
    def create_id(person_id: str) -> UUID:
        return stable_id("key-population-person", person_id)

    @classmethod
    def register(cls, person_id: str, jurisdiction: str, name: str, id_number: str | None = None,
                 address: str | None = None, contact: str | None = None) -> Person:
        check_opaque_person_id(person_id)
        check_village(jurisdiction)
        if name is None:
            raise ValidationFailed("a person is registered with a name", {"field": "name"})
        require_sealed(person_key(person_id), name=name, id_number=id_number, address=address, contact=contact)
        return cls.create_with_id(cls.Registered, id=cls.create_id(person_id), person_id=person_id,
                                  jurisdiction=jurisdiction, name=name, id_number=id_number, address=address,
                                  contact=contact)

    @event("Registered")
    def __init__(self, person_id: str, jurisdiction: str, name: str, id_number: str | None, address: str | None,
                 contact: str | None):
        self.person_id = person_id
        self.jurisdiction = jurisdiction
        self.name = name
        self.id_number = id_number
        self.address = address
        self.contact = contact

    def correct_identity(self, name: str | None = None, id_number: str | None = None, address: str | None = None,
                         contact: str | None = None) -> None:
        """Correct the given fields (a new event; the earlier values stay in the log)."""
        changes = {k: v for k, v in dict(name=name, id_number=id_number, address=address, contact=contact).items()
                   if v is not None}
        if not changes:
            raise ValidationFailed("a correction names at least one field", {"field": "name"})
        require_sealed(person_key(self.person_id), **changes)
        self._identity_corrected(changes)

    def move(self, jurisdiction: str) -> None:
        check_village(jurisdiction)
        if jurisdiction == self.jurisdiction:
            raise InvalidTransition(f"the person already lives in {jurisdiction}")
        self._moved(from_jurisdiction=self.jurisdiction, to_jurisdiction=jurisdiction)

    @event("IdentityCorrected")
    def _identity_corrected(self, changes: dict) -> None:
        for name, value in changes.items():
            setattr(self, name, value)

    @event("Moved")
    def _moved(self, from_jurisdiction: str, to_jurisdiction: str) -> None:
        self.jurisdiction = to_jurisdiction

"""The registry: jurisdictions, grids, workers, member units, contact points and participants
(Arts. 2, 3, 5, 10)."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from pydantic import Field

from shared.jurisdiction import JurisdictionCode
from shared.validation import Command, Identifier, LongText, Slug, Text

from .common import Personal, Scoped, UnitRef


class ParticipantKind(StrEnum):
    VOLUNTEER = "volunteer"
    SOCIAL_ORGANISATION = "social_organisation"
    ENTERPRISE = "enterprise"


class RegisterJurisdiction(Command):
    code: JurisdictionCode
    name: Text


class RegisterGrid(Command):
    code: JurisdictionCode = Field(description="the village code plus a 3-digit grid number (15 digits)")
    name: Text


class AssignWorker(Command):
    grid_code: JurisdictionCode
    worker_id: Identifier


class UnassignWorker(AssignWorker):
    pass


class NameTownshipResponsible(Command):
    code: JurisdictionCode = Field(description="a township (9 digits)")
    office: Text
    person_id: Identifier
    person_name: Text


class RegisterMemberUnit(Command):
    body_code: JurisdictionCode = Field(description="the coordination body: the prefecture or a county")
    unit_code: Slug
    name: Text
    duties: list[Text] = Field(min_length=1, max_length=30)


class ChangeMemberUnitDuties(Command):
    unit_id: UnitRef
    duties: list[Text] = Field(min_length=1, max_length=30)


class NameContactPoint(Command):
    grid_code: JurisdictionCode
    unit: UnitRef
    contact_id: Identifier
    contact_name: Text
    # Any characters: sealed as written (extensions, notes such as "ask for the duty office").
    contact_phone: str | None = Field(default=None, min_length=3, max_length=30)


class RegisterParticipant(Command):
    jurisdiction: JurisdictionCode
    kind: ParticipantKind
    name: Text


class RecogniseParticipant(Command):
    participant_id: UUID
    note: LongText


class ListGrids(Scoped):
    pass


class ListJurisdictions(Personal):
    parent_code: JurisdictionCode | None = None


class ListMemberUnits(Scoped):
    pass


class ListContactPoints(Personal):
    grid_code: JurisdictionCode


class ListParticipants(Scoped, Personal):
    kind: ParticipantKind | None = None

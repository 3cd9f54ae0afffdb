"""The registry: jurisdictions, grids and their workers, member units, contact points, participants."""

from __future__ import annotations

from collections.abc import Callable
from uuid import uuid4

from shared.access import authorize
from shared.commands import Commands, require_role
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.eventstore import Call
from shared.jurisdiction import Level, covers, level_of, parent_of

from .. import contracts as c
from ..domain import VOLUNTEER, Grid, Jurisdiction, MemberUnit, Participant, ParticipantKind, record_subject
from .common import (
    BODY_LEVELS,
    OFFICERS,
    ROOT_LEVELS,
    UNIT_KEEPERS,
    WORK_LIST_KEEPERS,
    Seal,
    participant_subject,
    person,
)


class Registry(Commands):
    # -- registry ---------------------------------------------------------------

    def register_jurisdiction(self, call: Call, command: c.RegisterJurisdiction) -> dict:
        level = level_of(command.code)
        if level is Level.GRID:
            raise ValidationFailed("RegisterJurisdiction: a 15-digit code is a grid; use register_grid")
        parent = parent_of(command.code)
        authorize(call.caller, "register a jurisdiction", OFFICERS, command.code if level in ROOT_LEVELS else parent)

        def act():
            if self.exists(Jurisdiction.create_id(command.code)):
                raise Conflict(f"jurisdiction {command.code} is already registered")
            if level not in ROOT_LEVELS and not self.exists(Jurisdiction.create_id(parent)):
                raise NotFound(f"the parent jurisdiction {parent} is not registered")
            unit = Jurisdiction(code=command.code, name=command.name, level=level.value, parent_code=parent)
            return [unit], {"code": unit.code, "level": unit.level}

        return self.execute(call, act, command.command_id)

    def register_grid(self, call: Call, command: c.RegisterGrid) -> dict:
        if level_of(command.code) is not Level.GRID:
            raise ValidationFailed("RegisterGrid: code must be a village code plus a 3-digit grid number")
        village = parent_of(command.code)
        authorize(call.caller, "register a grid", OFFICERS, village)

        def act():
            if self.exists(Grid.create_id(command.code)):
                raise Conflict(f"grid {command.code} is already registered")
            if not self.exists(Jurisdiction.create_id(village)):
                raise NotFound(f"the village {village} is not registered")
            grid = Grid(code=command.code, village_code=village, name=command.name)
            return [grid], {"code": grid.code}

        return self.execute(call, act, command.command_id)

    def assign_worker(self, call: Call, command: c.AssignWorker) -> dict:
        return self._change_grid(
            call, command, "assign a grid worker", lambda grid: grid.assign_worker(command.worker_id)
        )

    def unassign_worker(self, call: Call, command: c.UnassignWorker) -> dict:
        return self._change_grid(
            call, command, "unassign a grid worker", lambda grid: grid.unassign_worker(command.worker_id)
        )

    def _change_grid(self, call: Call, command: c.AssignWorker, action: str, change: Callable[[Grid], None]) -> dict:
        authorize(call.caller, action, OFFICERS, command.grid_code)

        def act():
            grid = self.load(Grid, Grid.create_id(command.grid_code), "grid")
            change(grid)
            return [grid], {"grid_code": grid.code, "workers": list(grid.workers)}

        return self.execute(call, act, command.command_id)

    def name_township_responsible(self, call: Call, command: c.NameTownshipResponsible, seal: Seal) -> dict:
        if level_of(command.code) is not Level.TOWNSHIP:
            raise ValidationFailed("NameTownshipResponsible: code must be a township (9 digits)")
        authorize(call.caller, "name a township's responsible office", OFFICERS, command.code)

        def act():
            township = self.load(Jurisdiction, Jurisdiction.create_id(command.code), "jurisdiction")
            township.require_township()
            township.name_responsible(
                command.office, command.person_id, seal(person(command.person_id), command.person_name)
            )
            return [township], {"code": township.code, "office": township.responsible_office}

        return self.execute(call, act, command.command_id)

    def register_member_unit(self, call: Call, command: c.RegisterMemberUnit) -> dict:
        if level_of(command.body_code) not in BODY_LEVELS:
            raise ValidationFailed("RegisterMemberUnit: a coordination body is the prefecture or a county")
        authorize(call.caller, "register a member unit", OFFICERS, command.body_code)
        unit_id = MemberUnit.unit_id_for(command.body_code, command.unit_code)

        def act():
            if not self.exists(Jurisdiction.create_id(command.body_code)):
                raise NotFound(f"the jurisdiction {command.body_code} is not registered")
            if self.exists(MemberUnit.id_of(unit_id)):
                raise Conflict(f"member unit {unit_id} is already registered")
            unit = MemberUnit(
                body_code=command.body_code, unit_code=command.unit_code, name=command.name, duties=list(command.duties)
            )
            return [unit], {"unit_id": unit.unit_id}

        return self.execute(call, act, command.command_id)

    def change_member_unit_duties(self, call: Call, command: c.ChangeMemberUnitDuties) -> dict:
        if ":" not in command.unit_id:
            raise ValidationFailed("ChangeMemberUnitDuties: unit_id must be '<body code>:<unit code>'")
        authorize(call.caller, "change a member unit's duties", OFFICERS, command.unit_id.split(":")[0])

        def act():
            unit = self.load(MemberUnit, MemberUnit.id_of(command.unit_id), "member unit")
            unit.change_duties(list(command.duties))
            return [unit], {"unit_id": unit.unit_id, "duties": unit.duties}

        return self.execute(call, act, command.command_id)

    def name_contact_point(self, call: Call, command: c.NameContactPoint, seal: Seal) -> dict:
        authorize(call.caller, "name a contact point", UNIT_KEEPERS, command.grid_code)

        def act():
            grid = self.load(Grid, Grid.create_id(command.grid_code), "grid")
            unit = self.member_unit(command.unit, grid.code)
            grid.require_new_contact_point(unit.unit_id, command.contact_id)
            contact = person(command.contact_id, "contact_id")
            grid.name_contact_point(
                unit.unit_id,
                command.contact_id,
                seal(contact, command.contact_name),
                seal(contact, command.contact_phone),
            )
            return [grid], {"grid_code": grid.code, "unit_id": unit.unit_id, "contact_id": command.contact_id}

        return self.execute(call, act, command.command_id)

    def register_participant(self, call: Call, command: c.RegisterParticipant, seal: Seal) -> dict:
        authorize(call.caller, "register a participant", WORK_LIST_KEEPERS, command.jurisdiction)

        def act():
            self.require_place(command.jurisdiction)
            name = command.name
            if command.kind is ParticipantKind.VOLUNTEER:  # an organisation's name is not personal
                name = seal(record_subject(VOLUNTEER, uuid4().hex), name)
            participant = Participant(jurisdiction=command.jurisdiction, kind=command.kind.value, name=name)
            return [participant], {"participant_id": str(participant.id), "kind": participant.kind}

        return self.execute(call, act, command.command_id)

    def recognise_participant(self, call: Call, command: c.RecogniseParticipant, seal: Seal) -> dict:
        require_role(call, "recognise a participant", OFFICERS)

        def act():
            participant = self.load(Participant, command.participant_id, "participant")
            authorize(call.caller, "recognise a participant", OFFICERS, participant.jurisdiction)
            participant.recognise(seal(participant_subject(participant), command.note))
            return [participant], {"participant_id": str(participant.id), "recognitions": len(participant.recognitions)}

        return self.execute(call, act, command.command_id)

    def member_unit(self, unit: str, place: str) -> MemberUnit:
        """The member unit ``unit`` names for a record at ``place``: a full id, or a
        unit code looked up in the place's county body, then the prefecture's."""
        if ":" in unit:
            candidates = [unit]
        else:
            bodies = [code for code in (place[:6], place[:4] + "00") if level_of(code) in BODY_LEVELS]
            candidates = [MemberUnit.unit_id_for(body, unit) for body in dict.fromkeys(bodies)]
        for unit_id in candidates:
            if self.exists(MemberUnit.id_of(unit_id)):
                found = self.load(MemberUnit, MemberUnit.id_of(unit_id), "member unit")
                if not covers(found.body_code, place):
                    raise ValidationFailed(f"member unit {unit_id} does not serve {place}")
                return found
        raise NotFound(f"no member unit {unit!r} serves {place}")

    def require_place(self, code: str) -> None:
        """A record may be placed at a registered unit or grid only."""
        known = Grid.create_id(code) if level_of(code) is Level.GRID else Jurisdiction.create_id(code)
        if not self.exists(known):
            raise NotFound(f"{code} is not a registered jurisdiction or grid")

"""The registry's read model: jurisdictions, grids, contact points, member units, participants."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Column, Integer, String, Table, Text, and_, insert, select, update
from sqlalchemy.engine import Connection

from shared.jurisdiction import level_of, scope_prefix
from shared.projections import Projection, handles
from shared.security.row_seal import seal_column

from ..domain import Erasure, Grid, Jurisdiction, MemberUnit, Participant
from .common import erased_flag, mark_erased, metadata

jurisdictions = Table(
    "grid_jurisdictions_view",
    metadata,
    Column("code", String(15), primary_key=True),
    Column("jurisdiction_id", String(36), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("level", String(20), nullable=False),
    Column("parent_code", String(15), index=True),
    Column("responsible_office", String(200)),
    Column("responsible_person_id", String(64)),
    Column("responsible_person_name", Text),  # personal, sealed
    seal_column("code", "jurisdiction_id", "level", "parent_code"),
)

grids = Table(
    "grid_grids_view",
    metadata,
    Column("code", String(15), primary_key=True),
    Column("grid_id", String(36), nullable=False, unique=True),
    Column("village_code", String(12), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("workers", Text, nullable=False),  # JSON list of worker ids
    seal_column("code", "grid_id", "village_code"),
)

contact_points = Table(
    "grid_contact_points_view",
    metadata,
    Column("grid_code", String(15), primary_key=True),
    Column("unit_id", String(100), primary_key=True),
    Column("contact_id", String(64), nullable=False),
    Column("contact_name", Text, nullable=False),  # personal, sealed
    Column("contact_phone", Text),  # personal, sealed
    seal_column("grid_code", "unit_id"),
)

member_units = Table(
    "grid_member_units_view",
    metadata,
    Column("unit_id", String(100), primary_key=True),
    Column("member_unit_id", String(36), nullable=False, unique=True),
    Column("body_code", String(6), nullable=False, index=True),
    Column("unit_code", String(50), nullable=False),
    Column("name", String(200), nullable=False),
    Column("duties", Text, nullable=False),  # JSON list
    seal_column("unit_id", "member_unit_id", "body_code"),
)

participants = Table(
    "grid_participants_view",
    metadata,
    Column("participant_id", String(36), primary_key=True),
    Column("jurisdiction", String(15), nullable=False, index=True),
    Column("kind", String(30), nullable=False),
    Column("name", Text, nullable=False),  # personal for a volunteer, sealed
    Column("recognitions", Integer, nullable=False),  # how many; the notes are sealed, in the log only
    erased_flag(),
    seal_column("participant_id", "jurisdiction", "kind", "name"),
)


class RegistryView(Projection):
    name = "grid_events.registry"
    tables = [jurisdictions, grids, contact_points, member_units, participants]

    @handles(Jurisdiction.Registered)
    def on_jurisdiction_registered(self, event: Any, conn: Connection) -> None:
        conn.execute(insert(jurisdictions), dict(
            code=event.code, jurisdiction_id=str(event.originator_id), name=event.name, level=event.level,
            parent_code=event.parent_code))

    @handles(Jurisdiction.ResponsibleNamed)
    def on_responsible_named(self, event: Any, conn: Connection) -> None:
        conn.execute(update(jurisdictions).where(jurisdictions.c.jurisdiction_id == str(event.originator_id)).values(
            responsible_office=event.office, responsible_person_id=event.person_id,
            responsible_person_name=event.person_name))

    @handles(Grid.Registered)
    def on_grid_registered(self, event: Any, conn: Connection) -> None:
        conn.execute(
            insert(grids),
            dict(
                code=event.code,
                grid_id=str(event.originator_id),
                village_code=event.village_code,
                name=event.name,
                workers="[]",
            ),
        )

    @handles(Grid.WorkerAssigned)
    def on_worker_assigned(self, event: Any, conn: Connection) -> None:
        self._change_workers(conn, event, lambda workers: workers + [event.worker_id])

    @handles(Grid.WorkerUnassigned)
    def on_worker_unassigned(self, event: Any, conn: Connection) -> None:
        self._change_workers(conn, event, lambda workers: [w for w in workers if w != event.worker_id])

    @handles(Grid.ContactPointNamed)
    def on_contact_point_named(self, event: Any, conn: Connection) -> None:
        grid_code = conn.execute(select(grids.c.code).where(grids.c.grid_id == str(event.originator_id))).scalar_one()
        key = and_(contact_points.c.grid_code == grid_code, contact_points.c.unit_id == event.unit_id)
        values = dict(contact_id=event.contact_id, contact_name=event.contact_name, contact_phone=event.contact_phone)
        if conn.execute(select(contact_points.c.unit_id).where(key)).first():
            conn.execute(update(contact_points).where(key).values(**values))
        else:
            conn.execute(insert(contact_points), dict(grid_code=grid_code, unit_id=event.unit_id, **values))

    @handles(MemberUnit.Registered)
    def on_member_unit_registered(self, event: Any, conn: Connection) -> None:
        conn.execute(
            insert(member_units),
            dict(
                unit_id=f"{event.body_code}:{event.unit_code}",
                member_unit_id=str(event.originator_id),
                body_code=event.body_code,
                unit_code=event.unit_code,
                name=event.name,
                duties=json.dumps(event.duties),
            ),
        )

    @handles(MemberUnit.DutiesChanged)
    def on_duties_changed(self, event: Any, conn: Connection) -> None:
        conn.execute(
            update(member_units)
            .where(member_units.c.member_unit_id == str(event.originator_id))
            .values(duties=json.dumps(event.duties))
        )

    @handles(Participant.Registered)
    def on_participant_registered(self, event: Any, conn: Connection) -> None:
        conn.execute(
            insert(participants),
            dict(
                participant_id=str(event.originator_id),
                jurisdiction=event.jurisdiction,
                kind=event.kind,
                name=event.name,
                recognitions=0,
                personal_data_erased=False,
            ),
        )

    @handles(Participant.Recognised)
    def on_participant_recognised(self, event: Any, conn: Connection) -> None:
        conn.execute(
            update(participants)
            .where(participants.c.participant_id == str(event.originator_id))
            .values(recognitions=participants.c.recognitions + 1)
        )

    @handles(Erasure.Recorded)
    def on_erased(self, event: Any, conn: Connection) -> None:
        mark_erased(conn, participants, participants.c.participant_id, event, "volunteer", "participant")

    def _change_workers(self, conn: Connection, event: Any, change: Any) -> None:
        grid = grids.c.grid_id == str(event.originator_id)
        workers = json.loads(conn.execute(select(grids.c.workers).where(grid)).scalar_one())
        conn.execute(update(grids).where(grid).values(workers=json.dumps(change(workers))))


# -- queries ------------------------------------------------------------------------


def grids_query(jurisdiction: str) -> Any:
    return select(grids).where(grids.c.code.startswith(scope_prefix(jurisdiction))).order_by(grids.c.code)


def jurisdictions_query(scope: str, parent_code: str | None) -> Any:
    query = select(jurisdictions).where(jurisdictions.c.code.startswith(scope_prefix(scope)))
    if parent_code:
        query = query.where(jurisdictions.c.parent_code == parent_code)
    return query.order_by(jurisdictions.c.code)


def member_units_query(scope: str) -> Any:
    """Units of the bodies in ``scope`` and of the bodies above it that serve it."""
    above = [code for code in {scope[:6], scope[:4] + "00"} if level_of(code).value in ("county", "prefecture")]
    query = select(member_units).where(
        member_units.c.body_code.startswith(scope_prefix(scope)) | member_units.c.body_code.in_(above)
    )
    return query.order_by(member_units.c.unit_id)


def contact_points_query(grid_code: str) -> Any:
    return select(contact_points).where(contact_points.c.grid_code == grid_code).order_by(contact_points.c.unit_id)


def participants_query(scope: str, kind: str | None) -> Any:
    query = select(participants).where(participants.c.jurisdiction.startswith(scope_prefix(scope)))
    if kind:
        query = query.where(participants.c.kind == kind)
    return query.order_by(participants.c.participant_id)

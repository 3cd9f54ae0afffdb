"""Where the read models name a person now: for erasure and the access log."""

from __future__ import annotations

from sqlalchemy import select, union_all
from sqlalchemy.engine import Connection

from .decisions import family_assessments
from .registry import contact_points, jurisdictions
from .risks import risks


def places_naming(conn: Connection, person_id: str) -> list[str]:
    """Where the read models name ``person_id`` now: townships, grids, risks, households' grids."""
    found = union_all(
        select(jurisdictions.c.code).where(jurisdictions.c.responsible_person_id == person_id),
        select(contact_points.c.grid_code).where(contact_points.c.contact_id == person_id),
        select(risks.c.jurisdiction).where(risks.c.responsible_person_id == person_id),
        select(family_assessments.c.grid_code).where(family_assessments.c.household_id == person_id),
    )
    return sorted(set(conn.execute(found).scalars()))


def records_naming(conn: Connection, person_id: str) -> list[tuple[str, str]]:
    """The records that name ``person_id`` now, as their reads are audited (record id, jurisdiction):
    townships by code, contact points by the person's id, risks, households' assessments."""
    found = union_all(
        select(jurisdictions.c.code, jurisdictions.c.code).where(jurisdictions.c.responsible_person_id == person_id),
        select(contact_points.c.contact_id, contact_points.c.grid_code).where(contact_points.c.contact_id == person_id),
        select(risks.c.risk_id, risks.c.jurisdiction).where(risks.c.responsible_person_id == person_id),
        select(family_assessments.c.assessment_id, family_assessments.c.grid_code)
        .where(family_assessments.c.household_id == person_id),
    )
    return sorted(set(map(tuple, conn.execute(found))))

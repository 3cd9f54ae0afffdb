"""Where the read models name a person now: for erasure and the access log."""

from __future__ import annotations

from sqlalchemy import select, union_all
from sqlalchemy.engine import Connection

from shared.security.row_seal import checked_rows

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
    townships by code, contact points by the person's id, risks, households' assessments.

    Each row's seal is checked first: one the database alone edited (its id or place changed, to widen or
    narrow whose access log an auditor may answer) is left out and counted, as in every other read."""
    found: set[tuple[str, str]] = set()
    for table, names, record, place in (
        (jurisdictions, jurisdictions.c.responsible_person_id, "code", "code"),
        (contact_points, contact_points.c.contact_id, "contact_id", "grid_code"),
        (risks, risks.c.responsible_person_id, "risk_id", "jurisdiction"),
        (family_assessments, family_assessments.c.household_id, "assessment_id", "grid_code"),
    ):
        query = select(table).where(names == person_id)
        rows = checked_rows(query, [dict(row) for row in conn.execute(query).mappings()])
        found.update((row[record], row[place]) for row in rows)
    return sorted(found)

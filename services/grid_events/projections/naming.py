"""Where the read models name a person now: for erasure and the access log.

Both rest on sealed rows only (shared/security/row_seal.py): a row the database alone edited (its id or
place changed) is never taken for where a person is named."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection

from shared.errors import Conflict
from shared.security.row_seal import checked_rows

from .decisions import family_assessments
from .registry import contact_points, jurisdictions
from .risks import risks

# (table, the column naming the person, the record id as its reads are audited, the record's place)
NAMING = (
    (jurisdictions, jurisdictions.c.responsible_person_id, "code", "code"),
    (contact_points, contact_points.c.contact_id, "contact_id", "grid_code"),
    (risks, risks.c.responsible_person_id, "risk_id", "jurisdiction"),
    (family_assessments, family_assessments.c.household_id, "assessment_id", "grid_code"),
)


def _sealed_naming(conn: Connection, person_id: str) -> tuple[set[tuple[str, str]], int]:
    """(record id, place) of every sealed row naming ``person_id``, and how many rows failed their seal
    (left out, logged and counted)."""
    found: set[tuple[str, str]] = set()
    failed = 0
    for table, names, record, place in NAMING:
        query = select(table).where(names == person_id)
        rows = [dict(row) for row in conn.execute(query).mappings()]
        kept = checked_rows(query, rows)
        failed += len(rows) - len(kept)
        found.update((row[record], row[place]) for row in kept)
    return found, failed


def places_naming(conn: Connection, person_id: str) -> list[str]:
    """Where the read models name ``person_id`` now: townships, grids, risks, households' grids.

    Erasure is authorised on every one of these places, so a row that fails its seal refuses the answer
    (fails closed): leaving it out would narrow the places and so widen who may erase."""
    found, failed = _sealed_naming(conn, person_id)
    if failed:
        raise Conflict("a read-model row naming this person failed its seal: rebuild the read models "
                       "(pingan rebuild) before erasing")
    return sorted({place for _, place in found})


def records_naming(conn: Connection, person_id: str) -> list[tuple[str, str]]:
    """The records that name ``person_id`` now, as their reads are audited (record id, jurisdiction):
    townships by code, contact points by the person's id, risks, households' assessments.

    A row that fails its seal is left out (as in every other read): its readers are not opened to an
    auditor whose subtree it was moved into."""
    return sorted(_sealed_naming(conn, person_id)[0])

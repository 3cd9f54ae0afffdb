"""What every grid_events read model shares: one metadata, the sealed columns, the
read model of one aggregate family (stamped updates, erasure flags), gauges from grouped counts, paging."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import Boolean, Column, MetaData, Table, case, func, literal, select, update
from sqlalchemy.engine import Connection

from shared.jurisdiction import level_of
from shared.projections import RecordView, handles, row_to_dict
from shared.projections import page_of as shared_page_of
from shared.security.row_seal import checked_page, checked_row

from ..contracts import SERVICE, Tier
from ..domain import Erasure

metadata = MetaData()

# Columns that hold values sealed per person or per record by the service
# (shared/security/personal_data.py); queries open them, everything else passes through.
SEALED_COLUMNS = ("responsible_person_name", "contact_name", "contact_phone", "name", "findings",
                  "place", "description", "title", "measures", "feedback")
# A family assessment's findings and measures are sealed twice: under the assessment's key
# (family.<id>) around the household's; opening the outer seal gives the inner one.
DOUBLY_SEALED_COLUMNS = ("findings", "measures")
DOUBLY_SEALED_PREFIX = "pii1:family."


def erased_flag() -> Column:
    """True once the record's own personal data is erased (its key destroyed): its free text reads [erased]."""
    return Column("personal_data_erased", Boolean, nullable=False, default=False)


def mark_erased(conn: Connection, table: Table, key: Column, event: Any, *kinds: str) -> None:
    """Flag the record an Erasure names (the record's version is not the erasure's: left as is)."""
    if event.kind in kinds and event.record_id:
        conn.execute(update(table).where(key == event.record_id).values(personal_data_erased=True))


class GridRecordView(RecordView):
    """A read model of one aggregate family: stamped updates (``RecordView``), and an erasure of
    ``erasure_kind`` flags the record it names."""

    erasure_kind: ClassVar[str]

    @handles(Erasure.Recorded)
    def on_erased(self, event: Any, conn: Connection) -> None:
        mark_erased(conn, self.record, self.record.c[self.record_key], event, self.erasure_kind)


def tier_of(code: str) -> str:
    """The tier a record placed at ``code`` is handled by; a grid's is its village's."""
    level = level_of(code).value
    return Tier.VILLAGE.value if level == "grid" else level


def open_or_closed(table: Table) -> Any:
    return case((table.c.status == "closed", literal("closed")), else_=literal("open"))


def counted(name: str, documentation: str, labels: list[str], rows: Iterable[Any]) -> GaugeMetricFamily:
    """A gauge from (label values..., count) rows; labels are bounded (county codes, enums), never ids."""
    family = GaugeMetricFamily(name, documentation, labels=["service", *labels])
    for *values, count in rows:
        family.add_metric([SERVICE, *values], count)
    return family


def by_source_query(table: Table, group: Column) -> Any:
    state = open_or_closed(table)
    return (select(group, table.c.source, table.c.tier, state, func.count())
            .group_by(group, table.c.source, table.c.tier, state))


def page_of(conn: Connection, query: Any, page: int, page_size: int) -> dict:
    # Rows whose seal fails are left out: a list never trusts a row the database alone edited.
    return checked_page(query, shared_page_of(conn, query, page, page_size, JSON_COLUMNS))


def one(conn: Connection, query: Any) -> dict | None:
    row = conn.execute(query).mappings().first()
    return checked_row(query, row_to_dict(row, JSON_COLUMNS) if row else None)  # access is decided on a sealed row only


JSON_COLUMNS = {"workers", "duties", "required_steps", "ticked_steps"}

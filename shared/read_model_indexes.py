"""Read-model secondary indexes set aside while a rebuild refills their tables, and put back.

PostgreSQL keeps every index of a table current row by row during a COPY; building each
once after the load costs a fraction of that (docs/benchmarks.md, "Rebuild"). Only the
tables' owner may drop and create an index: a rebuild run as the service's runtime login
keeps them. A rebuild cut short leaves its tables without these indexes, so
``create_view_tables`` (`pingan migrate`, a starting service) looks for any the metadata
names and the database lacks, and makes them again, or says so when it may not.
"""

from __future__ import annotations

from collections.abc import Iterable

import structlog
from sqlalchemy import Index, Table, text
from sqlalchemy.engine import Connection
from sqlalchemy.schema import CreateIndex, DropIndex

log = structlog.get_logger(__name__)


def _indexes(tables: Iterable[Table]) -> list[Index]:
    return [index for table in tables for index in sorted(table.indexes, key=lambda index: index.name or "")]


def secondary_indexes(tables: Iterable[Table]) -> list[Index]:
    """The indexes a load can do without: not the primary key, not one that keeps values unique."""
    return [index for index in _indexes(tables) if not index.unique]


def owns(conn: Connection, tables: Iterable[Table]) -> bool:
    """Whether this login owns (or has the rights of the owner of) every one of ``tables`` (PostgreSQL)."""
    names = [table.name for table in tables]
    if conn.dialect.name != "postgresql" or not names:
        return False
    owned = conn.execute(text(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relname = ANY(:names) AND c.relkind = 'r' "
        "AND pg_has_role(c.relowner, 'USAGE')"), {"names": names}).scalar_one()
    return owned == len(names)


def drop_secondary(conn: Connection, tables: Iterable[Table]) -> list[Index]:
    """Drop the secondary indexes of ``tables`` (in ``conn``'s transaction); the ones dropped."""
    dropped = secondary_indexes(tables)
    for index in dropped:
        conn.execute(DropIndex(index, if_exists=True))
    return dropped


def missing(conn: Connection, tables: Iterable[Table]) -> list[Index]:
    """The indexes of ``tables`` the metadata names and the database lacks (PostgreSQL; none elsewhere)."""
    tables = list(tables)
    if conn.dialect.name != "postgresql" or not tables:
        return []
    present = set(conn.execute(text(
        "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ANY(:names)"),
        {"names": [table.name for table in tables]}).scalars())
    return [index for index in _indexes(tables) if index.name not in present]


def create(conn: Connection, indexes: Iterable[Index]) -> None:
    for index in indexes:
        conn.execute(CreateIndex(index, if_not_exists=True))


def restore_missing(conn: Connection, tables: Iterable[Table]) -> list[str]:
    """Make again the indexes of ``tables`` an interrupted rebuild left out, when this login may;
    otherwise log them (a service without them answers, slowly). The names of those missing."""
    tables = list(tables)
    lacking = missing(conn, tables)
    if not lacking:
        return []
    names = [str(index.name) for index in lacking]
    if owns(conn, tables):
        create(conn, lacking)
        log.warning("read_model_indexes_restored", indexes=names)
    else:
        log.error("read_model_indexes_missing", indexes=names,
                  remedy="run `pingan migrate` or `pingan rebuild` as the tables' owner")
    return names

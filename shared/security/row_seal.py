"""Read-model rows sealed by the service, so access is never decided on a row the database alone edited.

The service's runtime login may write its read models (projections need it),
so a row's jurisdiction could be changed in the database to put another
township's record in a caller's subtree. Each sealed table carries a
``row_seal`` column: an HMAC, keyed outside the database (derived from
``PINGAN_CHAIN_KEY``, like the chain links), over the table's name and the
columns that place and identify the record — its id, its jurisdiction codes
and the sealed personal values written with it. The projection fills it on
insert (a column default: handlers change nothing); reads check it before any
decision and drop a row whose seal fails, logging it and counting it in
``pingan_tampered_rows_total{projection}``.

In a projection::

    reports = Table("grid_event_reports_view", metadata, Column("event_id", ...), ...,
                    seal_column("event_id", "grid_code", "jurisdiction", "place", "description"))

and where rows are read::

    page = checked_page(page, query)      # a list: tampered rows left out
    row = checked_row(row, query)         # one record: a tampered row reads as missing

Covered columns must be written once, on insert: a handler that updates one
would make the row fail its seal (and the service tests show it at once).
See docs/security.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import Column, String, Table

from shared.metrics import metrics

from .links import load_chain_key

log = structlog.get_logger(__name__)

SEAL = "row_seal"


@lru_cache(maxsize=4)
def _key(encoded: str | None, data_dir: Path | None) -> bytes:
    return hmac.new(load_chain_key(encoded, data_dir), b"pingan-row-seal-v1", hashlib.sha256).digest()


def row_key() -> bytes:
    """The process's row-seal key (read when asked: the settings are the service's, never import-time)."""
    from shared.config import load_settings

    from .settings import load_security_settings

    settings = load_settings()
    return _key(load_security_settings().chain_key, settings.data_dir if settings.database_url is None else None)


def _covered(table: Table) -> tuple[str, ...]:
    return table.c[SEAL].info["covers"]


@lru_cache(maxsize=4)
def _mac(key: bytes) -> hmac.HMAC:
    """An HMAC keyed with ``key`` and fed nothing: each seal copies it (the key is not set up per row)."""
    return hmac.new(key, digestmod=hashlib.sha256)


@lru_cache(maxsize=1)
def _compact() -> json.JSONEncoder:
    """``json.dumps(..., separators=(",", ":"))``'s encoder, made once (dumps makes one per call)."""
    return json.JSONEncoder(separators=(",", ":"))


def seal_of(key: bytes, table: Table, values: dict) -> str:
    covered = [None if values.get(name) is None else str(values[name]) for name in _covered(table)]
    mac = _mac(key).copy()
    mac.update(_compact().encode([table.name, *covered]).encode())
    return mac.hexdigest()


def seal_column(*covers: str) -> Column:
    """The ``row_seal`` column of a read-model table, filled on insert from the ``covers`` columns."""

    def seal(context: Any) -> str:
        # The key read once per statement (an executemany or a COPY seals thousands of rows with it).
        key = getattr(context, "pingan_row_key", None)
        if key is None:
            key = context.pingan_row_key = row_key()
        return seal_of(key, context.current_column.table, context.get_current_parameters())

    # Nullable: a row without a seal is simply one that fails its check.
    return Column(SEAL, String(64), default=seal, info={"covers": covers})


# -- reading -------------------------------------------------------------------------


def _sealed_table(source: Any) -> Table | None:
    """The sealed table a query reads from (or the table itself)."""
    if isinstance(source, Table):
        return source if SEAL in source.c else None
    # The tables its columns come from first: ``get_final_froms`` compiles the statement's FROM list,
    # which cost more than checking every row's seal of a page.
    for tables in (getattr(source, "columns_clause_froms", ()), source.get_final_froms):
        found = next((table for table in (tables() if callable(tables) else tables)
                      if isinstance(table, Table) and SEAL in table.c), None)
        if found is not None:
            return found
    return None


def _report(table: Table, dropped: int) -> None:
    log.error("read_model_row_tampered", projection=table.name, rows=dropped)
    metrics().tampered_rows.labels(projection=table.name).inc(dropped)


def checked_rows(source: Any, rows: Iterable[dict]) -> list[dict]:
    """The rows whose seal holds, without the seal column; the others left out and reported."""
    table = _sealed_table(source)
    rows = list(rows)
    if table is None:
        return rows
    key = row_key()
    kept = [{name: value for name, value in row.items() if name != SEAL} for row in rows
            if hmac.compare_digest(str(row.get(SEAL) or ""), seal_of(key, table, row))]
    if len(kept) < len(rows):
        _report(table, len(rows) - len(kept))
    return kept


def checked_row(source: Any, row: dict | None) -> dict | None:
    """One record's row if its seal holds (without the seal column); a tampered row reads as no row."""
    if row is None:
        return None
    kept = checked_rows(source, [row])
    return kept[0] if kept else None


def checked_page(source: Any, page: dict) -> dict:
    """A page (``shared.projections.page_of``) with tampered rows left out of its items and its total."""
    items = checked_rows(source, page["items"])
    return {**page, "items": items, "total": page["total"] - (len(page["items"]) - len(items))}

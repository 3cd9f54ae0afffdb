"""The query kit: pages and single records from the read models, authorised, audited
when they hold personal data, and opened only after the access decision
(docs/architecture.md, "Queries").

A service builds one ``Reads`` from its dependencies and calls it from thin
entrypoints::

    def reads(self) -> Reads:
        return Reads(self.store, self.vault, views.page_of, PERSONAL, READERS, RECORDS)

    @api(c.GetRisk)
    def get_risk(self, call, query):
        return self.reads().audited_one(call, query, "read a risk", "risk", query.risk_id, views.risk_by_id)

The sealed columns a row holds are opened once the decision is made and its
audit event committed; a denied or unaudited read decrypts nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.engine import Connection

from shared.access import authorize
from shared.context import Role
from shared.errors import NotFound
from shared.eventstore import Call, PinganApplication
from shared.security.audit_log import AuditTrail, audited_list, audited_read
from shared.security.history import RecordKinds
from shared.security.personal_data import PersonalData
from shared.security.sealing import PersonalFields, sealed_under

Row = dict[str, Any]


def purpose_of(query: Any) -> str | None:
    """The one reading of a query's ``purpose``: its value as text, or None when not stated."""
    purpose = getattr(query, "purpose", None)
    return None if purpose is None else str(getattr(purpose, "value", purpose))


def scope_of(call: Call, query: Any) -> str:
    """The jurisdiction a listing covers: the one asked for, else the caller's own."""
    return getattr(query, "jurisdiction", None) or call.caller.jurisdiction


def place_of(row: Row) -> str:
    """Where a row lies for the access policy: its grid when it has one, else its jurisdiction."""
    return row.get("grid_code") or row["jurisdiction"]


class ReadStore(Protocol):
    app: PinganApplication

    def read(self) -> Any: ...  # a context manager giving a caught-up Connection


@dataclass(frozen=True)
class Reads:
    store: ReadStore
    vault: PersonalData
    page_of: Callable[[Connection, Any, int, int], dict]
    personal: PersonalFields
    readers: Collection[Role]
    records: RecordKinds | None = None
    category: str | None = None  # the access-policy category of every record read (e.g. "minors")

    # -- opening, after the decision ----------------------------------------------------

    def opened(self, row: Row) -> Row:
        """``row`` with its declared sealed columns opened; a column sealed twice (the outer
        subject's kind declared in ``personal.twice``) is opened twice."""
        return self._opened_rows([row])[0]

    def opened_page(self, page: dict, keys: dict[str, bytes | None] | None = None) -> dict:
        return {**page, "items": self._opened_rows(page["items"], keys)}

    def _opened_rows(self, rows: list[Row], keys: dict[str, bytes | None] | None = None) -> list[Row]:
        once = self.vault.open_many(rows, self.personal.columns, keys)  # the page's keys read in one query
        result = []
        for row, opened in zip(rows, once, strict=True):
            twice = tuple(name for name, outer in self.personal.twice.items()
                          if (sealed_under(row.get(name)) or "").startswith(outer))
            result.append(self.vault.open_fields(opened, twice) if twice else opened)
        return result

    # -- queries --------------------------------------------------------------------------

    def page(self, call: Call, query: Any, action: str, make_query: Callable[[str], Any]) -> dict:
        """A page of records without personal data: authorised, not audited."""
        scope = scope_of(call, query)
        authorize(call.caller, action, self.readers, scope)
        with self.store.read() as conn:
            return self.page_of(conn, make_query(scope), query.page, query.page_size)

    def one(self, call: Call, action: str, what: str, record_id: Any, find: Callable[[Connection, str], Row | None],
            place: Callable[[Row], str] = place_of) -> Row:
        """One record without personal data: found, then authorised where it lies; not audited."""
        with self.store.read() as conn:
            found = find(conn, str(record_id))
        if found is None:
            raise NotFound(f"no {what} with id {record_id}")
        authorize(call.caller, action, self.readers, place(found))
        return found

    def audited_page(self, call: Call, query: Any, action: str, kind: str, id_key: str,
                     make_query: Callable[[str], Any], scope: str | None = None,
                     category: str | None = None) -> dict:
        """A page of records holding personal data (of one sensitive ``category``, if any): decided, then
        one audit event naming the scope and every id returned, then opened."""
        where = scope or scope_of(call, query)

        keys: dict[str, bytes | None] = {}

        def load() -> tuple[dict, list[str]]:
            with self.store.read() as conn:
                page = self.page_of(conn, make_query(where), query.page, query.page_size)
                # Read with the page, on its connection; used only once the read is decided and audited.
                keys.update(self.vault.keys_of(page["items"], self.personal.columns, conn))
            return page, [str(row[id_key]) for row in page["items"]]

        page = audited_list(AuditTrail(self.store.app), call, action, self.readers, kind, where, purpose_of(query),
                            load, category if category is not None else self.category)
        return self.opened_page(page, keys)

    def audited_one(self, call: Call, query: Any, action: str, kind_name: str, record_id: Any,
            find: Callable[[Connection, str], Row | None], place: Callable[[Row], str] = place_of,
            open_row: Callable[[Row], Row] | None = None,
            category: Callable[[Row], str | None] = lambda row: None) -> Any:
        """One record holding personal data: decided and audited (also when refused or not found), then
        opened; ``category`` names a row's sensitive category for the policy. With ``as_of``: the record as
        it stood then, rebuilt from its events (``records``)."""
        if getattr(query, "as_of", None) is not None and self.records is not None:
            return self.records.as_of(self.store.app, self.vault, call, kind_name, record_id, query.as_of,
                                      purpose_of(query), action)
        audit_kind = self.records.named(kind_name).audit_kind if self.records else kind_name

        def load() -> tuple[Row, str, str | None] | None:
            with self.store.read() as conn:
                found = find(conn, str(record_id))
            return None if found is None else (found, place(found), category(found) or self.category)

        found = audited_read(AuditTrail(self.store.app), call, action, self.readers, audit_kind, str(record_id),
                             purpose_of(query), load)
        return (open_row or self.opened)(found)

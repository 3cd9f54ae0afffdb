"""The audit log as a feature: a record's history, its state at a past moment, who read a person.

Every change is an event stamped with who did it (``AuditedAggregate``) and every
read of personal data leaves a ``ReadAudited`` event, so the log already holds
the answers; this module asks it, the same way in every service. A service
declares its record kinds once::

    KINDS = RecordKinds(
        RecordKind("case", MediationCase, "mediation case", READERS, jurisdiction=lambda case: case.jurisdiction),
    )

and its entrypoints call ``KINDS.history(...)``, ``KINDS.as_of(...)`` and
``access_log(...)``. Each is an audited read (``audited_read``) under the same
policy as reading the record now; personal fields are opened only after the
access decision and read ``[erased]`` once their key is destroyed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from pydantic import AwareDatetime, BeforeValidator, Field

from shared.context import Role
from shared.errors import Forbidden, NotFound, ValidationFailed
from shared.eventstore import Call, PinganApplication
from shared.validation import Query

from .audit_log import ALLOWED, DENIED, AuditTrail, audited_read
from .personal_data import ERASED, PersonalData, is_sealed
from .policy import DATA_SUBJECT_ANSWERERS, Decision, Purpose, default_policy

# The event attributes that are the envelope, not the change.
_ENVELOPE = frozenset({"originator_id", "originator_version", "timestamp", "audit", "originator_topic"})
MAX_PAGE = 200  # events of one record per history page

def _time_text(value: Any) -> Any:
    # pydantic would read a number as a Unix time; here a number is a version, so a time is text.
    if not isinstance(value, (str, datetime)):
        raise ValueError("a time is ISO 8601 text with its zone")
    return value


# A past moment: a version (1 = as created) or an ISO 8601 time with its zone.
AsOf = Annotated[int, Field(strict=True, ge=1)] | Annotated[AwareDatetime, BeforeValidator(_time_text)]


class History(Query):
    """``history(kind, record_id)``: the record's events in order, paged."""

    kind: str = Field(min_length=1, max_length=40)
    record_id: UUID
    page_size: int = Field(default=50, ge=1, le=MAX_PAGE)
    purpose: Purpose | None = None


class AccessLog(Query):
    """``access_log(person_id)``: every audited read of the person's records, for a data-subject request."""

    person_id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="as the service names people")
    page_size: int = Field(default=50, ge=1, le=MAX_PAGE)
    purpose: Purpose = Purpose.DATA_SUBJECT_REQUEST


@dataclass(frozen=True)
class RecordKind:
    """One kind of record a service keeps: its aggregate, who may read it and where it lies."""

    name: str  # as callers name it: "event", "case"
    aggregate: type
    audit_kind: str  # as its reads are audited: "event report", "mediation case"
    readers: Collection[Role]
    jurisdiction: Callable[[Any], str]
    category: Callable[[Any], str | None] = lambda record: None
    id_field: str = "id"  # the id's name in the service's get result, e.g. "case_id"


class RecordKinds:
    """The record kinds of one service, and the history queries over them."""

    def __init__(self, *kinds: RecordKind):
        self.kinds = kinds

    def named(self, name: str) -> RecordKind:
        for kind in self.kinds:
            if kind.name == name:
                return kind
        raise ValidationFailed("kind: not a record kind of this service; the kinds are "
                               + ", ".join(k.name for k in self.kinds))

    def history(self, app: PinganApplication, vault: PersonalData, call: Call, query: History) -> dict:
        """A page of the record's events: type, changed fields, who (the audit stamp), when, which call."""
        kind = self.named(query.kind)
        record_id = query.record_id
        current = audited_read(AuditTrail(app), call, f"read the history of a {kind.audit_kind}", kind.readers,
                               kind.audit_kind, str(record_id), _purpose(query.purpose),
                               lambda: _found(app, kind, record_id))
        start = (query.page - 1) * query.page_size
        events = app.events.get(record_id, gt=start, limit=query.page_size)
        return {"kind": kind.name, "record_id": str(record_id), "page": query.page, "page_size": query.page_size,
                "total": current.version, "items": [event_entry(event, vault) for event in events]}

    def as_of(self, app: PinganApplication, vault: PersonalData, call: Call, name: str, record_id: UUID,
              moment: int | datetime, purpose: str | None, action: str) -> dict:
        """The record as it stood at ``moment`` (a version, or the last event at or before a time), rebuilt
        from its events; personal fields opened with today's keys (so ``[erased]`` once erased)."""
        kind = self.named(name)
        current = audited_read(AuditTrail(app), call, f"{action} as it stood", kind.readers, kind.audit_kind,
                               str(record_id), purpose, lambda: _found(app, kind, record_id))
        version = moment if isinstance(moment, int) else _version_at(app, record_id, moment)
        if version is None or version > current.version:
            raise NotFound(f"the {kind.audit_kind} {record_id} has no state at {_iso(moment)}")
        return state_of(app.repository.get(record_id, version=version), kind, vault)


def _purpose(purpose: Purpose | None) -> str | None:
    return purpose.value if purpose else None


def _found(app: PinganApplication, kind: RecordKind, record_id: UUID) -> tuple[Any, str, str | None] | None:
    """The record as it is now, for the access decision (None when there is no such record of this kind)."""
    try:
        record = app.repository.get(record_id)
    except AggregateNotFoundError:
        return None
    if not isinstance(record, kind.aggregate):
        return None
    return record, kind.jurisdiction(record), kind.category(record)


def _version_at(app: PinganApplication, record_id: UUID, moment: datetime) -> int | None:
    """The version of the last event at or before ``moment`` (one pass over one record's events)."""
    version = None
    for event in app.events.get(record_id):
        if event.timestamp > moment:
            break
        version = event.originator_version
    return version


def event_entry(event: Any, vault: PersonalData) -> dict:
    """One event as a history line; its sealed fields opened (call only after the access decision)."""
    stamp = getattr(event, "audit", None) or {}
    changes = {name: value for name, value in vars(event).items() if name not in _ENVELOPE}
    return {
        "version": event.originator_version,
        "event": type(event).__name__,
        "at": _iso(event.timestamp),
        "actor_id": stamp.get("actor_id"),
        "role": stamp.get("role"),
        "jurisdiction": stamp.get("jurisdiction"),
        "call_id": stamp.get("call_id"),
        "changes": reveal(changes, vault),
    }


def state_of(record: Any, kind: RecordKind, vault: PersonalData) -> dict:
    """An aggregate's public state as a get result: its id under the service's name for it, the version and
    times, every public attribute, sealed values opened."""
    public = {name: value for name, value in vars(record).items() if not name.startswith("_")}
    return reveal({kind.id_field: record.id, "version": record.version, "created_at": record.created_on,
                   "modified_at": record.modified_on, **public}, vault)


def reveal(value: Any, vault: PersonalData) -> Any:
    """``value`` made JSON-ready, every sealed string in it opened (twice-sealed ones twice)."""
    if isinstance(value, dict):
        return {str(key): reveal(item, vault) for key, item in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):  # a domain's value object
        return reveal(dataclasses.asdict(value), vault)
    if isinstance(value, (list, tuple, set, frozenset)):
        return [reveal(item, vault) for item in value]
    if isinstance(value, (datetime, date)):
        return _iso(value)
    if isinstance(value, UUID):
        return str(value)
    while is_sealed(value):
        value = vault.open(value)
        if value == ERASED:
            break
    return value


def _iso(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat() if isinstance(value, (datetime, date)) else value


# -- who read this person ---------------------------------------------------------


def person_marker(person_id: str) -> str:
    """How a read that names a person (not a record) names them in its audit event."""
    return f"person:{person_id}"


def access_log(app: PinganApplication, call: Call, query: AccessLog,
               records: Iterable[tuple[str, str]]) -> dict:
    """Every audited read that touched ``records`` (the person's (record id, jurisdiction) pairs): who,
    when, why, with what outcome — for an answerer of data-subject requests covering every one of them.

    Only the person's own record ids are shown from each read (a listing also names other people's).
    Cost: one pass over the service's audit events (``AuditTrail.entries``), linear in the log's length;
    fine for a request answered by hand, not for a dashboard.
    """
    trail = AuditTrail(app)
    records = list(records)
    action = "answer a data-subject request"
    named = [person_marker(query.person_id), *(record_id for record_id, _ in records)]
    decision = _answerable(call, action, query.purpose, [jurisdiction for _, jurisdiction in records])
    if not decision.allowed:
        trail.record(call, action, "access log", named, query.purpose.value, DENIED, decision)
        raise Forbidden(decision.reason)
    wanted = frozenset(named)
    reads = [read_entry(entry, wanted) for entry in trail.entries() if wanted.intersection(entry.record_ids)]
    trail.record(call, action, "access log", named, query.purpose.value, ALLOWED, decision)
    start = (query.page - 1) * query.page_size
    return {"person_id": query.person_id, "page": query.page, "page_size": query.page_size, "total": len(reads),
            "items": reads[start:start + query.page_size]}


def _answerable(call: Call, action: str, purpose: Purpose, jurisdictions: list[str]) -> Decision:
    """Allowed when the purpose is a data-subject request and the policy lets the caller answer one for every
    record of the person (a person with no records here: the role alone)."""
    if purpose is not Purpose.DATA_SUBJECT_REQUEST:
        return Decision(False, f"{action}: only for the purpose {Purpose.DATA_SUBJECT_REQUEST.value!r}")
    allowed = call.caller.role in DATA_SUBJECT_ANSWERERS
    decision = Decision(allowed, "allowed" if allowed else f"the role {call.caller.role.value!r} may not {action}")
    for jurisdiction in jurisdictions:
        decision = default_policy().decide(call.caller, action, DATA_SUBJECT_ANSWERERS, jurisdiction,
                                           purpose=purpose.value)
        if not decision.allowed:
            break
    return decision


def read_entry(entry: Any, wanted: frozenset[str]) -> dict:
    stamp = entry.audit or {}
    return {
        "at": _iso(entry.timestamp),
        "actor_id": stamp.get("actor_id"),
        "role": stamp.get("role"),
        "jurisdiction": stamp.get("jurisdiction"),
        "call_id": stamp.get("call_id"),
        "action": entry.action,
        "record_kind": entry.record_kind,
        "records": [record_id for record_id in entry.record_ids if record_id in wanted],
        "purpose": entry.purpose,
        "outcome": entry.outcome,
        "break_glass": entry.break_glass,
        "review": entry.review,
    }

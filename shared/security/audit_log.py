"""Audited reads: every attempt to read a personal record leaves one audit event.

The audit event is stored in the service's own event log (so the hash chain
and the verifier cover it too) and committed in its own transaction *before*
any data is returned. If it cannot be written, the read fails with
AuditUnavailable and returns nothing.

In a query entrypoint::

    trail = AuditTrail(self.store.app)
    return audited_read(trail, call, "read a person", READERS, "person", person_id, query.purpose,
                        load=lambda: (row, row["jurisdiction"], row["category"]) if row else None)

A malformed request (unknown purpose or category) is refused as bad input
before it is an attempt, like an unauthenticated one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from typing import Any
from uuid import UUID

import structlog
from eventsourcing.domain import event
from nameko.exceptions import deserialize_to_instance

from shared.context import Role, acting_as
from shared.errors import Forbidden, NotFound, PinganError
from shared.eventstore import AuditedAggregate, Call, PinganApplication

from .policy import Decision, Policy, _category, _purpose, default_policy

log = structlog.get_logger(__name__)

ALLOWED, DENIED, NOT_FOUND = "allowed", "denied", "not_found"


@deserialize_to_instance
class AuditUnavailable(PinganError):
    """The audit record of a read could not be written, so the read returns nothing."""

    code = "audit_unavailable"


class ReadAudited(AuditedAggregate):
    """One read attempt: who (the event's audit stamp), what, why, and what came of it."""

    wakes_followers = False  # no read model or public event is made from it (shared.eventstore)

    @event("Recorded")
    def __init__(self, action: str, record_kind: str, record_ids: list[str], purpose: str | None,
                 outcome: str, reason: str, break_glass: bool, review: bool):
        self.action = action
        self.record_kind = record_kind
        self.record_ids = record_ids
        self.purpose = purpose
        self.outcome = outcome
        self.reason = reason
        self.break_glass = break_glass
        self.review = review


class AuditTrail:
    def __init__(self, app: PinganApplication):
        self.app = app

    def record(self, call: Call, action: str, record_kind: str, record_ids: list[str], purpose: str | None,
               outcome: str, decision: Decision | None = None) -> UUID:
        """Store and commit one audit event; raise AuditUnavailable if that fails."""
        try:
            with acting_as(call.caller, call.call_id):
                entry = ReadAudited(
                    action=action, record_kind=record_kind, record_ids=list(record_ids), purpose=purpose,
                    outcome=outcome, reason=decision.reason if decision else outcome,
                    break_glass=bool(decision and decision.break_glass), review=bool(decision and decision.review),
                )
            self._store(entry)
        except Exception as error:
            log.error("audit_write_failed", error=type(error).__name__)
            raise AuditUnavailable("the read could not be audited, so nothing is returned; retry later") from None
        return entry.id

    def _store(self, entry: ReadAudited) -> None:
        """The entry's one event stored and committed straight through the recorder (its chain link
        written with it, shared/security/links.py), without the application's save around it."""
        (created,) = entry.collect_events()
        self.app.recorder.insert_events([self.app.mapper.to_stored_event(created)])

    def entries(self) -> Iterator[Any]:
        """Every audit event in the log (for tests and audit exports; services project it)."""
        start = 1
        while True:
            notifications = self.app.recorder.select_notifications(start=start, limit=500)
            if not notifications:
                return
            for notification in notifications:
                if notification.topic.startswith(f"{ReadAudited.__module__}:ReadAudited."):
                    yield self.app.mapper.to_domain_event(notification)
            start = notifications[-1].id + 1


def audited_read(trail: AuditTrail, call: Call, action: str, roles: Collection[Role], record_kind: str,
                 record_id: str, purpose: str | None,
                 load: Callable[[], tuple[Any, str, str | None] | None],
                 policy: Policy | None = None) -> Any:
    """Load a record, decide, audit (committed), then return it — or raise Forbidden/NotFound.

    ``load`` returns (data, jurisdiction, category or None), or None when there is no such record.
    """
    _purpose(purpose)  # malformed input is refused before it counts as an attempt
    found = load()
    if found is None:
        trail.record(call, action, record_kind, [record_id], purpose, NOT_FOUND)
        raise NotFound(f"no {record_kind} with id {record_id}")
    data, jurisdiction, category = found
    _category(category)
    decision = (policy or default_policy()).decide(call.caller, action, roles, jurisdiction, category, purpose)
    trail.record(call, action, record_kind, [record_id], purpose, ALLOWED if decision.allowed else DENIED, decision)
    if not decision.allowed:
        raise Forbidden(decision.reason)
    if decision.review:
        log.warning("break_glass_read", record_kind=record_kind, action=action)
    return data


def audited_list(trail: AuditTrail, call: Call, action: str, roles: Collection[Role], record_kind: str,
                 scope: str, purpose: str | None, load: Callable[[], tuple[Any, list[str]]],
                 category: str | None = None, policy: Policy | None = None) -> Any:
    """A listing of personal records in ``scope``: decide, load, one audit event naming every id returned, return.

    ``load`` returns (result, ids of the records in it). A denied listing is
    audited with the scope alone and loads nothing.
    """
    _purpose(purpose)
    _category(category)
    decision = (policy or default_policy()).decide(call.caller, action, roles, scope, category, purpose)
    if not decision.allowed:
        trail.record(call, action, record_kind, [f"scope:{scope}"], purpose, DENIED, decision)
        raise Forbidden(decision.reason)
    result, ids = load()
    trail.record(call, action, record_kind, [f"scope:{scope}", *ids], purpose, ALLOWED, decision)
    return result

"""The command kit: load → authorise → change → save on an existing record, and the
service's own caller (docs/architecture.md). A new record under an id chosen beforehand
is ``AuditedAggregate.create_with_id`` (shared/eventstore.py).

    REPORT = RecordType(EventReport, "event report", place=lambda r: r.jurisdiction, summary=_summary)

    def close_event(self, call, command):
        return self.change(call, REPORT, command.event_id, "close an event", OFFICERS,
                           lambda report: report.close(), command_id=command.command_id)

Personal fields are sealed inside ``change`` (after the domain's checks); the
key rows of a refused command are never written (``PinganApplication.execute``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from shared.access import authorize
from shared.context import CallerContext, Role
from shared.errors import Forbidden
from shared.eventstore import Call
from shared.relay import SERVICE_JURISDICTION


def _as_is(record: Any, action: str) -> str:
    return action


def _no_category(record: Any) -> None:
    return None


@dataclass(frozen=True)
class RecordType:
    """How commands find one kind of record: its class, its name in errors, where it lies for the
    access policy, and what a command on it returns. ``action_at`` may name the action more
    precisely once the record is loaded (e.g. "at the county tier"). ``category``: the sensitive
    category of a record (shared/security/policy.py), decided with the command's ``purpose``."""

    cls: type
    what: str
    place: Callable[[Any], str]
    summary: Callable[[Any], dict]
    action_at: Callable[[Any, str], str] = _as_is
    category: Callable[[Any], str | None] = _no_category


def require_role(call: Call, action: str, roles: Collection[Role]) -> None:
    """The role is checked before anything is loaded; the jurisdiction once the record names it."""
    if call.caller.role not in roles:
        raise Forbidden(f"the role {call.caller.role.value!r} may not {action}")


class Commands:
    """Mixed into a service's ``PinganApplication``."""

    def change(self: Any, call: Call, record: RecordType, record_id: UUID, action: str, roles: Collection[Role],
               change: Callable[[Any], Any], *, command_id: str | None = None, purpose: str | None = None) -> dict:
        """Role first, then load, then the record's own jurisdiction, then ``change`` (domain checks,
        then sealing), saved once; returns the record's summary and whatever ``change`` adds. A list
        ``change`` returns holds further records changed with it (a plan ended with its case)."""
        require_role(call, action, roles)

        def act() -> tuple[list, dict]:
            found = self.load(record.cls, record_id, record.what)
            authorize(call.caller, record.action_at(found, action), roles, record.place(found),
                      record.category(found), purpose)
            extra = change(found)  # a dict it returns is added to the result; a list, saved with the record
            others = extra if isinstance(extra, list) else []
            return [found, *others], {**record.summary(found), **(extra if isinstance(extra, dict) else {})}

        return self.execute(call, act, command_id)


def service_call(service: str, call_id: str) -> Call:
    """The service acting on its own behalf (timers), across the whole prefecture it serves."""
    caller = CallerContext(actor_id=f"service:{service}", role=Role.SERVICE, jurisdiction=SERVICE_JURISDICTION)
    return Call(caller=caller, call_id=call_id)


__all__ = ["Commands", "RecordType", "require_role", "service_call"]

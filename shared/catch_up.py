"""Catch-up: a service's public events read back from its log, for a subscriber that was
down or started late (docs/integration.md, "Catching up").

The messages are the ones the relay publishes — the same envelopes, made by the same
contracts, with the same signature headers — in notification-id order; a client keeps the
last ``notification_id`` it handled and asks again from there. Ordering: per service by
notification id, per record by ``aggregate_version``.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from .access import authorize
from .context import Role
from .contracts import Contracts
from .eventstore import Call
from .relay import envelope_for
from .security.event_signing import EventSigner
from .security.policy import Category
from .validation import ExactInput

SENSITIVE = frozenset(Category)

# Whoever may subscribe to public events may read them back; a person's jurisdiction still
# bounds which they get (events carry the jurisdiction they lie in).
EVENT_READERS = frozenset(Role) - {Role.SERVICE}


class EventsSince(ExactInput):
    model_config = ConfigDict(extra="forbid", frozen=True)

    position: int = Field(default=0, ge=0, description="the last notification_id already handled (0: from the start)")
    limit: int = Field(default=100, ge=1, le=500, description="at most this many log entries are read")


def events_since(service: str, store: Any, call: Call, query: EventsSince, category: str | None = None) -> dict:
    """``{"items": [{"body": envelope, "headers": signature headers}], "position": last read,
    "more": whether the log goes on}`` for the service whose ``Store`` is ``store``. Log entries
    that publish nothing still move ``position``."""
    authorize(call.caller, "read public events", EVENT_READERS, call.caller.jurisdiction)
    if store.relay is None:  # a service that publishes nothing
        return {"items": [], "position": query.position, "more": False}
    return _read(service, store.app, store.contracts, store.publisher.signer, call, query, category)


def _read(service: str, app: Any, contracts: Contracts, signer: EventSigner, call: Call, query: EventsSince,
          category: str | None) -> dict:
    notifications = app.recorder.select_notifications(start=query.position + 1, limit=query.limit)
    items = []
    for notification in notifications:
        domain_event = app.mapper.to_domain_event(notification)
        for event_type, payload in contracts.public_events(domain_event):
            envelope = envelope_for(service, notification, domain_event, event_type, payload)
            if not _visible(call, envelope.data, category):
                continue
            body = envelope.model_dump(mode="json")
            items.append({"body": body, "headers": signer.headers(body)})
    position = notifications[-1].id if notifications else query.position
    return {"items": items, "position": position, "more": len(notifications) == query.limit}


def _visible(call: Call, data: dict, service_category: str | None) -> bool:
    """Within the caller's jurisdiction, when the event names one (the service and the prefecture see all),
    and, for a sensitive category (every event of a service that declares one, or an event naming one),
    only to a caller who serves it: that a person is in a category is itself sensitive."""
    named = data.get("category")
    category = service_category or (named if named in SENSITIVE else None)
    if category is not None and category not in call.caller.categories:
        return False
    where = data.get("jurisdiction") or data.get("county")
    return where is None or call.caller.covers(str(where))

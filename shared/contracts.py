"""Public events: the envelope every relayed event travels in, and the contract
registry each service's ``contracts.py`` fills.

A service's domain events are private; only what its contracts map to a
versioned payload leaves the service. Consumers validate the payload against
the same schema.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from .errors import ValidationFailed
from .validation import parse


class Payload(BaseModel):
    """Base of every public payload: versioned, closed to unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: int = 1


class Envelope(BaseModel):
    """What the relay publishes. ``notification_id`` with ``source`` and
    ``event_type`` identifies the message for consumers' inbox records."""

    model_config = ConfigDict(extra="forbid")

    source: str
    event_type: str
    schema_version: int
    notification_id: int
    aggregate_id: str
    aggregate_version: int
    occurred_at: datetime
    audit: dict
    data: dict


@dataclass
class Contracts:
    """The public events of one service: which domain events produce which payloads."""

    service: str
    schemas: dict[str, type[Payload]] = field(default_factory=dict)
    _mappers: dict[type, list[Callable[[Any], Iterable[tuple[str, Payload]]]]] = field(
        default_factory=dict
    )

    @classmethod
    def declaring(cls, service: str, published: dict[str, type[Payload]]) -> Contracts:
        """The registry of ``service``'s public events (its public contract's ``PUBLISHED`` table),
        ready for the service's private mappers (``publishing.py``, docs/architecture.md)."""
        registry = cls(service)
        for event_type, schema in published.items():
            registry.publishes(event_type, schema)
        return registry

    def publishes(self, event_type: str, schema: type[Payload]) -> None:
        self.schemas[event_type] = schema

    def maps(self, domain_event_class: type) -> Callable:
        """Decorator: a function from a domain event to (event_type, payload) pairs."""

        def register(function: Callable[[Any], Iterable[tuple[str, Payload]]]) -> Callable:
            self._mappers.setdefault(domain_event_class, []).append(function)
            return function

        return register

    def public_events(self, domain_event: Any) -> list[tuple[str, Payload]]:
        found: list[tuple[str, Payload]] = []
        for event_class, mappers in self._mappers.items():
            if isinstance(domain_event, event_class):
                for mapper in mappers:
                    for event_type, payload in mapper(domain_event):
                        if event_type not in self.schemas:
                            raise LookupError(f"{self.service} publishes undeclared event {event_type!r}")
                        found.append((event_type, payload))
        return found


def open_envelope(raw: Any, schema: type[Payload]) -> tuple[Envelope, Payload]:
    """Validate a received message; a malformed one raises ValidationFailed."""
    envelope = parse(Envelope, raw)
    if envelope.schema_version != schema.model_fields["schema_version"].default:
        raise ValidationFailed(
            f"{envelope.source}.{envelope.event_type} schema version {envelope.schema_version} "
            "is not one this service reads"
        )
    return envelope, parse(schema, envelope.data)


def message_key(envelope: Envelope) -> str:
    """The consumer's inbox key for this message (``PinganApplication.execute(inbox=...)``).

    Keyed by source and event type as well as position, since one stored event
    may be published as more than one public event. Per message, not a
    high-water mark: a consumer sees messages out of order (docs/architecture.md).
    """
    return f"{envelope.source}.{envelope.event_type}:{envelope.notification_id}"

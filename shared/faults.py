"""Telling infrastructure failures (a database or broker out of reach) from defects.

An infrastructure failure is retryable: callers get ``ServiceUnavailable`` with a short
message, consumers back off before the message is tried again (docs/reliability.md).
"""

from __future__ import annotations

import random

import amqp.exceptions
import kombu.exceptions
import psycopg2
import sqlalchemy.exc
from eventsourcing import persistence

from .errors import ServiceUnavailable

_INFRASTRUCTURE = (
    persistence.OperationalError,
    persistence.InterfaceError,
    persistence.ConnectionUnavailableError,
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,
    # The driver's own, where a raw connection bypasses SQLAlchemy's wrapping (its pool's connect).
    psycopg2.OperationalError,
    psycopg2.InterfaceError,
    kombu.exceptions.OperationalError,
    amqp.exceptions.ConnectionError,
    amqp.exceptions.RecoverableConnectionError,
    ConnectionError,
    TimeoutError,
)

# Consumers' bounded exponential backoff before a message goes back to the queue.
BACKOFF_FIRST = 0.5
BACKOFF_LIMIT = 30.0


def is_infrastructure(error: BaseException) -> bool:
    """True for a lost or refused connection to the database or broker, however wrapped."""
    seen = 0
    current: BaseException | None = error
    while current is not None and seen < 10:
        if isinstance(current, _INFRASTRUCTURE):
            return True
        if isinstance(current, sqlalchemy.exc.DBAPIError) and current.connection_invalidated:
            return True
        current = current.__cause__ or current.__context__
        seen += 1
    return False


def unavailable(service: str) -> ServiceUnavailable:
    return ServiceUnavailable(f"{service} cannot reach its database or broker just now; "
                              "retry later with the same command_id")


def backoff_delay(failures: int) -> float:
    """Seconds to wait after ``failures`` consecutive failures: doubling, bounded, jittered."""
    delay = min(BACKOFF_LIMIT, BACKOFF_FIRST * 2 ** max(failures - 1, 0))
    return delay * random.uniform(0.5, 1.0)

"""Typed errors that cross RPC as the same types.

nameko serialises an exception as its dotted path and args; registering each
class with ``deserialize_to_instance`` makes a Python caller get the same type
back instead of a generic RemoteError. Other callers see ``exc_type`` (the
class name) and the message.
"""

from __future__ import annotations

from typing import Any

from nameko.exceptions import deserialize_to_instance


class PinganError(Exception):
    """Base of every error the platform raises on purpose."""

    code = "error"
    retryable = False  # whether the same call may simply be sent again later (docs/integration.md, "Errors")

    def __init__(self, message: str, details: Any = None):
        super().__init__(message, details)
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return self.message


@deserialize_to_instance
class ValidationFailed(PinganError):
    """The payload is malformed: missing fields, wrong types, bad codes, oversize text."""

    code = "validation_failed"


@deserialize_to_instance
class NotFound(PinganError):
    """The named record does not exist."""

    code = "not_found"


@deserialize_to_instance
class Unauthenticated(PinganError):
    """The call carries no valid caller token."""

    code = "unauthenticated"


@deserialize_to_instance
class Forbidden(PinganError):
    """The caller may not do this: wrong role, or outside their jurisdiction."""

    code = "forbidden"


@deserialize_to_instance
class Conflict(PinganError):
    """The record changed underneath the command, or already exists."""

    code = "conflict"


@deserialize_to_instance
class InvalidTransition(PinganError):
    """The command is not allowed in the record's current state."""

    code = "invalid_transition"


@deserialize_to_instance
class ReadModelStalled(PinganError):
    """The read model this query needs cannot follow the log (an event it cannot apply, or
    tables of a shape this build does not know); the write path and other read models go on."""

    code = "read_model_stalled"
    retryable = True


@deserialize_to_instance
class ServiceUnavailable(PinganError):
    """A database or the broker is out of reach for now; retry later with the same command id.

    The message names neither SQL, parameters nor tables (docs/reliability.md)."""

    code = "service_unavailable"
    retryable = True


EXPECTED_ERRORS = (PinganError,)

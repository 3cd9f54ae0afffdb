"""Typed errors as HTTP answers: a status and an RFC 9457 ``application/problem+json`` body.

The mapping is by error type name, the ``exc_type`` a service's reply carries, so it holds for
every error a service raises whether or not its class is imported here. Every ``PinganError``
type has a row with its own code (tests/unit/test_integration_doc.py); anything else is a 500 or, for nameko's own
"no such service", a 503. A body carries the type, title, status, the service's message (which never
repeats a caller's values, shared/validation.py) and the error code; never a stack or SQL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Response

PROBLEM_TYPE = "urn:pingan:problem:{code}"
MEDIA_TYPE = "application/problem+json"
RETRY_AFTER_SECONDS = 5


@dataclass(frozen=True)
class HttpError:
    status: int
    code: str  # the error's own code (shared/errors.py), kept here so a type this process never imported keeps it
    title: str


# exc_type -> how it answers over HTTP (docs/integration.md, "Errors").
STATUSES: dict[str, HttpError] = {
    "ValidationFailed": HttpError(422, "validation_failed", "The request is not valid"),
    "ResidentIdNotAllowed": HttpError(422, "resident_id_not_allowed", "An id has the shape of a resident ID number"),
    "TokenTooLong": HttpError(422, "token_too_long", "The token asked for would outlive its role's cap"),
    "Unauthenticated": HttpError(401, "unauthenticated", "No valid credential"),
    "EventRefused": HttpError(401, "event_refused", "An event's signature does not hold"),
    "Forbidden": HttpError(403, "forbidden", "Not allowed for this caller"),
    "NotFound": HttpError(404, "not_found", "No such record"),
    "Conflict": HttpError(409, "conflict", "Conflicts with what is stored"),
    "InvalidTransition": HttpError(409, "invalid_transition", "Not allowed in the record's current state"),
    "ReadModelStalled": HttpError(503, "read_model_stalled", "The read model cannot follow the log"),
    "ServiceUnavailable": HttpError(503, "service_unavailable", "Out of reach for now"),
    "UnknownService": HttpError(503, "service_unavailable", "The service is not running"),
    "PersonalDataUnavailable": HttpError(500, "personal_data_unavailable", "Sealed data cannot be opened"),
    "AuditUnavailable": HttpError(500, "audit_unavailable", "The read could not be audited"),
    "MissingSecret": HttpError(500, "missing_secret", "A process lacks a key it needs"),
    "ChainConfigError": HttpError(500, "chain_config", "Audit keys or checkpoints unusable"),
    "DeadLetter": HttpError(500, "dead_letter", "A message was parked for an operator"),
    # Only the gateway itself answers with these: the body as such cannot be read.
    "MalformedBody": HttpError(400, "malformed_body", "The body is not a JSON object"),
    "BodyTooLarge": HttpError(413, "body_too_large", "The body is too large"),
    "UnsupportedMediaType": HttpError(415, "unsupported_media_type", "The body must be application/json"),
}
INTERNAL = HttpError(500, "internal", "Internal error")
RETRYABLE_STATUSES = frozenset({503})



def problem(exc_type: str, code: str, detail: str, errors: Any = None) -> Response:
    """The HTTP answer for a refusal of type ``exc_type``."""
    mapped = STATUSES.get(exc_type, INTERNAL)
    body: dict[str, Any] = {"type": PROBLEM_TYPE.format(code=code), "title": mapped.title, "status": mapped.status,
                            "detail": detail, "code": code}
    if isinstance(errors, list):
        body["errors"] = errors  # field names and rules, as the service made them safe to return
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if mapped.status in RETRYABLE_STATUSES else {}
    if mapped.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="pingan"'
    return Response(json.dumps(body), status=mapped.status, headers=headers, content_type=MEDIA_TYPE)


def from_exception(error: BaseException) -> Response:
    """The answer for whatever a forwarded call or the gateway raised."""
    from nameko.exceptions import RemoteError, UnknownService

    from shared.errors import PinganError

    if isinstance(error, PinganError):
        return problem(type(error).__name__, error.code, error.message, error.details)
    if isinstance(error, RemoteError):  # a typed error whose class this process has not imported
        name = error.exc_type
        if name in STATUSES:
            return problem(name, STATUSES[name].code, str(error.value))
        return problem("", "internal", "the service failed; the call may be retried later")
    if isinstance(error, UnknownService):
        return problem("UnknownService", "service_unavailable", "the service is not running; retry later")
    return problem("", "internal", "the gateway failed; the call may be retried later")


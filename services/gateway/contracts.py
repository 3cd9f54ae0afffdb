"""What the gateway takes and answers over HTTP, beside the services' own contracts it forwards.

The request bodies and query parameters are the services' models (services/*/contracts), so the
OpenAPI document (docs/contracts/gateway/openapi.json) and the services validate the same shapes.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.errors import ValidationFailed

MAX_BODY_BYTES = 64 * 1024  # a report's longest text is 4,000 characters; more is not a report
IDEMPOTENCY_KEY = "Idempotency-Key"


class MalformedBody(ValidationFailed):
    """The body is not JSON, not UTF-8, or not an object (HTTP only)."""

    code = "malformed_body"


class BodyTooLarge(ValidationFailed):
    """The body is longer than the gateway reads (HTTP only)."""

    code = "body_too_large"


class UnsupportedMediaType(ValidationFailed):
    """The body is not declared ``application/json`` (HTTP only)."""

    code = "unsupported_media_type"


class Problem(BaseModel):
    """An RFC 9457 problem: every refused request's body (``application/problem+json``)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="urn:pingan:problem:<code>; the error catalogue in docs/integration.md")
    title: str
    status: int
    detail: str = Field(description="what was wrong; never repeats a value the caller sent")
    code: str = Field(description="the error code, as over AMQP")
    errors: list[dict[str, Any]] | None = Field(default=None, description="each bad field and why (validation)")


class EventsPage(BaseModel):
    """A page of a service's public events, as the relay publishes them (docs/integration.md, "Catching up")."""

    items: list[dict[str, Any]] = Field(description='{"body": <envelope>, "headers": <signature headers>}')
    position: int = Field(description="the last notification_id read: ask again from here")
    more: bool

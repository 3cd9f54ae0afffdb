"""Turning payloads into typed commands, with one clear error for bad input."""

from __future__ import annotations

import re
from typing import Annotated, Any, Iterator, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from .errors import ValidationFailed

M = TypeVar("M", bound=BaseModel)

# Generous for a description, small enough to refuse abuse.
LONG_TEXT = 4000
SHORT_TEXT = 200

# Control characters (C0 but tab and newline, DEL, C1) and lone surrogates: no field of any
# command or event may hold them. PostgreSQL text cannot store NUL, and the others only hide
# or forge text in logs and screens (docs/reliability.md).
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


class Command(BaseModel):
    """Base of every command payload. ``command_id`` makes it idempotent."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    command_id: str | None = Field(default=None, min_length=1, max_length=100)


class Query(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    page: int = Field(default=1, ge=1, le=100_000)
    page_size: int = Field(default=50, ge=1, le=500)


def parse(model: type[M], payload: Any) -> M:
    """Validate ``payload`` as ``model`` or raise ValidationFailed.

    The message names each bad field and why, but never echoes the values:
    they may be personal data.
    """
    if not isinstance(payload, dict):
        raise ValidationFailed(f"{model.__name__}: expected an object of named fields")
    bad = [{"field": field, "problem": "contains a control character"} for field in _control_characters(payload)]
    if bad:
        summary = "; ".join(f"{p['field']}: {p['problem']}" for p in bad)
        raise ValidationFailed(f"{model.__name__}: {summary}", bad)
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        problems = [
            {"field": ".".join(str(part) for part in item["loc"]) or "(payload)", "problem": item["msg"]}
            for item in error.errors()
        ]
        summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        raise ValidationFailed(f"{model.__name__}: {summary}", problems) from None


def _control_characters(value: Any, path: str = "") -> Iterator[str]:
    """The path of every string (or key) in ``value`` that holds a forbidden character."""
    if isinstance(value, str):
        if _FORBIDDEN.search(value):
            yield path or "(payload)"
    elif isinstance(value, dict):
        for key, item in value.items():
            name = str(key)
            if _FORBIDDEN.search(name):
                yield f"{path}.(key)" if path else "(key)"
                continue
            yield from _control_characters(item, f"{path}.{name}" if path else name)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _control_characters(item, f"{path}.{index}" if path else str(index))


# -- field types every contract uses (docs/architecture.md, "Shared names and field types") --
# Patterns spell their alphabet in ASCII ranges: \d and \w would also take other scripts'
# digits and letters (full-width "１２３"), which no id or code here contains.

Text = Annotated[str, StringConstraints(min_length=1, max_length=SHORT_TEXT)]
"""A name, a place, a title: 1-200 characters of any script."""

LongText = Annotated[str, StringConstraints(min_length=1, max_length=LONG_TEXT)]
"""A description, a note, findings: 1-4000 characters of any script."""

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_.-]+$")]
"""An id another system chose (a person, a worker, a mediator): 1-64 ASCII letters, digits,
'_', '.' or '-' (the alphabet of the vault's person ids)."""

Slug = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
"""A code a person types and reads (a unit, a checklist step): 1-50 lower-case ASCII letters,
digits, '_' or '-', starting with a letter or digit."""

ResidentIdNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]{17}[0-9X]$")]
"""A resident identity card number (GB 11643): 17 ASCII digits and a check digit or 'X'."""

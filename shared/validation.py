"""Turning payloads into typed commands, with one clear error for bad input."""

from __future__ import annotations

import re
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import PinganError, ValidationFailed

M = TypeVar("M", bound=BaseModel)

# Generous for a description, small enough to refuse abuse.
LONG_TEXT = 4000
SHORT_TEXT = 200


# A number given as text: ASCII digits only, the whole string (pydantic alone takes " 12", "1_2", "12\n").
_NUMBER = re.compile(r"-?[0-9]{1,30}(?:\.[0-9]{1,30})?")


def _numeric(annotation: Any) -> bool:
    """int, float, or an optional one (not a union that also takes text, such as int | datetime)."""
    if annotation in (int, float):
        return True
    options = [arg for arg in get_args(annotation) if arg is not type(None)]
    return bool(options) and all(_numeric(arg) for arg in options)


class ExactInput(BaseModel):
    """Numbers given as text must be plain ASCII digits (see _NUMBER)."""

    @model_validator(mode="before")
    @classmethod
    def _ascii_numbers(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, field in cls.model_fields.items():
                value = data.get(field.alias or name)
                if isinstance(value, str) and _numeric(field.annotation) and not _NUMBER.fullmatch(value):
                    raise ValueError(f"{name}: a number is written with ASCII digits only")
        return data


class Command(ExactInput):
    """Base of every command payload. ``command_id`` makes it idempotent."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    command_id: str | None = Field(default=None, min_length=1, max_length=100)


class Query(ExactInput):
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
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        problems = [
            {"field": _safe(".".join(str(part) for part in item["loc"]) or "(payload)", payload),
             "problem": _safe(item["msg"], payload)}
            for item in error.errors()[:MAX_PROBLEMS]
        ]
        summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        raise ValidationFailed(f"{model.__name__}: {summary}", problems) from None


MAX_PROBLEMS = 20
MAX_MESSAGE = 500
# A value this short and plain may be named in an error (a category, a level); any other is not.
_ECHOABLE = re.compile(r"[A-Za-z_.-][A-Za-z0-9_.-]{0,11}")


def _leaves(value: Any, depth: int = 0) -> list[str]:
    if depth > 8:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in (*_leaves(key, depth + 1), *_leaves(item, depth + 1))]
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _leaves(item, depth + 1)]
    return []


def _safe(message: str, payload: Any) -> str:
    """``message`` with every value from ``payload`` it repeats replaced, and cut short.

    Messages name fields and rules; a value may be personal data (a name and
    ID number typed into a code field) or huge, so it never travels back to
    the caller or into a log, except a short plain word such as a category.
    """
    for leaf in sorted(set(_leaves(payload)), key=len, reverse=True):
        if len(leaf) < 3 or _ECHOABLE.fullmatch(leaf):
            continue
        for form in (repr(leaf), leaf, repr(leaf)[1:-1]):
            message = message.replace(form, f"<value of {len(leaf)} characters>")
    return message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE] + "…"


def scrubbed(error: PinganError, payload: Any) -> PinganError:
    """``error`` with its message and details made safe to return and log (see _safe)."""
    error.message = _safe(error.message, payload)
    if error.details is not None and not isinstance(error.details, (int, float, bool)):
        error.details = _safe_details(error.details, payload)
    error.args = (error.message, error.details)
    return error


def _safe_details(details: Any, payload: Any) -> Any:
    if isinstance(details, str):
        return _safe(details, payload)
    if isinstance(details, dict):
        return {key: _safe_details(value, payload) for key, value in details.items()}
    if isinstance(details, (list, tuple)):
        return [_safe_details(value, payload) for value in details]
    return details

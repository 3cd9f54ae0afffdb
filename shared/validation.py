"""Turning payloads into typed commands, with one clear error for bad input."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Annotated, Any, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from .errors import PinganError, ValidationFailed

M = TypeVar("M", bound=BaseModel)

# Generous for a description, small enough to refuse abuse.
LONG_TEXT = 4000
SHORT_TEXT = 200

# Control characters (C0 but tab and newline, DEL, C1) and lone surrogates: no field of any
# command or event may hold them. PostgreSQL text cannot store NUL, and the others only hide
# or forge text in logs and screens (docs/reliability.md).
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


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
    known = field_names(model)
    bad = [{"field": _safe(field, payload, known), "problem": "contains a control character"}
           for field in list(_control_characters(payload))[:MAX_PROBLEMS]]
    if bad:
        summary = "; ".join(f"{p['field']}: {p['problem']}" for p in bad)
        raise ValidationFailed(f"{model.__name__}: {summary}", bad)
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        problems = [
            {"field": _safe(".".join(str(part) for part in item["loc"]) or "(payload)", payload, known),
             "problem": _safe(item["msg"], payload, known)}
            for item in error.errors()[:MAX_PROBLEMS]
        ]
        summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        raise ValidationFailed(f"{model.__name__}: {summary}", problems) from None


@lru_cache(maxsize=1024)
def field_names(model: type[BaseModel]) -> frozenset[str]:
    """The names of ``model``'s fields and of the fields of every model nested in it (a list of parties,
    a warning's info): an error may name them, however long (``_safe``)."""
    names: set[str] = set()
    for name, field in model.model_fields.items():
        names.update({name, field.alias} - {None})  # type: ignore[arg-type]
        names.update(*(field_names(nested) for nested in _nested_models(field.annotation)))
    return frozenset(names)


def _nested_models(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in get_args(annotation):
        yield from _nested_models(arg)


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


def _safe(message: str, payload: Any, known: frozenset[str] = frozenset()) -> str:
    """``message`` with every value from ``payload`` it repeats replaced, and cut short.

    Messages name fields and rules; a value may be personal data (a name and
    ID number typed into a code field) or huge, so it never travels back to
    the caller or into a log, except a short plain word such as a category.
    """
    for leaf in sorted(set(_leaves(payload)), key=len, reverse=True):
        if len(leaf) < 3 or _ECHOABLE.fullmatch(leaf) or leaf in known:  # known: the model's own field names
            continue
        for form in (repr(leaf), leaf, repr(leaf)[1:-1]):
            message = message.replace(form, f"<value of {len(leaf)} characters>")
    return message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE] + "…"


def scrubbed(error: PinganError, payload: Any, known: frozenset[str] = frozenset()) -> PinganError:
    """``error`` with its message and details made safe to return and log (see _safe); ``known``:
    the command's own field names, which may be named."""
    error.message = _safe(error.message, payload, known)
    if error.details is not None and not isinstance(error.details, (int, float, bool)):
        error.details = _safe_details(error.details, payload, known)
    error.args = (error.message, error.details)
    return error


def _safe_details(details: Any, payload: Any, known: frozenset[str]) -> Any:
    if isinstance(details, str):
        return _safe(details, payload, known)
    if isinstance(details, dict):
        return {key: _safe_details(value, payload, known) for key, value in details.items()}
    if isinstance(details, (list, tuple)):
        return [_safe_details(value, payload, known) for value in details]
    return details


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

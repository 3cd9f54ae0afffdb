"""The personal-data kit a domain uses: the sealed-value format, the plaintext
guard, and the rule on person ids (docs/architecture.md, "Sealing personal fields").

Importing nothing from the vault, the database or the broker, so a domain may
use it. A service:

- declares its personal fields once (``PersonalFields``: per stored event, the
  fields that hold personal data; per read model, the sealed columns);
- seals them in the application through the ``Seal`` it is handed, inside the
  command's ``act`` and after the domain's checks (``PinganApplication.execute``
  writes a new key row only once ``act`` has returned, so a refused command
  stores no key either);
- has its domain refuse plaintext with ``require_sealed``;
- opens sealed columns only after the access decision (``shared.queries``).

The format, ``pii1:<subject>:<base64>``, is read here and in the vault only.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, overload

from nameko.exceptions import deserialize_to_instance

from shared.errors import ValidationFailed

PREFIX = "pii1"


class Seal(Protocol):
    """Seals a personal field under a subject's key; None stays None."""

    @overload
    def __call__(self, person_id: str, value: str, /) -> str: ...
    @overload
    def __call__(self, person_id: str, value: None, /) -> None: ...
    @overload
    def __call__(self, person_id: str, value: str | None, /) -> str | None: ...


# Destroys a subject's key; True if there was one.
Erase = Callable[[str], bool]


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX + ":")


def sealed_under(value: object) -> str | None:
    """The key subject a sealed value was sealed under (None for anything else)."""
    return value.split(":", 2)[1] if is_sealed(value) else None  # type: ignore[union-attr]


def require_sealed(key_subject: str, /, **fields: object) -> None:
    """Refuse a personal field that is not sealed under ``key_subject`` (None means absent):
    plaintext, or a value sealed for someone else, never reaches an event. Positional-only, so a
    field may itself be called ``subject``."""
    for name, value in fields.items():
        if value is not None and sealed_under(value) != key_subject:
            raise ValidationFailed(
                f"the personal field {name!r} must be sealed under {key_subject} before it is recorded",
                {"field": name})


def refuse_plaintext(aggregates: Iterable[Any], personal: Mapping[type, tuple[str, ...]]) -> None:
    """Refuse, before anything is stored, a new event whose declared personal field is not sealed."""
    if not personal:
        return
    for aggregate in aggregates:
        for pending in aggregate.pending_events:
            for name in personal.get(type(pending), ()):
                value = getattr(pending, name, None)
                if value is not None and not is_sealed(value):
                    raise ValidationFailed(f"the personal field {name!r} must be sealed before it is recorded",
                                           {"field": name})


# -- subjects a command makes ------------------------------------------------------------

_made: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar("pingan_subjects_made", default=None)


def made_here(subject: str) -> str:
    """``subject``, noted as made by the running command (the key subject of a record it creates under a
    new id), so sealing does not look its key up before making one; a key found there all the same
    (an erased subject's tombstone, a concurrent creation) makes the command run again with a look-up."""
    made = _made.get()
    if made is not None:
        made.add(subject)
    return subject


def made_here_now(subject: str) -> bool:
    made = _made.get()
    return made is not None and subject in made


@contextmanager
def collecting_made_subjects() -> Iterator[None]:
    token = _made.set(set())
    try:
        yield
    finally:
        _made.reset(token)


# -- person ids are opaque --------------------------------------------------------------

# A resident ID number (GB 11643): 17 digits and a check character (digit or X), or the
# 15 digits of the first-generation card. \d on purpose: full-width digits typed for an
# ID number are refused as one too.
_RESIDENT_ID = re.compile(r"\d{17}[\dXxＸｘ]|\d{15}")
# A key subject: what the vault keys a person or a record's text by (ASCII only).
_SUBJECT = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def looks_like_resident_id(value: object) -> bool:
    """Shaped like a resident ID number: 17 digits and a check character, or the old 15 digits.
    The GB 11643 check character is not tested: a mistyped number still identifies a person,
    and a rule by shape alone refuses every such id alike."""
    return isinstance(value, str) and _RESIDENT_ID.fullmatch(value) is not None


@deserialize_to_instance
class ResidentIdNotAllowed(ValidationFailed):
    """A person id, or another record key, has the shape of a resident ID number."""

    code = "resident_id_not_allowed"


def check_opaque_id(value: object, field_name: str = "person_id") -> str:
    """``value`` unless it is shaped like a resident ID number: ids are keys, stored in plain
    beside sealed fields, in key tables and views, so they must not identify anyone by themselves."""
    if looks_like_resident_id(value):
        raise ResidentIdNotAllowed(
            f"{field_name} looks like a resident ID number; use the person's opaque id (docs/security.md)",
            {"field": field_name})
    if not isinstance(value, str):
        raise ValidationFailed(f"{field_name} must be text", {"field": field_name})
    return value


def check_person_id(subject: object) -> str:
    """A vault key subject: 1-64 ASCII letters, digits, '.', '_' or '-'."""
    if not isinstance(subject, str) or not _SUBJECT.fullmatch(subject):
        raise ValidationFailed("a person id is 1-64 letters, digits, '.', '_' or '-'")
    return subject


# -- declaring personal fields ----------------------------------------------------------


@dataclass(frozen=True)
class PersonalFields:
    """One service's declaration of where personal data lives.

    ``events``: per stored event class, the fields that hold personal data
    (sealed when stored; never published, logged or a metric label).
    ``columns``: the read-model columns that hold sealed values, opened for a
    permitted reader only. ``twice``: columns sealed under two keys, each with the
    start of its outer subject (e.g. ``"family."``): opened twice when so sealed.
    """

    events: Mapping[type, tuple[str, ...]] = field(default_factory=dict)
    columns: tuple[str, ...] = ()
    twice: Mapping[str, str] = field(default_factory=dict)

    def fields_of(self, event: object) -> tuple[str, ...]:
        return self.events.get(type(event), ())

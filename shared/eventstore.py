"""The event store every service writes through.

An eventsourcing Application configured from the environment (PostgreSQL or
SQLite through SQLAlchemy, or in memory for unit tests); aggregates whose
events all carry who, where and why; and idempotent command execution.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, overload
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import RecordConflictError
from tenacity import retry, retry_if_exception_type, stop_after_attempt

from .context import CallerContext, acting_as, current_audit
from .errors import Conflict, NotFound
from .security.personal_data import KeyRaced, keys_on_commit
from .security.sealing import refuse_plaintext


@dataclass(frozen=True)
class Call:
    """One verified call: who is calling, and the id that correlates its effects.

    ``method`` and ``payload_digest`` name what was asked, so a command id is
    scoped to its caller and method and bound to its payload (see ``CommandRecord``).
    """

    caller: CallerContext
    call_id: str | None = None
    method: str = ""
    payload_digest: str = ""


def payload_digest(payload: dict) -> str:
    """A digest of a command's arguments, the command id itself left out."""
    canonical = {key: value for key, value in payload.items() if key != "command_id"}
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class AuditedAggregate(Aggregate):
    """An aggregate whose every event records actor, role, jurisdiction and call id.

    The values come from the call being executed (``acting_as``), never from
    command arguments; an event made outside a call is a programming error.
    """

    class Event(Aggregate.Event):
        audit: dict

    class Created(Event, Aggregate.Created):
        pass

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        kwargs["audit"] = current_audit()
        super().trigger_event(event_class, **kwargs)

    # The one use of the library's private API: every created event, however the aggregate is
    # made (calling the class goes through ``_create`` too), must carry the audit stamp, and
    # eventsourcing has no public hook for adding a field to a created event.
    @classmethod
    def _create(cls, event_class: Any, **kwargs: Any) -> Any:
        kwargs["audit"] = current_audit()
        return super()._create(event_class, **kwargs)

    @classmethod
    def create_with_id(cls, created: Any, id: UUID, **fields: Any) -> Any:  # noqa: A002 (eventsourcing's name)
        """A new aggregate under an id chosen beforehand: derived from a natural key, or made first
        so the record's text can be sealed under it. eventsourcing takes a given id only through
        ``_create`` (or an ``id`` parameter on ``__init__``, which would change stored events);
        this is the one place that calls it."""
        return cls._create(created, id=id, **fields)


def stable_id(kind: str, key: str) -> UUID:
    """A deterministic aggregate id, for records named by a natural key (codes, command ids)."""
    return uuid5(NAMESPACE_URL, f"pingan:{kind}:{key}")


class CommandRecord(AuditedAggregate):
    """The first result of a command sent with a ``command_id``.

    Saved in the same transaction as the command's own events, so a repeated
    command finds it and returns the same result without storing anything.
    Keyed by the id alone and remembering who asked (actor, role,
    jurisdiction), the method and a digest of the arguments: only the same
    call repeated gets the first result back; the id reused by anyone else,
    for another method or with other arguments is a Conflict, never another
    caller's answer.
    """

    @staticmethod
    def scope(call: Call, command_id: str) -> str:
        caller = call.caller
        return "\x1f".join((caller.actor_id, caller.role.value, caller.jurisdiction, call.method, command_id))

    @staticmethod
    def create_id(command_id: str) -> UUID:
        return stable_id("command", command_id)

    @event("Recorded")
    def __init__(self, scope: str, command_id: str, payload_digest: str, result: dict):
        self.scope = scope
        self.command_id = command_id
        self.payload_digest = payload_digest
        self.result = result


class InboxRecord(AuditedAggregate):
    """One consumed message: (source, event type, notification id).

    Saved in the same transaction as the message's effect. Its id is derived
    from the message, so a second delivery (any order, any replica) collides
    on the same aggregate's first version and is recognised as done; the
    events table's (originator id, version) key is the unique constraint.
    """

    @staticmethod
    def create_id(message_key: str) -> UUID:
        return stable_id("inbox", message_key)

    @event("Consumed")
    def __init__(self, message_key: str):
        self.message_key = message_key


class PinganApplication(Application):
    """Base of every service's application: get → act → save, on behalf of a call.

    ``name`` is pinned by each service: it names the tables
    (``<name>_events``, ``<name>_tracking``), so renaming a class renames nothing.
    """

    name = "pingan"
    # The service's personal fields per stored event class (``PersonalFields.events``): an event
    # carrying one of them unsealed is refused before anything is stored (docs/architecture.md).
    personal_fields: ClassVar[Mapping[type, tuple[str, ...]]] = {}

    def __init__(self, env: dict[str, str] | None = None):
        super().__init__(env=env)
        self.saved_listeners: list[Callable[[], None]] = []

    def construct_recorder(self):  # type: ignore[override]
        # A process recorder also keeps tracking records, so a service can
        # consume other services' events exactly once. Stored in a database,
        # each event also gets its chain link (shared/security/links.py).
        from eventsourcing_sqlalchemy.factory import SQLAlchemyFactory

        if not isinstance(self.factory, SQLAlchemyFactory):
            return self.factory.process_recorder()
        from .security.links import KEY_ENV, linked_recorder

        return linked_recorder(self.factory, self.name, self.env.get(KEY_ENV))

    def save(self, *objs: Any, **kwargs: Any):  # type: ignore[override]
        recordings = super().save(*objs, **kwargs)
        # Records no read model or public event depends on (the audit of a read) wake nobody:
        # the relay and projector find them on their next pass, and have nothing to do for them.
        if any(getattr(obj, "wakes_followers", True) for obj in objs):
            self._tell_listeners()
        return recordings

    def _tell_listeners(self) -> None:
        for listener in self.saved_listeners:
            listener()

    # -- reading -------------------------------------------------------------

    def load(self, aggregate_class: type, aggregate_id: UUID, what: str) -> Any:
        try:
            aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFound(f"no {what} with id {aggregate_id}") from None
        if not isinstance(aggregate, aggregate_class):
            raise NotFound(f"no {what} with id {aggregate_id}")
        return aggregate

    def exists(self, aggregate_id: UUID) -> bool:
        return aggregate_id in self.repository

    # -- writing -------------------------------------------------------------

    # Without an inbox key there is always a result; with one, None means "already consumed".
    @overload
    def execute(
        self,
        call: Call,
        act: Callable[[], tuple[Sequence[Aggregate], dict]],
        command_id: str | None = None,
        inbox: None = None,
    ) -> dict: ...

    @overload
    def execute(
        self,
        call: Call,
        act: Callable[[], tuple[Sequence[Aggregate], dict]],
        command_id: str | None = None,
        *,
        inbox: str,
    ) -> dict | None: ...

    def execute(
        self,
        call: Call,
        act: Callable[[], tuple[Sequence[Aggregate], dict]],
        command_id: str | None = None,
        inbox: str | None = None,
    ) -> dict | None:
        """Run ``act`` (get → act) for ``call``, then save what it changed, once.

        ``act`` returns the changed aggregates and the result for the caller.
        With a ``command_id`` a repeat by the same caller, method and payload
        returns the first result (other arguments: Conflict). With an ``inbox``
        key (an upstream message being consumed, see ``shared.contracts.message_key``)
        a repeat does nothing and returns None. A concurrent change to the same
        aggregate is retried from a fresh read; after three tries it is a Conflict.
        """
        try:
            return self._execute_with_retry(call, act, command_id, inbox)
        except (RecordConflictError, KeyRaced):
            # Lost three races in a row to other changes of the same records (or keys).
            raise Conflict("the record was changed by another command at the same time; retry") from None

    @retry(
        retry=retry_if_exception_type((RecordConflictError, KeyRaced)),
        stop=stop_after_attempt(3),
        reraise=True,
    )
    def _execute_with_retry(
        self,
        call: Call,
        act: Callable[[], tuple[Sequence[Aggregate], dict]],
        command_id: str | None,
        inbox: str | None,
    ) -> dict | None:
        # Asked again on every try: a lost race may have been lost to this very command or message.
        done, earlier = self._done_before(call, command_id, inbox)
        if done:
            return earlier
        with keys_on_commit() as new_keys:
            with acting_as(call.caller, call.call_id):
                changed, result = act()
                refuse_plaintext(changed, self.personal_fields)
                to_save: list[Aggregate] = list(changed)
                if command_id is not None:
                    to_save.append(CommandRecord(scope=CommandRecord.scope(call, command_id), command_id=command_id,
                                                 payload_digest=call.payload_digest, result=result))
                if inbox is not None:
                    to_save.append(InboxRecord(message_key=inbox))
            # Every check has passed: only now are the keys of newly sealed subjects stored, so a refused
            # command leaves no key row (docs/architecture.md, sealing). Where the event store can, they
            # go in the transaction that stores the events (held_key_rows), else each in its own, first.
            takes_keys = getattr(self.recorder, "takes_key_rows", None)
            new_keys.commit(leave=takes_keys if to_save and takes_keys is not None else None)
            self.save(*to_save)
            new_keys.commit()  # none is left once the events are stored; a key is never dropped all the same
        return result

    def _done_before(self, call: Call, command_id: str | None, inbox: str | None) -> tuple[bool, dict | None]:
        """Whether this message was already consumed, or this command already run (and its result)."""
        if inbox is not None and self.exists(InboxRecord.create_id(inbox)):
            return True, None
        if command_id is not None:
            try:
                record = self.repository.get(CommandRecord.create_id(command_id))
            except AggregateNotFoundError:
                return False, None
            if record.scope != CommandRecord.scope(call, command_id):
                raise Conflict(f"command id {command_id!r} was already used by another caller or method")
            if record.payload_digest != call.payload_digest:
                raise Conflict(f"command id {command_id!r} was already used with other arguments")
            return True, record.result
        return False, None


def application_env(service: str, settings: Any) -> dict[str, str]:
    """The eventsourcing environment for ``service`` from pingan settings."""
    if settings.persistence == "memory":
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    url = settings.events_url(service)
    if url.startswith("sqlite:///"):
        from pathlib import Path

        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    from .security.personal_data import cipher_env
    from .security.settings import load_security_settings

    return {
        "PERSISTENCE_MODULE": "eventsourcing_sqlalchemy",
        "SQLALCHEMY_URL": url,
        "CREATE_TABLE": "y" if settings.create_tables else "n",
        # Aggregates read by commands stay in memory and are brought up to date from their newer
        # events on each read (one indexed query), instead of replayed from their first event.
        "AGGREGATE_CACHE_MAXSIZE": "1000",
        # optional whole-state AES-GCM (PINGAN_CIPHER_KEY); sealed personal fields stay sealed inside it
        **cipher_env(load_security_settings().cipher_key),
    }

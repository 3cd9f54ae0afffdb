"""Configuration from the environment, read when a service starts, never at import."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from .context import TokenIssuer, TokenKeys, TokenLimits, TokenVerifier, VerifyKey


class EnvSettings(BaseModel):
    """Settings read from ``PINGAN_<FIELD>`` environment variables (or a field's own
    alias), validated by pydantic. pydantic-settings does this too, but costs a
    service process ~7 MiB resident for sources it never uses (design target: an
    idle service under 100 MiB)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        environ = os.environ if environ is None else environ
        values = {}
        for name, field in cls.model_fields.items():
            key = field.validation_alias if isinstance(field.validation_alias, str) else f"PINGAN_{name.upper()}"
            if key in environ:
                values[name] = environ[key]
        return cls.model_validate(values)


class Settings(EnvSettings):
    """Everything a pingan process reads from its environment (prefix ``PINGAN_``).

    ``database_url`` may hold ``{service}``, so one value serves every service
    with a database each: ``postgresql+psycopg2://pingan@db/pingan_{service}``.
    Unset, each service keeps SQLite files under ``data_dir`` (the embedded default).
    """

    amqp_uri: str = Field(default="memory://", validation_alias="AMQP_URI")
    database_url: str | None = None
    persistence: str = "sqlalchemy"  # "memory" for unit tests and throwaway runs
    data_dir: Path = Path("data")
    token_keys: str | None = None  # JSON kid -> issuer public key, or {"public": ..., "expires": ...}
    active_token_kid: str | None = None  # kid of token_issuer_key
    token_issuer_key: str | None = None  # issuer's private key: only where tokens are issued
    event_public_keys: str | None = None  # JSON service -> public key its events are signed with
    person_token_max_minutes: int = Field(default=240, ge=1, le=24 * 60)
    service_token_max_minutes: int = Field(default=10, ge=1, le=60)
    http_address: str = "127.0.0.1:8000"
    log_format: str = "auto"  # json | console | auto (console on a terminal)
    log_level: str = "INFO"
    relay_interval: float = 0.5  # seconds between polls of the log when no save wakes the relay
    follow_delay: float = 0.02  # seconds a woken relay/projector waits for more saves to batch
    # in-process: `pingan serve` relays and projects its own log; off: a `pingan follow` process does
    follow_log: Literal["in-process", "off"] = "in-process"
    create_tables: bool = True
    client_cache_seconds: float = Field(default=5.0, ge=0, le=300)  # how soon a revoked client is refused
    gateway_timeout: float = Field(default=30.0, gt=0, le=300)  # seconds the HTTP gateway waits for a service

    def events_url(self, service: str) -> str:
        if self.database_url:
            return self.database_url.format(service=service)
        return f"sqlite:///{self.data_dir.resolve() / (service + '.events.sqlite')}"

    def views_url(self, service: str) -> str:
        """Read models and positions: the service's database, or a file of their own on SQLite.

        A separate SQLite file keeps the projection writer from waiting on the
        event writer's lock; PostgreSQL has no such problem.
        """
        if self.database_url:
            return self.database_url.format(service=service)
        return f"sqlite:///{self.data_dir.resolve() / (service + '.views.sqlite')}"

    @property
    def embedded(self) -> bool:
        """No database URL: the single-machine default, which may keep generated keys under data_dir."""
        return not self.database_url

    @cached_property
    def token_limits(self) -> TokenLimits:
        return TokenLimits(person=timedelta(minutes=self.person_token_max_minutes),
                           service=timedelta(minutes=self.service_token_max_minutes))

    @cached_property
    def keys(self) -> TokenKeys:
        """The issuer's public keys, for verifying caller tokens (every service)."""
        from .security.keys import MissingSecret, json_object, public_key

        if not self.token_keys:
            if not self.embedded:
                raise MissingSecret("no caller-token keys: set PINGAN_TOKEN_KEYS (the issuer's public keys)")
            issuer = self.issuer()
            return TokenKeys({issuer.kid: VerifyKey(issuer.kid, issuer.key.public_key())})
        keys = {}
        for kid, value in json_object(self.token_keys, "PINGAN_TOKEN_KEYS").items():
            entry = value if isinstance(value, dict) else {"public": value}
            expires = entry.get("expires")
            keys[kid] = VerifyKey(kid, public_key(entry.get("public"), "PINGAN_TOKEN_KEYS"),
                                  datetime.fromisoformat(expires) if expires else None)
        return TokenKeys(keys)

    def verifier(self) -> TokenVerifier:
        from .clients import REGISTRY_DATABASE, ClientStatus

        clients = ClientStatus(self.events_url(REGISTRY_DATABASE), ttl=self.client_cache_seconds)
        return TokenVerifier(self.keys, self.token_limits, clients)

    def issuer(self) -> TokenIssuer:
        """The token issuer: ``pingan token`` and the operator tools, never a service."""
        from .security.keys import MissingSecret, local_private_key, private_key

        if self.token_issuer_key and not self.active_token_kid:
            raise MissingSecret("PINGAN_TOKEN_ISSUER_KEY is set without PINGAN_ACTIVE_TOKEN_KID (its kid)")
        encoded = self.token_issuer_key
        if not encoded and self.embedded:
            encoded = local_private_key(self.data_dir, "token-issuer")
        return TokenIssuer(self.active_token_kid or "local", private_key(encoded, "PINGAN_TOKEN_ISSUER_KEY"),
                           self.token_limits)

    def nameko_config(self) -> dict:
        return {
            "AMQP_URI": self.amqp_uri,
            "WEB_SERVER_ADDRESS": self.http_address,
            "serializer": "json",
        }


def generated_secret(path: Path, generate: Callable[[], str]) -> str:
    """The secret in ``path``, generating it first if missing (owner-only file).

    Several processes may share a data folder and start together: each writes
    a file of its own and links it into place, so exactly one wins and nobody
    reads a half-written file.
    """
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, candidate = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(generate())
            os.chmod(candidate, 0o600)
            with contextlib.suppress(FileExistsError):  # another process won; use its secret
                os.link(candidate, path)
        finally:
            os.unlink(candidate)
    return path.read_text().strip()


def load_settings() -> Settings:
    return Settings.from_env()

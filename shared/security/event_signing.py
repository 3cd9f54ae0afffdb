"""Published events signed by their publisher, checked by every consumer (docs/security.md).

The relay signs each envelope with its service's own Ed25519 key over a
digest of the whole envelope as published (source, event type, notification
id, aggregate, audit stamp, payload), and sends signer and signature in the
message headers. A consumer, before any work, checks that the signer is the
service it subscribed to and the one the envelope names as ``source``, and
that the signature matches the body it received. A changed body, a
signature copied onto another message, or a message signed by another
service are refused, logged (without the body) and counted. A verbatim
replay verifies, and changes nothing: consumers keep one inbox record per
message (shared.contracts.message_key).

Keys: ``PINGAN_EVENT_SIGNING_KEY_<SERVICE>`` (private, only in that service's
pods) and ``PINGAN_EVENT_PUBLIC_KEYS`` (JSON service -> public key, everywhere).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Mapping
from typing import Any

import structlog
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from shared.config import Settings
from shared.errors import Unauthenticated

from .keys import MissingSecret, existing_local_key, json_object, local_private_key, private_key, public_key

log = structlog.get_logger(__name__)

SIGNER = "event_signer"  # nameko context-data keys (message headers "nameko.<key>")
SIGNATURE = "event_signature"
_DOMAIN = b"pingan-event-v1\n"


class EventRefused(Unauthenticated):
    """A received event whose signature does not prove it came, unchanged, from its source."""

    code = "event_refused"

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason  # a fixed word, safe as a metric label


def envelope_digest(body: Any) -> bytes:
    """SHA-256 of the envelope in canonical JSON (sorted keys, no spaces): the bytes both sides agree on."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(_DOMAIN + canonical.encode()).digest()


class EventSigner:
    def __init__(self, service: str, key: Ed25519PrivateKey):
        self.service = service
        self.key = key

    def headers(self, body: Mapping[str, Any]) -> dict[str, str]:
        signature = self.key.sign(envelope_digest(body))
        return {f"nameko.{SIGNER}": self.service, f"nameko.{SIGNATURE}": base64.b64encode(signature).decode()}


class EventVerifier:
    def __init__(self, public_keys: Mapping[str, Ed25519PublicKey] | None = None, lookup=None):
        self.public_keys = dict(public_keys or {})
        self.lookup = lookup  # embedded default: a key file another service of this folder wrote

    def verify(self, source: str, body: Any, context_data: Mapping[str, Any]) -> None:
        """Raise EventRefused unless ``body`` is signed, unchanged, by ``source`` (the subscribed service)."""
        signer = context_data.get(SIGNER)
        signature = context_data.get(SIGNATURE)
        if not isinstance(signer, str) or not isinstance(signature, str):
            raise EventRefused("unsigned", "the event carries no publisher signature")
        if signer != source:
            raise EventRefused("wrong_signer", "the event is signed by another service than the one subscribed to")
        if not isinstance(body, dict) or body.get("source") != signer:
            raise EventRefused("source_mismatch", "the event's source is not the service that signed it")
        key = self.public_keys.get(signer) or (self.lookup(signer) if self.lookup else None)
        if key is None:
            raise EventRefused("unknown_signer", "no public key is configured for the signing service")
        try:
            key.verify(base64.b64decode(signature, validate=True), envelope_digest(body))
        except (InvalidSignature, ValueError, TypeError):
            raise EventRefused("bad_signature", "the event's signature does not match its body") from None


def event_signer(settings: Settings, service: str, environ: Mapping[str, str] | None = None) -> EventSigner:
    """The service's own signing key, from ``PINGAN_EVENT_SIGNING_KEY_<SERVICE>``."""
    environ = os.environ if environ is None else environ
    setting = f"PINGAN_EVENT_SIGNING_KEY_{service.upper()}"
    encoded = environ.get(setting)
    if not encoded and settings.embedded:
        encoded = local_private_key(settings.data_dir, f"event-{service}")
    return EventSigner(service, private_key(encoded, setting))


def event_verifier(settings: Settings) -> EventVerifier:
    """Every publisher's public key, from ``PINGAN_EVENT_PUBLIC_KEYS``."""
    if settings.event_public_keys:
        raw = json_object(settings.event_public_keys, "PINGAN_EVENT_PUBLIC_KEYS")
        return EventVerifier({service: public_key(value, "PINGAN_EVENT_PUBLIC_KEYS") for service, value in raw.items()})
    if not settings.embedded:
        raise MissingSecret("no event public keys: set PINGAN_EVENT_PUBLIC_KEYS")

    def local(service: str) -> Ed25519PublicKey | None:
        encoded = existing_local_key(settings.data_dir, f"event-{service}")
        return private_key(encoded, "local event key").public_key() if encoded else None

    return EventVerifier(lookup=local)

"""Ed25519 keys for caller tokens and event signatures, as configured (docs/security.md).

Each key is base64 of its 32 raw bytes (``pingan audit keygen`` prints a pair).
Deployed, every key comes from the environment (Kubernetes Secrets): the token
issuer's private key only where tokens are issued, each service's event key
only in that service's pods, public keys everywhere. Only the embedded
default (no ``PINGAN_DATABASE_URL``) keeps generated keys under its data folder.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from shared.errors import PinganError


class MissingSecret(PinganError):
    """A key the process needs is not configured, or is unusable: refuse to start."""

    code = "missing_secret"


def private_key(encoded: str | None, setting: str) -> Ed25519PrivateKey:
    if not encoded:
        raise MissingSecret(f"no private key: set {setting}")
    try:
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(encoded, validate=True))
    except ValueError:
        raise MissingSecret(f"{setting} is not base64 of a 32-byte Ed25519 key") from None


def public_key(encoded: object, setting: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(str(encoded), validate=True))
    except ValueError:
        raise MissingSecret(f"{setting} holds a value that is not base64 of a 32-byte Ed25519 key") from None


def public_text(key: Ed25519PrivateKey) -> str:
    return base64.b64encode(key.public_key().public_bytes_raw()).decode()


def json_object(value: str, setting: str) -> dict:
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise MissingSecret(f"{setting} is not a JSON object")
    return parsed


def local_private_key(data_dir: Path, name: str) -> str:
    """The embedded default's key ``name``, generated under ``data_dir/keys`` on first use."""
    from shared.config import generated_secret

    from .chain import generate_signing_key

    return generated_secret(Path(data_dir) / "keys" / f"{name}.key", lambda: generate_signing_key()[0])


def existing_local_key(data_dir: Path, name: str) -> str | None:
    path = Path(data_dir) / "keys" / f"{name}.key"
    return path.read_text().strip() if path.exists() else None


def local_public_env(data_dir: Path, services: list[str]) -> dict[str, str]:
    """Public-key settings for services run on one machine (``make run-services``, benchmarks):
    the issuer's and every service's public key, from the key files under ``data_dir/keys``."""

    def public(name: str) -> str:
        return public_text(private_key(local_private_key(data_dir, name), name))

    return {
        "PINGAN_TOKEN_KEYS": json.dumps({"local": public("token-issuer")}),
        "PINGAN_EVENT_PUBLIC_KEYS": json.dumps({service: public(f"event-{service}") for service in services}),
    }


def local_signing_env(data_dir: Path, service: str) -> dict[str, str]:
    """The one private key a service run on this machine gets: its own event key."""
    return {f"PINGAN_EVENT_SIGNING_KEY_{service.upper()}": local_private_key(data_dir, f"event-{service}")}

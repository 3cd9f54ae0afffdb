"""Security configuration from PINGAN_* variables, read when asked, never at import.

Kept apart from shared.config so each secret can come from its own Kubernetes
Secret: the checkpoint signing key only reaches the checkpoint job, the
verifier needs only the public key.
"""

from __future__ import annotations

from pathlib import Path

from shared.config import EnvSettings


class SecuritySettings(EnvSettings):
    checkpoint_dir: Path = Path("data/checkpoints")
    checkpoint_key: str | None = None  # Ed25519 private key, base64 of the 32-byte seed
    checkpoint_public_key: str | None = None  # base64 of the 32-byte public key (verify-only jobs)
    personal_data_key: str | None = None  # base64 of a 32-byte AES master key wrapping per-person keys
    chain_key: str | None = None  # base64 of 32 bytes: the writing service's chain-link key (links.py)
    cipher_key: str | None = None  # optional whole-state cipher (eventsourcing AESCipher)


def load_security_settings() -> SecuritySettings:
    return SecuritySettings.from_env()

"""nameko dependency provider for per-person encryption.

Declared beside ``Store``::

    vault = PersonalDataVault()
    ... self.vault.seal(person_id, command.name) / self.vault.open(row["name"]) / self.vault.erase(person_id)

Built in ``setup()`` (after eventlet patching, design §5). The key table lives
in the service's own database (the read-model URL), so an erasure is one
committed row change there.
"""

from __future__ import annotations

from typing import Any

from nameko.extensions import DependencyProvider
from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool

from shared.config import load_settings
from shared.projections import views_engine

from .personal_data import PersonalData, load_master_key
from .settings import load_security_settings


class PersonalDataVault(DependencyProvider):
    def setup(self) -> None:
        settings = load_settings()
        security = load_security_settings()
        if settings.persistence == "memory":
            engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
        else:
            engine = views_engine(settings.views_url(self.container.service_name))
        # Only the embedded default (SQLite under data_dir) may keep a generated key beside its data;
        # a deployed service without PINGAN_PERSONAL_DATA_KEY would make a key no restart could find.
        embedded = settings.database_url is None
        master = load_master_key(security.personal_data_key, settings.data_dir if embedded else None)
        self.vault = PersonalData(engine, master)
        if settings.create_tables or settings.persistence == "memory":
            self.vault.create_tables()

    def stop(self) -> None:
        self.vault.engine.dispose()

    def get_dependency(self, worker_ctx: Any) -> PersonalData:
        return self.vault

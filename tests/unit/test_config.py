"""Settings come from the environment, typed and validated."""

import pytest
from pydantic import ValidationError

from shared.config import Settings


def test_settings_read_prefixed_variables_with_types():
    settings = Settings.from_env({"PINGAN_RELAY_INTERVAL": "0.2", "PINGAN_CREATE_TABLES": "false",
                                  "AMQP_URI": "amqp://guest:guest@127.0.0.1:5672/", "UNRELATED": "x"})
    assert settings.relay_interval == 0.2 and settings.create_tables is False
    assert settings.amqp_uri == "amqp://guest:guest@127.0.0.1:5672/"


def test_settings_default_to_the_embedded_platform():
    settings = Settings.from_env({})
    assert settings.amqp_uri == "memory://" and settings.database_url is None
    assert settings.events_url("grid_events").endswith("data/grid_events.events.sqlite")


def test_settings_database_url_names_a_database_per_service():
    settings = Settings.from_env({"PINGAN_DATABASE_URL": "postgresql+psycopg2://pingan@db/pingan_{service}"})
    assert settings.events_url("mediation") == "postgresql+psycopg2://pingan@db/pingan_mediation"


def test_settings_malformed_value_is_refused():
    with pytest.raises(ValidationError, match="relay_interval"):
        Settings.from_env({"PINGAN_RELAY_INTERVAL": "soon"})


def test_settings_follow_log_other_than_in_process_or_off_is_refused():
    with pytest.raises(ValidationError, match="follow_log"):
        Settings.from_env({"PINGAN_FOLLOW_LOG": "sidecar"})

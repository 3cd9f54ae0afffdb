"""Per-person keys: sealed fields open for the living record and read as erased after erasure."""

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import StaticPool

from shared.errors import Conflict, ValidationFailed
from shared.security.personal_data import (
    ERASED,
    PersonalData,
    PersonalDataUnavailable,
    cipher_env,
    generate_master_key,
    load_master_key,
)


@pytest.fixture
def vault():
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    vault = PersonalData(engine, load_master_key(generate_master_key()))
    vault.create_tables()
    return vault


def test_personal_data_sealed_value_opens_to_plaintext(vault):
    sealed = vault.seal("person-1", "Wu Mei")
    assert "Wu Mei" not in sealed
    assert vault.open(sealed) == "Wu Mei"


def test_personal_data_erased_person_reads_as_erased(vault):
    sealed = vault.seal("person-1", "Wu Mei")
    other = vault.seal("person-2", "Long Jun")
    assert vault.erase("person-1") is True
    assert vault.open(sealed) == ERASED
    assert vault.open(other) == "Long Jun"


def test_personal_data_erased_key_is_gone_from_the_table(vault):
    vault.seal("person-1", "Wu Mei")
    vault.erase("person-1")
    with vault.engine.connect() as conn:
        assert conn.execute(text("SELECT wrapped_key FROM pingan_person_keys")).scalar_one() is None


def test_personal_data_nothing_is_sealed_for_an_erased_person(vault):
    vault.erase("person-1")
    with pytest.raises(Conflict):
        vault.seal("person-1", "Wu Mei")


def test_personal_data_field_moved_to_another_person_does_not_open(vault):
    sealed = vault.seal("person-1", "Wu Mei")
    vault.seal("person-2", "Long Jun")
    moved = sealed.replace(":person-1:", ":person-2:")
    with pytest.raises(PersonalDataUnavailable):
        vault.open(moved)


def test_personal_data_wrong_master_key_is_refused(vault):
    sealed = vault.seal("person-1", "Wu Mei")
    other = PersonalData(vault.engine, load_master_key(generate_master_key()))
    with pytest.raises(PersonalDataUnavailable):
        other.open(sealed)


def test_personal_data_bad_person_id_is_a_validation_error(vault):
    with pytest.raises(ValidationFailed):
        vault.seal("person:1", "Wu Mei")


def test_personal_data_plain_values_pass_through(vault):
    assert vault.open("not personal") == "not personal"


def test_personal_data_master_key_missing_is_refused():
    with pytest.raises(PersonalDataUnavailable):
        load_master_key(None)


def test_personal_data_cipher_env_names_the_cryptography_cipher():
    assert cipher_env(None) == {}
    assert cipher_env("a2V5")["CIPHER_TOPIC"] == "eventsourcing.cryptography:AESCipher"


def test_personal_data_erasure_by_another_process_shows_at_once(vault):
    other_process = PersonalData(vault.engine, bytes(32))
    sealed = vault.seal("p-1", "Canary Li")  # this process now holds p-1's key for sealing
    other_process.erase("p-1")
    assert vault.open(sealed) == ERASED
    assert other_process.open(vault.seal("p-1", "more about Canary Li")) == ERASED  # sealed, but unreadable

"""Input is checked exactly: ASCII digits, whole strings, and errors that never repeat a caller's value."""

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from pydantic import BaseModel, Field

from shared.context import TokenKeys, TokenVerifier, VerifyKey
from shared.errors import Unauthenticated, ValidationFailed
from shared.jurisdiction import JurisdictionCode, check_code, covers
from shared.security.keys import private_key
from shared.validation import Command, Query, parse
from tests.conftest import TEST_ISSUER_KEY

CANARY = "Zhang San 433101199001010012 canary-5e1b"


class Place(Command):
    code: JurisdictionCode
    count: int = Field(default=1, ge=0, le=1000)
    share: float | None = None


@pytest.mark.parametrize("code", ["４３３１０１", "433101\n", "433101 ", " 433101", "４33101", "433101\u0661"])
def test_jurisdiction_code_not_exactly_ascii_digits_is_refused(code):
    with pytest.raises(ValueError):
        check_code(code)
    with pytest.raises(ValidationFailed):
        covers("433100", code)


def test_jurisdiction_code_error_never_repeats_the_value():
    with pytest.raises(ValidationFailed) as refused:
        parse(Place, {"code": CANARY})
    assert "canary" not in str(refused.value) and "433101199001010012" not in repr(refused.value.args)
    assert "code" in str(refused.value)


@pytest.mark.parametrize("count", ["１２", " 12", "12\n", "1_2", "+12", "12 "])
def test_numeric_field_not_exactly_ascii_digits_is_refused(count):
    with pytest.raises(ValidationFailed, match="count"):
        parse(Place, {"code": "433101", "count": count})


@pytest.mark.parametrize("share", ["０.5", "0.5\n", "1e3", "inf"])
def test_numeric_float_field_not_exactly_ascii_digits_is_refused(share):
    with pytest.raises(ValidationFailed, match="share"):
        parse(Place, {"code": "433101", "share": share})


def test_numeric_field_ascii_digits_as_text_are_accepted():
    assert parse(Place, {"code": "433101", "count": "12", "share": "0.25"}).count == 12
    assert parse(Query, {"page": "3"}).page == 3


def test_validation_error_of_a_huge_value_comes_back_short():
    huge = "canary-" + "x" * 1_000_000
    with pytest.raises(ValidationFailed) as refused:
        parse(Place, {"code": huge, "name": huge, huge: 1})
    assert len(repr(refused.value.args)) < 5_000
    assert "canary-" not in repr(refused.value.args)


def test_validation_error_may_name_a_short_plain_word():
    class Pick(Command):
        level: int

    with pytest.raises(ValidationFailed, match="level"):
        parse(Pick, {"level": "high"})


def test_token_jurisdiction_with_trailing_newline_is_unauthenticated():
    key = private_key(TEST_ISSUER_KEY, "test")
    now = datetime.now(UTC)
    token = jwt.encode({"sub": "officer", "role": "county_officer", "jur": "433101\n", "aud": "pingan", "iat": now,
                        "exp": now + timedelta(minutes=5)}, key, algorithm="EdDSA", headers={"kid": "k"})
    verifier = TokenVerifier(TokenKeys({"k": VerifyKey("k", key.public_key())}))
    with pytest.raises(Unauthenticated, match="claims are incomplete"):
        verifier.verify(token)


def test_validation_error_names_a_nested_field_however_long():
    class Helper(BaseModel):
        interpreter_identifier: str = Field(max_length=8)

    class Team(Command):
        helpers: list[Helper]

    with pytest.raises(ValidationFailed) as refused:
        parse(Team, {"helpers": [{"interpreter_identifier": CANARY}]})
    assert refused.value.details[0]["field"] == "helpers.0.interpreter_identifier"
    assert "canary" not in repr(refused.value.args)

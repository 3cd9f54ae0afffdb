"""The shared field types take exactly their documented alphabet, ASCII only, the whole value
(docs/architecture.md, "Shared names and field types")."""

import pytest
from pydantic import BaseModel, ValidationError

from shared.jurisdiction import check_code
from shared.validation import Identifier, LongText, ResidentIdNumber, Slug, Text


class Fields(BaseModel):
    identifier: Identifier | None = None
    slug: Slug | None = None
    resident_id: ResidentIdNumber | None = None
    text: Text | None = None
    long_text: LongText | None = None


@pytest.mark.parametrize(("field", "value"), [
    ("identifier", "p-1"), ("identifier", "kp.0001_x"), ("identifier", "A" * 64),
    ("slug", "justice-bureau"), ("slug", "verify_facts"),
    ("resident_id", "43310119900101001X"), ("resident_id", "433101199001010012"),
    ("text", "龙家院子 Long's courtyard"), ("long_text", "x" * 4000),
])
def test_field_type_accepts_its_alphabet(field, value):
    assert getattr(Fields(**{field: value}), field) == value


@pytest.mark.parametrize(("field", "value"), [
    ("identifier", "１２３"),  # full-width digits: \d would take them
    ("identifier", "p-1\n"),  # a trailing newline: $ alone would let it through
    ("identifier", "p 1"), ("identifier", "p:1"), ("identifier", ""), ("identifier", "A" * 65),
    ("slug", "Justice"), ("slug", "-unit"), ("slug", "unit١"), ("slug", "a" * 51),
    ("resident_id", "４3310119900101001X"), ("resident_id", "43310119900101001x"),
    ("resident_id", "43310119900101001X\n"), ("resident_id", "4331011990010100"),
    ("text", ""), ("text", "x" * 201), ("long_text", "x" * 4001),
])
def test_field_type_refuses_anything_else(field, value):
    with pytest.raises(ValidationError):
        Fields(**{field: value})


@pytest.mark.parametrize("code", ["４33101", "433101\n", "43310", "433101001001001001", "433101 "])
def test_jurisdiction_code_refuses_non_ascii_digits_and_extra_characters(code):
    with pytest.raises(ValueError):
        check_code(code)


@pytest.mark.parametrize("code", ["430000", "433100", "433101", "433101001", "433101001001", "433101001001001"])
def test_jurisdiction_code_accepts_each_level(code):
    assert check_code(code) == code

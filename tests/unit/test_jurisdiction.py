"""Scope is a prefix of China's division codes."""

import pytest

from shared.errors import ValidationFailed
from shared.jurisdiction import Level, county_of, covers, level_of, parent_of


@pytest.mark.parametrize("code, level", [
    ("430000", Level.PROVINCE), ("433100", Level.PREFECTURE), ("433101", Level.COUNTY),
    ("433101001", Level.TOWNSHIP), ("433101001001", Level.VILLAGE), ("433101001001001", Level.GRID),
])
def test_level_of_code_follows_its_length(code, level):
    assert level_of(code) is level


@pytest.mark.parametrize("scope, code", [
    ("433100", "433101"), ("433100", "433130001002003"), ("433101", "433101001001001"),
    ("433101001", "433101001001"), ("433101001001", "433101001001001"), ("433101", "433101"),
])
def test_covers_own_unit_and_below(scope, code):
    assert covers(scope, code)


@pytest.mark.parametrize("scope, code", [
    ("433101", "433122"), ("433101001", "433101002001"), ("433101", "433100"), ("433101001001", "433101001"),
])
def test_covers_refuses_siblings_and_parents(scope, code):
    assert not covers(scope, code)


@pytest.mark.parametrize("code", ["", "4331", "43310100", "433101001001001001", "43310a", "433101-001", None])
def test_malformed_code_is_validation_error(code):
    with pytest.raises(ValidationFailed):
        level_of(code)


def test_parent_of_climbs_the_ladder():
    chain = []
    code = "433101001001001"
    while code:
        chain.append(code)
        code = parent_of(code)
    assert chain == ["433101001001001", "433101001001", "433101001", "433101", "433100", "430000"]


def test_county_of_lower_units_is_their_county():
    assert county_of("433123100201001") == "433123"
    assert county_of("433100") is None

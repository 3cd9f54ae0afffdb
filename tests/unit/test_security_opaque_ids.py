"""Person ids are keys, stored in plain: one shaped like a resident ID number is refused with
a typed error naming the field, in the kernel and in a service's command (docs/security.md)."""

import pytest

from services.grid_events import contracts as c
from shared.security.sealing import ResidentIdNotAllowed, check_opaque_id
from shared.testing import CountingVault

from .grid_support import ADMIN, UNIT, VILLAGE, World

RESIDENT_IDS = ["11010519491231002X", "110105194912310021", "433101199003074573", "110105491231002",
                "１１０１０５１９４９１２３１００２Ｘ"]


@pytest.mark.parametrize("value", RESIDENT_IDS)
def test_opaque_id_check_refuses_resident_id_numbers_naming_the_field(value):
    with pytest.raises(ResidentIdNotAllowed, match="household_id looks like a resident ID number") as refused:
        check_opaque_id(value, "household_id")
    assert refused.value.details == {"field": "household_id"}
    assert value not in refused.value.message


@pytest.mark.parametrize("value", ["p-1", "gw-1001", "4331010010010011", "1101051949123100"])
def test_opaque_id_check_accepts_ids_of_another_shape(value):
    assert check_opaque_id(value, "person_id") == value


def test_register_risk_with_a_resident_id_person_is_refused_and_stores_nothing():
    vault = CountingVault.in_memory()
    world = World(seal=vault.seal).seed()
    before = world.stored()
    command = c.RegisterRisk(jurisdiction=VILLAGE, category="lending", source="risk", level="yellow", place="shop",
                             description="lending", responsible_unit=UNIT, responsible_person_id="11010519491231002X",
                             responsible_person_name="Officer Zhang")
    with pytest.raises(ResidentIdNotAllowed) as refused:
        world.app.register_risk(ADMIN, command, vault.seal)
    assert refused.value.details == {"field": "responsible_person_id"}
    assert world.stored() == before

"""The registry: member units of coordination bodies, grid contact points,
township responsibility, village committees and participants (Arts. 2, 3, 5, 10)."""

import pytest

from services.grid_events import contracts as c
from shared.context import Role
from shared.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed

from .grid_support import ADMIN, COUNTY, GRID, TOWNSHIP, UNIT, VILLAGE, World, call_as


@pytest.fixture
def world():
    return World().seed()


def test_register_member_unit_below_county_is_refused(world):
    before = world.stored()
    with pytest.raises(ValidationFailed, match="prefecture or a county"):
        world.app.register_member_unit(ADMIN, c.RegisterMemberUnit(
            body_code=TOWNSHIP, unit_code="police-station", name="Station", duties=["patrol"]))
    assert world.stored() == before


def test_register_member_unit_twice_is_a_conflict(world):
    with pytest.raises(Conflict):
        world.app.register_member_unit(ADMIN, c.RegisterMemberUnit(
            body_code=COUNTY, unit_code=UNIT, name="again", duties=["x"]))


def test_register_member_unit_of_another_county_is_forbidden(world):
    officer = call_as(Role.COUNTY_OFFICER, "433123", "officer-9")
    with pytest.raises(Forbidden):
        world.app.register_member_unit(officer, c.RegisterMemberUnit(
            body_code=COUNTY, unit_code="health-bureau", name="Health", duties=["public health"]))


def test_change_member_unit_duties_records_the_new_duties(world):
    changed = world.app.change_member_unit_duties(ADMIN, c.ChangeMemberUnitDuties(
        unit_id=f"{COUNTY}:{UNIT}", duties=["mediation", "legal aid", "community correction"]))
    assert changed["duties"] == ["mediation", "legal aid", "community correction"]


def test_name_contact_point_for_unknown_unit_is_refused_and_stores_nothing(world):
    before = world.stored()
    with pytest.raises(NotFound):
        world.app.name_contact_point(ADMIN, c.NameContactPoint(
            grid_code=GRID, unit="no-such-bureau", contact_id="x-1", contact_name="Nobody"), world.seal)
    assert world.stored() == before


def test_name_township_responsible_records_the_office(world):
    named = world.app.name_township_responsible(ADMIN, c.NameTownshipResponsible(
        code=TOWNSHIP, office="Qianzhou Ping'an Office", person_id="tp-1", person_name="Director Tian"), world.seal)
    assert named["office"] == "Qianzhou Ping'an Office"


def test_name_township_responsible_for_a_village_is_refused(world):
    with pytest.raises(ValidationFailed, match="township"):
        world.app.name_township_responsible(ADMIN, c.NameTownshipResponsible(
            code=VILLAGE, office="o", person_id="p", person_name="n"), world.seal)


def test_village_committee_reports_an_event_in_its_village(world):
    committee = call_as(Role.VILLAGE_COMMITTEE, VILLAGE, "vc-1")
    event_id = world.app.report_event(committee, c.ReportEvent(
        grid_code=GRID, category="safety_hazard", source="patrol", severity="low", place="bridge",
        description="loose railing"), world.seal)["event_id"]
    assert world.events_of(event_id) == ["Reported"]


def test_recognise_participant_keeps_each_recognition(world):
    participant = world.app.register_participant(ADMIN, c.RegisterParticipant(
        jurisdiction=VILLAGE, kind="social_organisation", name="Red Cross branch"), world.seal)["participant_id"]
    world.app.recognise_participant(
        ADMIN, c.RecogniseParticipant(participant_id=participant, note="flood relief"), world.seal
    )
    again = world.app.recognise_participant(
        ADMIN, c.RecogniseParticipant(participant_id=participant, note="patrols"), world.seal
    )
    assert again["recognitions"] == 2


def test_register_participant_at_unknown_place_is_refused(world):
    with pytest.raises(NotFound):
        world.app.register_participant(
            ADMIN, c.RegisterParticipant(jurisdiction="433101001002", kind="volunteer", name="V"), world.seal
        )


def test_only_a_township_names_a_responsible_office_in_the_domain(world):
    from services.grid_events.domain import Jurisdiction
    from shared.context import acting_as

    county = world.app.repository.get(Jurisdiction.create_id(COUNTY))
    with acting_as(ADMIN.caller, "c"), pytest.raises(InvalidTransition):
        county.name_responsible("office", "p", "n")

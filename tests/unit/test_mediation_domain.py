"""The mediation rules on the in-memory store: tiers, interpreters, agreements, checklist, joint cases."""

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from services.grid_events.contracts import EventReported
from services.mediation import contracts as c
from services.mediation import publishing
from services.mediation.application import MediationApplication
from services.mediation.domain import case_id_for
from shared.clock import local_today
from shared.context import CallerContext, Role
from shared.contracts import Envelope
from shared.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from shared.eventstore import Call
from shared.security.personal_data import is_sealed
from shared.testing import memory_vault
from shared.validation import parse

VILLAGE = "433101001001"
TOWNSHIP = "433101001"
COUNTY = "433101"
TODAY = local_today()
INTERPRETED = [{"party_id": "P2", "language": "miao", "interpreter_id": "interp-7"}]


def caller(role=Role.ADMIN, jurisdiction="433100", actor_id="actor-1") -> Call:
    return Call(CallerContext(actor_id=actor_id, role=role, jurisdiction=jurisdiction), call_id=uuid4().hex)


ADMIN = caller()


VAULT = memory_vault()  # case ids are unique, so every test's keys are its own
SERVICE = caller(Role.SERVICE, actor_id="service:grid_events")


@pytest.fixture
def app():
    return MediationApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def stored(app) -> int:
    return app.recorder.max_notification_id() or 0


def open_case(app, who=ADMIN, **changes) -> str:
    payload = {
        "jurisdiction": VILLAGE, "source": "petition", "subject": "boundary between two fields",
        "parties": [
            {"name": "Zhang San", "languages": ["mandarin"], "understands_mandarin": True},
            {"name": "Long Mei", "languages": ["Miao"], "understands_mandarin": False},
        ],
        **changes,
    }
    return app.open_case(who, parse(c.OpenCase, payload), VAULT.seal)["case_id"]


def ready_case(app, **changes) -> str:
    case_id = open_case(app, **changes)
    app.record_risk_check(
        ADMIN, parse(c.RecordRiskCheck, {"case_id": case_id, "level": "low", "note": "no violence"}), VAULT.seal
    )
    app.accept_case(ADMIN, parse(c.AcceptCase, {"case_id": case_id}))
    return case_id


def attempt(app, case_id, tier="village", outcome="failed", who=ADMIN, **changes) -> dict:
    payload = {
        "case_id": case_id,
        "tier": tier,
        "mode": "peoples",
        "mediator_ids": ["med-1"],
        "place": "Long's courtyard",
        "on_site": True,
        "held_on": TODAY.isoformat(),
        "outcome": outcome,
        "interpreters": INTERPRETED,
        **changes,
    }
    return app.record_attempt(who, parse(c.RecordAttempt, payload), VAULT.seal)


def agree(app, case_id, tier="village", follow_up_on=None) -> dict:
    follow_up = follow_up_on or TODAY + timedelta(days=30)
    return attempt(
        app,
        case_id,
        tier,
        "agreement",
        agreement={"terms": "wall moved 1 m east", "follow_up_on": follow_up.isoformat()},
    )


def fail_county(app, case_id) -> dict:
    return attempt(app, case_id, "county", referral={"route": "litigation", "note": "to the county court"})


def fail_up_to_county(app, case_id) -> None:
    for tier in ["village"] * 3 + ["township"] * 2:
        attempt(app, case_id, tier)


def test_case_escalates_to_township_on_third_village_failure(app):
    case_id = ready_case(app)
    results = [attempt(app, case_id) for _ in range(3)]
    assert [r["tier"] for r in results] == ["village", "village", "township"]
    escalated = [e for e in app.events.get(UUID(case_id)) if type(e).__name__ == "Escalated"]
    assert [(e.from_tier, e.to_tier, e.failed_attempts) for e in escalated] == [("village", "township", 3)]


def test_case_escalates_to_county_on_second_township_failure(app):
    case_id = ready_case(app)
    for _ in range(3):
        attempt(app, case_id)
    results = [attempt(app, case_id, "township") for _ in range(2)]
    assert [r["tier"] for r in results] == ["township", "county"]


def test_county_failure_concludes_case_with_referral(app):
    case_id = ready_case(app)
    fail_up_to_county(app, case_id)
    result = fail_county(app, case_id)
    concluded = [e for e in app.events.get(UUID(case_id)) if type(e).__name__ == "Concluded"]
    assert (result["tier"], result["status"]) == ("county", "concluded")
    assert [(e.route, VAULT.open(e.note)) for e in concluded] == [("litigation", "to the county court")]
    assert all(is_sealed(e.note) for e in concluded)


def test_county_failure_without_referral_is_refused_and_stores_nothing(app):
    case_id = ready_case(app)
    fail_up_to_county(app, case_id)
    before = stored(app)
    with pytest.raises(ValidationFailed, match="referral"):
        attempt(app, case_id, "county")
    assert stored(app) == before


def test_referral_before_county_tier_is_refused_and_stores_nothing(app):
    case_id = ready_case(app)
    before = stored(app)
    with pytest.raises(ValidationFailed, match="county"):
        attempt(app, case_id, referral={"route": "arbitration", "note": "n"})
    assert stored(app) == before


@pytest.mark.parametrize("wrong_tier", ["township", "county"])
def test_attempt_at_wrong_tier_is_refused_and_stores_nothing(app, wrong_tier):
    case_id = ready_case(app)
    before = stored(app)
    with pytest.raises(InvalidTransition, match="village tier"):
        attempt(app, case_id, wrong_tier)
    assert stored(app) == before


def test_attempt_at_lower_tier_after_escalation_is_refused_and_stores_nothing(app):
    case_id = ready_case(app)
    for _ in range(3):
        attempt(app, case_id)
    before = stored(app)
    with pytest.raises(InvalidTransition, match="township tier"):
        attempt(app, case_id, "village")
    assert stored(app) == before


def test_attempt_without_interpreter_for_non_mandarin_party_is_refused_and_stores_nothing(app):
    case_id = ready_case(app)
    before = stored(app)
    with pytest.raises(InvalidTransition, match="P2 does not understand Mandarin.*miao"):
        attempt(app, case_id, interpreters=[])
    assert stored(app) == before


def test_attempt_with_interpreter_for_wrong_language_is_refused_and_stores_nothing(app):
    case_id = ready_case(app)
    before = stored(app)
    with pytest.raises(InvalidTransition, match="does not speak tujia"):
        attempt(app, case_id, interpreters=[{"party_id": "P2", "language": "tujia", "interpreter_id": "i-1"}])
    assert stored(app) == before


def test_attempt_naming_unknown_party_is_refused_and_stores_nothing(app):
    case_id = ready_case(app)
    before = stored(app)
    with pytest.raises(NotFound, match="no party P9"):
        attempt(
            app, case_id, interpreters=INTERPRETED + [{"party_id": "P9", "language": "miao", "interpreter_id": "i"}]
        )
    assert stored(app) == before


def test_attempt_on_concluded_case_is_refused_and_stores_nothing(app):
    case_id = ready_case(app)
    fail_up_to_county(app, case_id)
    fail_county(app, case_id)
    before = stored(app)
    with pytest.raises(InvalidTransition, match="concluded"):
        fail_county(app, case_id)
    assert stored(app) == before


def test_attempt_before_acceptance_is_refused_and_stores_nothing(app):
    case_id = open_case(app)
    before = stored(app)
    with pytest.raises(InvalidTransition, match="accept"):
        attempt(app, case_id)
    assert stored(app) == before


def test_acceptance_before_risk_check_is_refused_and_stores_nothing(app):
    case_id = open_case(app)
    before = stored(app)
    with pytest.raises(InvalidTransition, match="risk check"):
        app.accept_case(ADMIN, parse(c.AcceptCase, {"case_id": case_id}))
    assert stored(app) == before


def test_attempt_with_one_party_is_refused_and_stores_nothing(app):
    case_id = ready_case(app, parties=[{"name": "Zhang San", "languages": ["mandarin"], "understands_mandarin": True}])
    before = stored(app)
    with pytest.raises(InvalidTransition, match="two parties"):
        attempt(app, case_id, interpreters=[])
    assert stored(app) == before


def test_village_mediator_records_village_tier_attempt(app):
    case_id = ready_case(app)
    mediator = caller(Role.MEDIATOR, VILLAGE)
    assert attempt(app, case_id, who=mediator)["failures"]["village"] == 1


def test_village_mediator_cannot_record_township_tier_attempt_and_stores_nothing(app):
    case_id = ready_case(app)
    for _ in range(3):
        attempt(app, case_id)
    before = stored(app)
    with pytest.raises(Forbidden, match="township tier"):
        attempt(app, case_id, "township", who=caller(Role.MEDIATOR, VILLAGE))
    assert stored(app) == before


def test_township_officer_records_township_tier_attempt(app):
    case_id = ready_case(app)
    for _ in range(3):
        attempt(app, case_id)
    result = attempt(app, case_id, "township", who=caller(Role.TOWNSHIP_OFFICER, TOWNSHIP))
    assert result["failures"]["township"] == 1


def test_township_officer_cannot_record_county_tier_attempt_and_stores_nothing(app):
    case_id = ready_case(app)
    fail_up_to_county(app, case_id)
    before = stored(app)
    with pytest.raises(Forbidden):
        attempt(
            app,
            case_id,
            "county",
            who=caller(Role.TOWNSHIP_OFFICER, TOWNSHIP),
            referral={"route": "litigation", "note": "n"},
        )
    assert stored(app) == before


def test_other_village_mediator_cannot_record_attempt_and_stores_nothing(app):
    case_id = ready_case(app)
    before = stored(app)
    with pytest.raises(Forbidden):
        attempt(app, case_id, who=caller(Role.MEDIATOR, "433101001002"))
    assert stored(app) == before


def test_role_outside_mediation_cannot_record_attempt_and_stores_nothing(app):
    case_id = ready_case(app)
    before = stored(app)
    with pytest.raises(Forbidden, match="grid_worker"):
        attempt(app, case_id, who=caller(Role.GRID_WORKER, VILLAGE))
    assert stored(app) == before


def test_agreement_records_terms_and_follow_up_date(app):
    case_id = ready_case(app)
    follow_up = TODAY + timedelta(days=14)
    result = agree(app, case_id, follow_up_on=follow_up)
    reached = [e for e in app.events.get(UUID(case_id)) if type(e).__name__ == "AgreementReached"]
    assert result["status"] == "agreed"
    assert [(VAULT.open(e.terms), e.follow_up_on) for e in reached] == [("wall moved 1 m east", follow_up)]
    assert all(is_sealed(e.terms) for e in reached)


def test_agreement_with_follow_up_not_after_attempt_is_refused_and_stores_nothing(app):
    case_id = ready_case(app)
    before = stored(app)
    with pytest.raises(ValidationFailed, match="follow-up date"):
        agree(app, case_id, follow_up_on=TODAY)
    assert stored(app) == before


def test_attempt_on_agreed_case_is_refused_and_stores_nothing(app):
    case_id = ready_case(app)
    agree(app, case_id)
    before = stored(app)
    with pytest.raises(InvalidTransition, match="standing agreement"):
        attempt(app, case_id)
    assert stored(app) == before


def test_breach_reopens_case_at_its_current_tier(app):
    case_id = ready_case(app)
    for _ in range(3):
        attempt(app, case_id)
    agree(app, case_id, "township")
    reopened = app.record_follow_up(
        ADMIN,
        parse(
            c.RecordFollowUp,
            {"case_id": case_id, "held_on": TODAY.isoformat(), "outcome": "breached", "note": "wall rebuilt"},
        ),
        VAULT.seal,
    )
    assert (reopened["tier"], reopened["status"]) == ("township", "open")
    assert "agreement_or_conclusion" in reopened["missing_steps"]


def test_failure_after_breach_counts_towards_escalation(app):
    case_id = ready_case(app)
    attempt(app, case_id)
    attempt(app, case_id)
    agree(app, case_id)
    app.record_follow_up(
        ADMIN,
        parse(c.RecordFollowUp, {"case_id": case_id, "held_on": TODAY.isoformat(), "outcome": "breached", "note": "n"}),
        VAULT.seal,
    )
    assert attempt(app, case_id)["tier"] == "township"


def test_overdue_follow_up_is_flagged_once(app):
    case_id = ready_case(app)
    agree(app, case_id, follow_up_on=TODAY + timedelta(days=3))
    timer = caller(Role.SERVICE, actor_id="service:mediation")
    later = TODAY + timedelta(days=4)
    flags = [app.flag_overdue_follow_up(timer, UUID(case_id), later) for _ in range(2)]
    assert flags == [True, False]


def test_follow_up_not_yet_due_is_not_flagged(app):
    case_id = ready_case(app)
    agree(app, case_id, follow_up_on=TODAY + timedelta(days=3))
    timer = caller(Role.SERVICE, actor_id="service:mediation")
    assert app.flag_overdue_follow_up(timer, UUID(case_id), TODAY + timedelta(days=3)) is False


def test_archive_with_incomplete_checklist_is_refused_and_stores_nothing(app):
    case_id = ready_case(app)
    agree(app, case_id)
    before = stored(app)
    with pytest.raises(InvalidTransition, match="missing follow_up"):
        app.archive_case(ADMIN, parse(c.ArchiveCase, {"case_id": case_id}))
    assert stored(app) == before


def test_archive_after_complete_checklist_archives(app):
    case_id = ready_case(app)
    agree(app, case_id)
    app.record_follow_up(
        ADMIN,
        parse(
            c.RecordFollowUp,
            {"case_id": case_id, "held_on": TODAY.isoformat(), "outcome": "complied", "note": "wall stays"},
        ),
        VAULT.seal,
    )
    result = app.archive_case(ADMIN, parse(c.ArchiveCase, {"case_id": case_id}))
    assert (result["status"], result["missing_steps"]) == ("archived", [])


def test_concluded_case_archives_after_referral_confirmed(app):
    case_id = ready_case(app)
    fail_up_to_county(app, case_id)
    fail_county(app, case_id)
    app.record_follow_up(
        ADMIN,
        parse(
            c.RecordFollowUp,
            {
                "case_id": case_id,
                "held_on": TODAY.isoformat(),
                "outcome": "referral_confirmed",
                "note": "court docketed",
            },
        ),
        VAULT.seal,
    )
    assert app.archive_case(ADMIN, parse(c.ArchiveCase, {"case_id": case_id}))["status"] == "archived"


@pytest.mark.parametrize("residence, partner", [("422801", "hubei"), ("500241", "chongqing"), ("522201", "guizhou")])
def test_party_in_neighbouring_province_makes_case_joint(app, residence, partner):
    case_id = open_case(app)
    result = app.add_party(
        ADMIN,
        parse(
            c.AddParty,
            {
                "case_id": case_id,
                "name": "Tian Hua",
                "id_number": "42280119800101001X",
                "languages": ["tujia"],
                "understands_mandarin": False,
                "residence": residence,
            },
        ),
        VAULT.seal,
    )
    summary = [
        p
        for e in app.events.get(UUID(case_id))
        for t, p in publishing.contracts().public_events(e)
        if t == c.JOINT_CASE_SHARED
    ]
    assert result["partners"] == [residence]
    assert [(s.partner_jurisdiction, s.partner_province, s.party_count) for s in summary] == [(residence, partner, 3)]


def test_joint_case_summary_carries_no_names_or_id_numbers(app):
    case_id = open_case(app)
    app.add_party(
        ADMIN,
        parse(
            c.AddParty,
            {
                "case_id": case_id,
                "name": "Tian Hua",
                "id_number": "42280119800101001X",
                "languages": ["tujia"],
                "understands_mandarin": False,
                "residence": "422801",
            },
        ),
        VAULT.seal,
    )
    published = [
        p.model_dump_json() for e in app.events.get(UUID(case_id)) for _, p in publishing.contracts().public_events(e)
    ]
    assert published and not any(
        word in text for text in published for word in ("Tian Hua", "Zhang San", "42280119800101001X", "boundary")
    )


def test_attempt_on_site_across_the_border_makes_case_joint(app):
    case_id = ready_case(app)
    result = attempt(app, case_id, place="a field by the Youshui", place_code="500242")
    assert result["partners"] == ["500242"]


def test_party_within_the_province_keeps_case_local(app):
    case_id = open_case(app)
    result = app.add_party(
        ADMIN,
        parse(
            c.AddParty,
            {
                "case_id": case_id,
                "name": "Peng Li",
                "languages": ["mandarin"],
                "understands_mandarin": True,
                "residence": "433123",
            },
        ),
        VAULT.seal,
    )
    assert result["partners"] == []


# -- intake from grid_events --------------------------------------------------------


def dispute(source="petition", event_id=None, notification_id=1):
    payload = EventReported(
        event_id=event_id or uuid4(),
        grid_code=VILLAGE + "001",
        jurisdiction=VILLAGE,
        county=COUNTY,
        category="dispute",
        source=source,
        severity="medium",
        reported_at=datetime.now(UTC),
    )
    envelope = Envelope(
        source="grid_events",
        event_type="dispute_reported",
        schema_version=1,
        notification_id=notification_id,
        aggregate_id=str(payload.event_id),
        aggregate_version=1,
        occurred_at=payload.reported_at,
        audit={},
        data=payload.model_dump(mode="json"),
    )
    return envelope, payload


def test_dispute_reported_opens_case_with_id_from_grid_event(app):
    envelope, payload = dispute()
    app.open_from_grid_event(SERVICE, envelope, payload)
    case = app.repository.get(case_id_for(payload.event_id))
    assert (case.grid_event_id, case.jurisdiction, case.source, case.tier) == (
        payload.event_id,
        VILLAGE,
        "petition",
        "village",
    )


def test_dispute_reported_twice_opens_one_case(app):
    envelope, payload = dispute()
    app.open_from_grid_event(SERVICE, envelope, payload)
    after_first = stored(app)
    app.open_from_grid_event(SERVICE, envelope, payload)
    assert stored(app) == after_first


def test_patrol_dispute_is_governed_as_risk_source(app):
    envelope, payload = dispute(source="patrol")
    app.open_from_grid_event(SERVICE, envelope, payload)
    case = app.repository.get(case_id_for(payload.event_id))
    assert (case.source, case.reported_source) == ("risk", "patrol")


def test_direct_intake_for_consumed_grid_event_is_refused_and_stores_nothing(app):
    envelope, payload = dispute()
    app.open_from_grid_event(SERVICE, envelope, payload)
    before = stored(app)
    with pytest.raises(Conflict, match="already has a mediation case"):
        open_case(app, grid_event_id=str(payload.event_id))
    assert stored(app) == before


def test_dispute_after_direct_intake_opens_no_second_case(app):
    envelope, payload = dispute()
    case_id = open_case(app, grid_event_id=str(payload.event_id))
    version = app.repository.get(case_id_for(payload.event_id)).version
    app.open_from_grid_event(SERVICE, envelope, payload)
    assert case_id == str(case_id_for(payload.event_id))
    assert app.repository.get(case_id_for(payload.event_id)).version == version  # only the message is recorded


def test_case_from_grid_event_needs_subject_before_attempt(app):
    envelope, payload = dispute()
    app.open_from_grid_event(SERVICE, envelope, payload)
    case_id = str(case_id_for(payload.event_id))
    for name in ("A", "B"):
        app.add_party(
            ADMIN,
            parse(
                c.AddParty, {"case_id": case_id, "name": name, "languages": ["mandarin"], "understands_mandarin": True}
            ),
            VAULT.seal,
        )
    app.record_risk_check(
        ADMIN, parse(c.RecordRiskCheck, {"case_id": case_id, "level": "low", "note": "n"}), VAULT.seal
    )
    app.accept_case(ADMIN, parse(c.AcceptCase, {"case_id": case_id}))
    before = stored(app)
    with pytest.raises(InvalidTransition, match="subject"):
        attempt(app, case_id, interpreters=[])
    assert stored(app) == before


def test_dispute_from_a_person_is_refused_and_stores_nothing(app):
    envelope, payload = dispute()
    with pytest.raises(Forbidden):
        app.open_from_grid_event(ADMIN, envelope, payload)
    assert stored(app) == 0


# -- payload validation ------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, field",
    [
        ({"jurisdiction": "433101001"}, "jurisdiction"),  # a township, not a village
        ({"source": "patrol"}, "source"),  # not an Art. 9 source on direct intake
        ({"parties": [{"name": "X", "languages": ["mandarin"], "understands_mandarin": False}]}, "parties"),
        (
            {"parties": [{"name": "X", "languages": ["mandarin"], "understands_mandarin": True, "id_number": "123"}]},
            "id_number",
        ),
        ({"subject": ""}, "subject"),
    ],
)
def test_open_case_malformed_payload_is_refused(change, field):
    payload = {"jurisdiction": VILLAGE, "source": "petition", "subject": "s", **change}
    with pytest.raises(ValidationFailed, match=field):
        parse(c.OpenCase, payload)


def test_record_attempt_in_the_future_is_refused():
    with pytest.raises(ValidationFailed, match="held_on"):
        parse(
            c.RecordAttempt,
            {
                "case_id": str(uuid4()),
                "tier": "village",
                "mode": "peoples",
                "mediator_ids": ["m"],
                "place": "p",
                "held_on": (TODAY + timedelta(days=5)).isoformat(),
                "outcome": "failed",
            },
        )


def test_dispute_with_non_village_jurisdiction_is_refused_and_stores_nothing(app):
    envelope, payload = dispute()
    township_payload = payload.model_copy(update={"jurisdiction": "433101001"})
    with pytest.raises(ValidationFailed, match="village"):
        app.open_from_grid_event(SERVICE, envelope, township_payload)
    assert stored(app) == 0


def test_repeated_command_id_returns_first_result_and_stores_nothing(app):
    case_id = ready_case(app)
    first = attempt(app, case_id, command_id="attempt-1")
    after_first = stored(app)
    again = attempt(app, case_id, command_id="attempt-1")
    assert again == first
    assert stored(app) == after_first

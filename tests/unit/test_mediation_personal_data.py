"""Personal data in mediation: sealed before any event (one key per party, one per case for free text),
erasure by destroying keys, replay and read models after erasure, neutral topics."""

from datetime import timedelta
from uuid import UUID, uuid4

import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool

from services.mediation import contracts as c
from services.mediation import projections as views
from services.mediation import publishing
from services.mediation.application import MediationApplication
from services.mediation.domain import MediationCase, case_key, party_key
from shared.context import Role
from shared.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from shared.eventstore import AuditedAggregate, acting_as
from shared.projections import ProjectionRunner, create_view_tables
from shared.security.audit_log import ReadAudited
from shared.security.erasure import ErasureRecord
from shared.security.personal_data import ERASED, is_sealed
from shared.security.topics import event_topics, leaking_names
from shared.validation import parse
from tests.unit.test_mediation_domain import ADMIN, TODAY, VAULT, VILLAGE, caller

CANARY = f"Canary{uuid4().hex[:10]}"
ID_NUMBER = "43310119900101001X"
FREE_TEXT = {  # every free-text field of a case, each with the canary in it
    "subject": f"{CANARY} blocked the channel", "note": f"{CANARY} shouted", "place": f"{CANARY}'s courtyard",
    "terms": f"{CANARY} pays 200 yuan", "follow_up": f"{CANARY} paid",
}


@pytest.fixture
def app():
    return MediationApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def read_model(app):
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    create_view_tables(engine, views.projections())
    runner = ProjectionRunner(app, engine, views.CasesView())

    def case(case_id: str) -> dict:
        runner.catch_up()
        with engine.connect() as conn:
            return views.case_by_id(conn, case_id)

    return case


def stored_bytes(app) -> bytes:
    return b"".join(n.topic.encode() + n.state for n in app.recorder.select_notifications(start=1, limit=10_000))


def archived_case(app) -> str:
    """A case through its whole life with the canary in every personal field."""
    case_id = app.open_case(
        ADMIN,
        parse(
            c.OpenCase,
            {
                "jurisdiction": VILLAGE,
                "source": "petition",
                "subject": FREE_TEXT["subject"],
                "parties": [
                    {"name": CANARY, "id_number": ID_NUMBER, "languages": ["mandarin"], "understands_mandarin": True},
                    {"name": "Long Mei", "languages": ["miao"], "understands_mandarin": False},
                ],
            },
        ),
        VAULT.seal,
    )["case_id"]
    app.record_risk_check(
        ADMIN, parse(c.RecordRiskCheck, {"case_id": case_id, "level": "low", "note": FREE_TEXT["note"]}), VAULT.seal
    )
    app.accept_case(ADMIN, parse(c.AcceptCase, {"case_id": case_id}))
    app.record_attempt(
        ADMIN,
        parse(
            c.RecordAttempt,
            {
                "case_id": case_id,
                "tier": "village",
                "mode": "peoples",
                "mediator_ids": ["med-1"],
                "place": FREE_TEXT["place"],
                "held_on": TODAY.isoformat(),
                "outcome": "agreement",
                "interpreters": [{"party_id": "P2", "language": "miao", "interpreter_id": "interp-1"}],
                "agreement": {"terms": FREE_TEXT["terms"], "follow_up_on": (TODAY + timedelta(days=30)).isoformat()},
            },
        ),
        VAULT.seal,
    )
    app.record_follow_up(
        ADMIN,
        parse(
            c.RecordFollowUp,
            {"case_id": case_id, "held_on": TODAY.isoformat(), "outcome": "complied", "note": FREE_TEXT["follow_up"]},
        ),
        VAULT.seal,
    )
    app.archive_case(ADMIN, parse(c.ArchiveCase, {"case_id": case_id}))
    return case_id


def erase_case(app, case_id, who=ADMIN, reason="retention_ended") -> dict:
    return app.erase_case_personal_data(
        who, parse(c.EraseCasePersonalData, {"case_id": case_id, "reason": reason}), VAULT.erase
    )


def erase_party(app, case_id, party_id, who=ADMIN, reason="consent_withdrawn") -> dict:
    return app.erase_party(
        who, parse(c.ErasePartyData, {"case_id": case_id, "party_id": party_id, "reason": reason}), VAULT.erase
    )


def test_no_event_holds_a_personal_field_in_plaintext(app):
    case_id = archived_case(app)
    events = list(app.events.get(UUID(case_id)))
    assert CANARY.encode() not in stored_bytes(app) and ID_NUMBER.encode() not in stored_bytes(app)
    party = next(e for e in events if type(e).__name__ == "PartyAdded")
    assert (VAULT.open(party.name), VAULT.open(party.id_number)) == (CANARY, ID_NUMBER)
    published = [p.model_dump_json() for e in events for _, p in publishing.contracts().public_events(e)]
    assert published and not [text for text in published if CANARY in text or "pii1:" in text]


def test_each_party_has_a_key_of_their_own_and_free_text_the_cases(app):
    case_id = archived_case(app)
    case = app.repository.get(UUID(case_id))
    assert [p.name.split(":")[1] for p in case.parties.values()] == [party_key(case_id, "P1"), party_key(case_id, "P2")]
    assert case.subject.split(":")[1] == case_key(case_id)


@pytest.mark.parametrize("sealed_for", [None, "other-party", "case"])
def test_a_party_name_not_sealed_under_its_own_key_is_refused(app, sealed_for):
    case_id = app.open_case(
        ADMIN, parse(c.OpenCase, {"jurisdiction": VILLAGE, "source": "petition", "subject": "s"}), VAULT.seal
    )["case_id"]
    case = app.repository.get(UUID(case_id))
    name = {
        None: "Zhang San",
        "other-party": VAULT.seal(party_key(case_id, "P7"), "Zhang San"),
        "case": VAULT.seal(case_key(case_id), "Zhang San"),
    }[sealed_for]
    with acting_as(ADMIN.caller, "c"), pytest.raises(ValidationFailed, match="sealed under party"):
        case.add_party(name, None, ["mandarin"], True, None)


def test_plaintext_free_text_is_refused_by_the_domain(app):
    with acting_as(ADMIN.caller, "c"):
        with pytest.raises(ValidationFailed, match="subject"):
            MediationCase.open(
                uuid4(),
                jurisdiction=VILLAGE,
                source="petition",
                subject="plain words",
                grid_event_id=None,
                reported_source=None,
            )
        case_id = uuid4()
        case = MediationCase.open(
            case_id,
            jurisdiction=VILLAGE,
            source="petition",
            subject=VAULT.seal(case_key(case_id), "s"),
            grid_event_id=None,
            reported_source=None,
        )
        with pytest.raises(ValidationFailed, match="note"):
            case.record_risk_check("low", "plain note")


def test_erasing_one_party_leaves_the_other_and_the_case_readable(app):
    case_id = archived_case(app)
    before = app.recorder.max_notification_id()
    erase_party(app, case_id, "P1")
    shown = views.open_case_record(read_model(app)(case_id), VAULT.open)
    erased = [e for e in app.events.get(UUID(case_id)) if type(e).__name__ == "PartyErased"]
    assert [(p["party_id"], p["name"], p["erased"]) for p in shown["parties"]] == [
        ("P1", ERASED, True),
        ("P2", "Long Mei", False),
    ]
    assert shown["subject"] == FREE_TEXT["subject"]
    assert [(e.party_id, e.reason, e.audit["actor_id"]) for e in erased] == [("P1", "consent_withdrawn", "actor-1")]
    record = app.repository.get(ErasureRecord.create_id(party_key(case_id, "P1")))  # the kernel's record of it
    assert (record.kind, record.record_id, record.reason) == ("mediation case", case_id, "consent_withdrawn")
    assert app.recorder.max_notification_id() == before + 2  # PartyErased and the ErasureRecord, nothing else


def test_case_erasure_reads_erased_everywhere_and_replay_still_works(app):
    case_id = archived_case(app)
    result = erase_case(app, case_id)
    shown = views.open_case_record(read_model(app)(case_id), VAULT.open)  # a fresh read model: rebuilt from the log
    case = app.repository.get(UUID(case_id))  # replay from the first event
    events = list(app.events.get(UUID(case_id)))
    assert result["erased_keys"] == 3
    assert shown["subject"] == ERASED and shown["personal_data_erased"] is True
    assert [p["name"] for p in shown["parties"]] == [ERASED, ERASED]
    assert [a["place"] for a in shown["attempt_log"]] == [ERASED]
    assert case.personal_data_erased and case.status == "archived"
    assert {
        VAULT.open(v)
        for v in (
            case.subject,
            *(p.name for p in case.parties.values()),
            *(p.id_number for p in case.parties.values() if p.id_number),
        )
    } == {ERASED}
    assert [(type(e).__name__, e.reason, e.party_ids) for e in events[-1:]] == [
        ("PersonalDataErased", "retention_ended", ["P1", "P2"])
    ]


def test_nothing_more_is_sealed_for_an_erased_case(app):
    case_id = archived_case(app)
    erase_case(app, case_id)
    with pytest.raises(Conflict, match="erased"):
        VAULT.seal(case_key(case_id), "a late note")


def test_case_erasure_before_archive_is_refused_and_stores_nothing(app):
    case_id = app.open_case(
        ADMIN, parse(c.OpenCase, {"jurisdiction": VILLAGE, "source": "petition", "subject": "s"}), VAULT.seal
    )["case_id"]
    before = app.recorder.max_notification_id()
    with pytest.raises(InvalidTransition, match="archived"):
        erase_case(app, case_id)
    assert app.recorder.max_notification_id() == before
    assert VAULT.open(app.repository.get(UUID(case_id)).subject) == "s"


def test_erasing_twice_is_refused_and_stores_nothing(app):
    case_id = archived_case(app)
    erase_party(app, case_id, "P2")
    erase_case(app, case_id)
    before = app.recorder.max_notification_id()
    with pytest.raises(Conflict):
        erase_case(app, case_id)
    with pytest.raises(Conflict):
        erase_party(app, case_id, "P1")
    with pytest.raises(NotFound):
        erase_party(app, case_id, "P9")
    assert app.recorder.max_notification_id() == before


@pytest.mark.parametrize(
    "who",
    [
        caller(Role.MEDIATOR, VILLAGE),
        caller(Role.COUNTY_OFFICER, "433101"),
        caller(Role.VILLAGE_COMMITTEE, VILLAGE),
        caller(Role.JUSTICE, "433123"),  # another county's justice bureau
        caller(Role.JUSTICE, "433101001"),  # a township office: erasure is decided at county level or above
    ],
)
def test_erasure_by_others_than_county_justice_or_admin_is_refused_and_erases_nothing(app, who):
    case_id = archived_case(app)
    before = app.recorder.max_notification_id()
    with pytest.raises(Forbidden):
        erase_case(app, case_id, who=who)
    with pytest.raises(Forbidden):
        erase_party(app, case_id, "P1", who=who)
    assert app.recorder.max_notification_id() == before
    assert VAULT.open(app.repository.get(UUID(case_id)).subject) == FREE_TEXT["subject"]


def test_county_justice_bureau_erases(app):
    case_id = archived_case(app)
    assert erase_case(app, case_id, who=caller(Role.JUSTICE, "433101"))["erased_keys"] == 3


def test_erasure_reason_is_a_code_not_free_text():
    with pytest.raises(ValidationFailed, match="reason"):
        parse(c.EraseCasePersonalData, {"case_id": str(uuid4()), "reason": "Zhang San asked us to"})


@pytest.mark.parametrize("purpose, stated", [({}, None), ({"purpose": "supervision"}, "supervision")])
def test_get_case_purpose_is_optional_and_checked(purpose, stated):
    query = parse(c.GetCase, {"case_id": str(uuid4()), **purpose})
    assert (query.purpose.value if query.purpose else None) == stated
    with pytest.raises(ValidationFailed, match="purpose"):
        parse(c.GetCase, {"case_id": str(uuid4()), "purpose": "curiosity"})


def test_stored_topics_and_public_names_reveal_no_sensitive_category():
    names = [
        *event_topics(MediationCase, ReadAudited),
        *publishing.contracts().schemas,
        *(s.__name__ for s in publishing.contracts().schemas.values()),
        f"{c.SERVICE}.events",
        *views.SEALED_COLUMNS,
        *(t.name for p in views.projections() for t in p.tables),
    ]
    assert len(names) > 20
    assert leaking_names(names) == []


def test_every_personal_event_field_is_sealed_when_stored(app):
    """Every string field of every stored case event is an id, code, enum, date or a sealed value."""
    case_id = archived_case(app)
    erase_case(app, case_id)
    allowed_plain = {
        "jurisdiction",
        "source",
        "reported_source",
        "party_id",
        "residence",
        "level",
        "mode",
        "place_code",
        "outcome",
        "tier",
        "from_tier",
        "to_tier",
        "route",
        "reason",
        "originator_topic",
        "held_on",
        "follow_up_on",
        "county",
        "township",
        "province",
        "partner_jurisdiction",
    }
    plain = set()
    for e in app.events.get(UUID(case_id)):
        for name, value in vars(e).items():
            if isinstance(value, str) and not is_sealed(value) and name not in allowed_plain:
                plain.add((type(e).__name__, name))
    assert plain == set()
    assert issubclass(MediationCase, AuditedAggregate)

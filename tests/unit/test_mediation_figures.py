"""The read model and the figures of Arts. 9 and 11, projected from the in-memory log into SQLite."""

from datetime import timedelta

import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool

from services.mediation import contracts as c
from services.mediation import projections as views
from services.mediation.application import MediationApplication
from shared.projections import ProjectionRunner, create_view_tables
from shared.security.personal_data import is_sealed
from shared.validation import parse
from tests.unit.test_mediation_domain import (
    ADMIN,
    TODAY,
    VAULT,
    agree,
    attempt,
    fail_county,
    fail_up_to_county,
    open_case,
    ready_case,
)

OTHER_COUNTY_VILLAGE = "433123100201"


@pytest.fixture
def app():
    return MediationApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


@pytest.fixture
def read(app):
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    projections = views.projections()
    create_view_tables(engine, projections)
    runners = [ProjectionRunner(app, engine, projection) for projection in projections]

    def connection():
        for runner in runners:
            runner.catch_up()
        return engine.connect()

    return connection


def samples(family) -> dict:
    return {tuple(sorted(s.labels.items())): s.value for s in family.samples}


@pytest.fixture
def mixed_outcomes(app):
    """Jishou: one case agreed at the village, one agreed at the township after three village failures,
    one still at the township, one concluded at the county; Fenghuang: one agreed at the village."""
    agree(app, ready_case(app))
    climbed = ready_case(app)
    for _ in range(3):
        attempt(app, climbed)
    agree(app, climbed, "township")
    waiting = ready_case(app)
    for _ in range(3):
        attempt(app, waiting)
    referred = ready_case(app)
    fail_up_to_county(app, referred)
    fail_county(app, referred)
    agree(app, ready_case(app, jurisdiction=OTHER_COUNTY_VILLAGE))


def test_local_resolution_rate_counts_cases_each_tier_decided(app, read, mixed_outcomes):
    with read() as conn:
        figures = views.local_resolution(conn)
    assert figures == {
        ("433101", "village"): (1, 4),  # four left the village tier or ended there, one by agreement
        ("433101", "township"): (1, 2),  # the case still at the township is not decided yet
        ("433101", "county"): (0, 1),
        ("433123", "village"): (1, 1),
    }


def test_local_resolution_gauge_has_rate_per_county_and_tier(app, read, mixed_outcomes):
    with read() as conn:
        gauge = views.local_resolution_gauge(conn)
    assert gauge.name == "pingan_mediation_local_resolution_ratio"
    assert samples(gauge)[(("county", "433101"), ("service", "mediation"), ("tier", "village"))] == 0.25
    assert samples(gauge)[(("county", "433101"), ("service", "mediation"), ("tier", "township"))] == 0.5


def test_breached_agreement_no_longer_counts_as_resolved(app, read):
    case_id = ready_case(app)
    agree(app, case_id)
    app.record_follow_up(ADMIN, parse(c.RecordFollowUp, {"case_id": case_id, "held_on": TODAY.isoformat(),
                                                         "outcome": "breached", "note": "n"}), VAULT.seal)
    with read() as conn:
        assert views.local_resolution(conn) == {}


def test_open_cases_gauge_counts_by_tier_and_source(app, read, mixed_outcomes):
    with read() as conn:
        gauge = views.open_cases_gauge(conn)
    assert samples(gauge) == {
        (("county", "433101"), ("service", "mediation"), ("source", "petition"), ("tier", "village")): 1,
        (("county", "433101"), ("service", "mediation"), ("source", "petition"), ("tier", "township")): 2,
        (("county", "433123"), ("service", "mediation"), ("source", "petition"), ("tier", "village")): 1,
    }


def test_escalations_counted_by_target_tier(app, read, mixed_outcomes):
    with read() as conn:
        counter = views.escalations_counter(conn)
    assert samples(counter) == {
        (("county", "433101"), ("service", "mediation"), ("to_tier", "township")): 3,
        (("county", "433101"), ("service", "mediation"), ("to_tier", "county")): 1,
    }


def test_gauges_label_no_case_or_person(app, read, mixed_outcomes):
    with read() as conn:
        families = views.CasesView().gauges(conn)
    labels = {name for family in families for s in family.samples for name in s.labels}
    assert labels <= {"service", "county", "tier", "to_tier", "source"}


def test_case_detail_shows_parties_attempts_and_checklist(app, read):
    case_id = ready_case(app)
    attempt(app, case_id)
    with read() as conn:
        stored_row = views.case_by_id(conn, case_id)
    found = views.open_case_record(stored_row, VAULT.open)
    assert [p["name"] for p in found["parties"]] == ["Zhang San", "Long Mei"]
    assert [(a["number"], a["tier"], a["outcome"], a["on_site"], a["place"]) for a in found["attempt_log"]] == [
        (1, "village", "failed", True, "Long's courtyard")]
    # the read model itself holds only sealed values
    assert all(is_sealed(v) for v in [stored_row["subject"], *(p["name"] for p in stored_row["parties"]),
                                      *(a["place"] for a in stored_row["attempt_log"])])
    assert found["steps"] == ["intake", "risk_check", "acceptance", "mediation"]
    assert (found["tier"], found["village_failures"]) == ("village", 1)


def test_case_list_carries_no_subject(app, read):
    open_case(app)
    with read() as conn:
        listed = views.page_of(conn, views.cases_query("433101", None, None, None), 1, 10)
    assert listed["total"] == 1 and "subject" not in listed["items"][0]
    # no personal data at all, so the list is not an audited read (docs/services/mediation.md)
    assert not [k for k, v in listed["items"][0].items() if is_sealed(v)]


def test_overdue_candidates_are_agreements_past_follow_up_date(app, read):
    due = ready_case(app)
    agree(app, due, follow_up_on=TODAY + timedelta(days=2))
    agree(app, ready_case(app), follow_up_on=TODAY + timedelta(days=9))
    with read() as conn:
        assert views.overdue_candidates(conn, TODAY + timedelta(days=3)) == [due]

"""Audited reads on the in-memory store: one audit event per attempt, committed before data is returned."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.context import BreakGlass, CallerContext, Role
from shared.errors import Forbidden, NotFound, ValidationFailed
from shared.eventstore import Call, PinganApplication
from shared.security.audit_log import (
    ALLOWED,
    DENIED,
    NOT_FOUND,
    AuditTrail,
    AuditUnavailable,
    audited_list,
    audited_read,
)
from shared.security.policy import Category, Policy, Purpose

RECORDS = {
    "p-1": ({"name": "sealed"}, "433101001", "drug_users"),
    "p-2": ({"name": "sealed"}, "433122002", "minors"),
    "p-3": ({"name": "sealed"}, "433101", None),
}
READERS = {Role.POLICE, Role.CIVIL_AFFAIRS, Role.TOWNSHIP_OFFICER, Role.COUNTY_OFFICER}


class AuditApp(PinganApplication):
    name = "auditcheck"


def memory_app():
    return AuditApp(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def call_as(role=Role.POLICE, jurisdiction="433101", categories=("drug_users",), break_glass=None):
    return Call(CallerContext(actor_id="u-9", role=role, jurisdiction=jurisdiction,
                              categories=frozenset(categories), break_glass=break_glass), "call-9")


def read(trail, call, record_id, purpose="case_work", policy=None):
    return audited_read(trail, call, "read a person", READERS, "person", record_id, purpose,
                        load=lambda: RECORDS.get(record_id), policy=policy)


def test_audited_read_allowed_returns_data_after_one_audit_event():
    trail = AuditTrail(memory_app())
    assert read(trail, call_as(), "p-1") == {"name": "sealed"}
    [entry] = trail.entries()
    assert (entry.outcome, entry.record_ids, entry.purpose, entry.audit["actor_id"]) == (
        ALLOWED, ["p-1"], "case_work", "u-9")


def test_audited_read_denied_is_audited_too():
    trail = AuditTrail(memory_app())
    with pytest.raises(Forbidden):
        read(trail, call_as(), "p-2")
    [entry] = trail.entries()
    assert entry.outcome == DENIED and "outside" in entry.reason


def test_audited_read_not_found_is_audited():
    trail = AuditTrail(memory_app())
    with pytest.raises(NotFound):
        read(trail, call_as(), "p-404")
    assert [e.outcome for e in trail.entries()] == [NOT_FOUND]


def test_audited_read_fails_when_audit_cannot_be_written():
    app = memory_app()

    def broken_store(*args, **kwargs):
        raise OSError("disk full")

    app.recorder.insert_events = broken_store  # the log itself refuses the write
    with pytest.raises(AuditUnavailable):
        read(AuditTrail(app), call_as(), "p-1")


def test_audited_read_break_glass_is_flagged_for_review():
    grant = BreakGlass(reason="child missing after landslide", expires=datetime.now(UTC) + timedelta(hours=1))
    trail = AuditTrail(memory_app())
    assert read(trail, call_as(break_glass=grant), "p-2", purpose="emergency") == {"name": "sealed"}
    [entry] = trail.entries()
    assert (entry.break_glass, entry.review) == (True, True)


def test_audited_read_malformed_purpose_is_refused_before_any_audit():
    trail = AuditTrail(memory_app())
    with pytest.raises(ValidationFailed):
        read(trail, call_as(), "p-1", purpose="curiosity")
    assert list(trail.entries()) == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(attempts=st.lists(st.tuples(
    st.sampled_from(sorted(READERS | {Role.EDUCATION})),
    st.sampled_from(["433100", "433101", "433101001", "433122"]),
    st.frozensets(st.sampled_from([c.value for c in Category])),
    st.sampled_from(["p-1", "p-2", "p-3", "p-404"]),
    st.none() | st.sampled_from([p.value for p in Purpose]),
), min_size=1, max_size=8))
def test_audited_read_every_attempt_leaves_exactly_one_record(attempts):
    trail = AuditTrail(memory_app())
    policy = Policy()
    for number, (role, jurisdiction, categories, record_id, purpose) in enumerate(attempts, start=1):
        call = call_as(role, jurisdiction, categories)
        try:
            read(trail, call, record_id, purpose, policy)
            outcome = ALLOWED
        except Forbidden:
            outcome = DENIED
        except NotFound:
            outcome = NOT_FOUND
        entries = list(trail.entries())
        assert len(entries) == number
        assert (entries[-1].outcome, entries[-1].record_ids) == (outcome, [record_id])


def listing(trail, call, scope, purpose="supervision"):
    return audited_list(trail, call, "list persons", READERS, "person", scope, purpose,
                        load=lambda: ({"items": ["p-1"]}, ["p-1"]), category="drug_users")


def test_audited_list_allowed_names_the_returned_ids():
    trail = AuditTrail(memory_app())
    assert listing(trail, call_as(), "433101") == {"items": ["p-1"]}
    [entry] = trail.entries()
    assert (entry.outcome, entry.record_ids) == (ALLOWED, ["scope:433101", "p-1"])


def test_audited_list_denied_is_audited_and_loads_nothing():
    trail = AuditTrail(memory_app())
    with pytest.raises(Forbidden):
        audited_list(trail, call_as(), "list persons", READERS, "person", "433122", "supervision",
                     load=lambda: pytest.fail("a denied listing must not load"), category="drug_users")
    assert [(e.outcome, e.record_ids) for e in trail.entries()] == [(DENIED, ["scope:433122"])]

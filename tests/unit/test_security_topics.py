"""Stored topics and event types that would reveal a sensitive category are caught."""

from eventsourcing.domain import event

from shared.eventstore import AuditedAggregate
from shared.security.topics import event_topics, leaking_names


class DrugUser(AuditedAggregate):
    @event("Enrolled")
    def __init__(self, name: str):
        self.name = name


class Person(AuditedAggregate):
    @event("Enrolled")
    def __init__(self, sealed_category: str):
        self.sealed_category = sealed_category


def test_topics_naming_a_category_are_reported():
    assert "tests.unit.test_security_topics:DrugUser.Enrolled" in leaking_names(event_topics(DrugUser))


def test_topics_of_a_neutral_aggregate_pass():
    assert leaking_names(event_topics(Person)) == []


def test_topics_event_types_are_checked_too():
    assert leaking_names(["person_enrolled", "minor_case_opened"]) == ["minor_case_opened"]


def test_sensitive_word_inside_another_word_is_no_leak():
    assert leaking_names(["services.mediation.domain:MediationCase.Archived", "case_archived"]) == []
    assert leaking_names(["hiv_screening_recorded"]) == ["hiv_screening_recorded"]

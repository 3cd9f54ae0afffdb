"""Catch-up never tells a caller that a person is in a sensitive category they do not serve."""

from shared.catch_up import _visible
from shared.context import CallerContext, Role
from shared.eventstore import Call

VILLAGE = "433101001001"


def caller(*categories: str) -> Call:
    return Call(CallerContext(actor_id="officer-1", role=Role.TOWNSHIP_OFFICER, jurisdiction="433101001",
                              categories=frozenset(categories)), "call-1")


def test_catch_up_event_of_an_unserved_category_is_hidden():
    assert not _visible(caller("minors"), {"jurisdiction": VILLAGE, "category": "drug_users"}, None)


def test_catch_up_event_of_a_served_category_is_shown():
    assert _visible(caller("drug_users"), {"jurisdiction": VILLAGE, "category": "drug_users"}, None)


def test_catch_up_event_of_a_sensitive_service_needs_its_category():
    event = {"jurisdiction": VILLAGE, "category": "left_behind"}  # a minor's case: not a policy category itself
    assert not _visible(caller("drug_users"), event, "minors")
    assert _visible(caller("minors"), event, "minors")


def test_catch_up_event_without_category_follows_jurisdiction_only():
    assert _visible(caller(), {"jurisdiction": VILLAGE}, None)
    assert not _visible(caller(), {"jurisdiction": "433122001001"}, None)

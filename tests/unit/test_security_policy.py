"""The access policy against an independent reference rule, over random jurisdiction trees."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.access import authorize
from shared.context import BreakGlass, CallerContext, Role
from shared.errors import Forbidden, ValidationFailed
from shared.security.policy import INTEGRATION_ACTIONS, Category, Policy, Purpose

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
COUNTIES = ["433101", "433122", "433123", "433124", "433125", "433126", "433127", "433130"]

# Written out again from the regulation (Art. 7(4)(5)), not imported: the reference must be independent.
SERVES = {
    "police": {"drug_users", "community_correction"},
    "justice": {"community_correction", "released_persons"},
    "health": {"severe_mental_disorder", "drug_users"},
    "township_officer": {"drug_users", "community_correction", "released_persons", "severe_mental_disorder"},
    "civil_affairs": {"minors"},
    "education": {"minors"},
}
GRANTS = {
    "none": None,
    "valid": BreakGlass(reason="flood rescue, person missing", expires=NOW + timedelta(hours=1)),
    "expired": BreakGlass(reason="flood rescue, person missing", expires=NOW - timedelta(minutes=1)),
    "too_long": BreakGlass(reason="flood rescue, person missing", expires=NOW + timedelta(hours=5)),
}


@st.composite
def trees(draw):
    """A random ladder under prefecture 433100: node -> parent, built explicitly (never from code prefixes)."""
    parent = {"433100": None}
    for county in draw(st.lists(st.sampled_from(COUNTIES), min_size=1, max_size=3, unique=True)):
        parent[county] = "433100"
        for t in draw(st.lists(st.integers(1, 30), max_size=2, unique=True)):
            township = f"{county}{t:03d}"
            parent[township] = county
            for v in draw(st.lists(st.integers(1, 30), max_size=2, unique=True)):
                village = f"{township}{v:03d}"
                parent[village] = township
                for g in draw(st.lists(st.integers(1, 9), max_size=2, unique=True)):
                    parent[f"{village}{g:03d}"] = village
    return parent


def reference(parent, role, caller_node, caller_cats, roles, record_node, category, purpose, grant, action):
    if role not in roles:
        return False
    if role == "integration" and action not in INTEGRATION_ACTIONS:
        return False
    if category is not None and purpose is None:
        return False
    ancestors, node = set(), record_node
    while node is not None:
        ancestors.add(node)
        node = parent[node]
    serves = category is None or (category in caller_cats and category in SERVES.get(role, set()))
    if caller_node in ancestors and serves:
        return True
    return purpose is not None and grant == "valid" and role != "integration"


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_policy_matches_reference_rule(data):
    parent = data.draw(trees())
    nodes = sorted(parent)
    role = data.draw(st.sampled_from(list(Role)))
    caller_node = data.draw(st.sampled_from(nodes))
    record_node = data.draw(st.sampled_from(nodes))
    caller_cats = data.draw(st.frozensets(st.sampled_from([c.value for c in Category])))
    roles = data.draw(st.frozensets(st.sampled_from(list(Role)), min_size=1))
    category = data.draw(st.none() | st.sampled_from([c.value for c in Category]))
    purpose = data.draw(st.none() | st.sampled_from([p.value for p in Purpose]))
    grant = data.draw(st.sampled_from(sorted(GRANTS)))
    action = data.draw(st.sampled_from(["read", "report an event"]))
    caller = CallerContext(actor_id="u-1", role=role, jurisdiction=caller_node, categories=caller_cats,
                           break_glass=GRANTS[grant])
    decision = Policy(clock=lambda: NOW).decide(caller, action, roles, record_node, category, purpose)
    assert decision.allowed == reference(parent, role.value, caller_node, caller_cats, {r.value for r in roles},
                                         record_node, category, purpose, grant, action)
    assert decision.review == (decision.allowed and decision.break_glass)


def officer(**extra):
    return CallerContext(actor_id="p-1", role=Role.POLICE, jurisdiction="433101", **extra)


def test_policy_break_glass_read_is_flagged_for_review():
    caller = officer(break_glass=GRANTS["valid"])
    decision = Policy(clock=lambda: NOW).decide(caller, "read a person", {Role.POLICE}, "433122001",
                                                "minors", "emergency")
    assert (decision.allowed, decision.break_glass, decision.review) == (True, True, True)
    assert "flood rescue" in decision.reason


def test_policy_break_glass_never_lifts_the_role_limit():
    caller = officer(break_glass=GRANTS["valid"])
    decision = Policy(clock=lambda: NOW).decide(caller, "read", {Role.HEALTH}, "433101", None, "emergency")
    assert not decision.allowed


def test_policy_break_glass_does_not_widen_writes():
    caller = officer(break_glass=GRANTS["valid"])
    with pytest.raises(Forbidden):
        authorize(caller, "close an event", {Role.POLICE}, "433122")


def test_policy_sensitive_read_without_purpose_is_denied():
    caller = officer(categories=frozenset({"drug_users"}))
    decision = Policy().decide(caller, "read", {Role.POLICE}, "433101001", "drug_users", None)
    assert not decision.allowed and "purpose" in decision.reason


def test_policy_unknown_category_is_a_validation_error():
    with pytest.raises(ValidationFailed):
        Policy().decide(officer(), "read", {Role.POLICE}, "433101", "gamblers", "case_work")


def test_policy_token_category_needs_a_serving_role():
    caller = CallerContext(actor_id="e-1", role=Role.EDUCATION, jurisdiction="433101",
                           categories=frozenset({"drug_users"}))
    decision = Policy().decide(caller, "read", {Role.EDUCATION}, "433101", "drug_users", "case_work")
    assert not decision.allowed


def test_authorize_refuses_outside_jurisdiction_with_forbidden():
    with pytest.raises(Forbidden, match="outside the caller's jurisdiction"):
        authorize(officer(), "read an event", {Role.POLICE}, "433122001")

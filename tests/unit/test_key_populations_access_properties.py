"""Property-based test of key-population access: random callers (role, place in a jurisdiction tree,
served categories in the token, purpose) read random records; each read is allowed exactly when a
reference rule, written out here, says so, and every read — allowed or denied — leaves exactly one
audit record, a denied one opening no sealed value."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.context import Role
from shared.errors import Forbidden
from shared.security.audit_log import AuditTrail
from tests.unit.key_populations_support import Kit, caller, enrol_args

RUNS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

VILLAGES = ["433101001001", "433101001002", "433101100201", "433122002003"]
TREE = ["433100", "433101", "433122", "433101001", "433101100", "433122002", *VILLAGES]
CATEGORIES = ["community_correction", "released_persons", "severe_mental_disorder", "drug_users"]
# Art. 7(4), written out again so the reference does not borrow the policy under test.
SERVES = {Role.POLICE: {"drug_users", "community_correction"},
          Role.JUSTICE: {"community_correction", "released_persons"},
          Role.HEALTH: {"severe_mental_disorder", "drug_users"},
          Role.TOWNSHIP_OFFICER: set(CATEGORIES)}
ROLES = [Role.POLICE, Role.JUSTICE, Role.HEALTH, Role.TOWNSHIP_OFFICER, Role.COUNTY_OFFICER, Role.ADMIN,
         Role.AUDITOR, Role.GRID_WORKER]


def allowed(role: Role, where: str, categories: set[str], purpose: str | None, village: str, category: str) -> bool:
    subtree = "4331" if where == "433100" else where  # the prefecture's code ends in 00: it covers 4331xx
    return (role in SERVES and purpose is not None and village.startswith(subtree)
            and category in categories and category in SERVES[role])


@pytest.fixture(scope="module")
def world():
    kit = Kit()
    records = []
    for number, village in enumerate(VILLAGES):
        officer = caller(jurisdiction=village[:9], actor_id=f"town-{number}")
        person_id = f"kp-{number}"
        kit(officer).register_person(person_id=person_id, jurisdiction=village, name="Long Wei")
        for category in CATEGORIES:
            enrolment_id = kit(officer).enrol(**enrol_args(person_id, category))["enrolment_id"]
            records.append((enrolment_id, village, category))
    return kit, records


@RUNS
@given(role=st.sampled_from(ROLES), where=st.sampled_from(TREE),
       categories=st.sets(st.sampled_from(CATEGORIES)), purpose=st.sampled_from([None, "follow_up", "case_work"]),
       pick=st.integers(min_value=0, max_value=len(VILLAGES) * len(CATEGORIES) - 1))
def test_enrolment_read_follows_the_reference_rule_and_is_audited_once(world, role, where, categories, purpose,
                                                                        pick):
    kit, records = world
    enrolment_id, village, category = records[pick]
    who = caller(role, where, categories, actor_id="reader-1")
    trail = AuditTrail(kit.app)
    audits, opened = len(list(trail.entries())), kit.vault.opened
    try:
        found = kit(who).get_enrolment(enrolment_id=enrolment_id, purpose=purpose)
        outcome = True
    except Forbidden:
        found, outcome = None, False
    assert outcome == allowed(role, where, categories, purpose, village, category)
    assert len(list(trail.entries())) == audits + 1
    if outcome:
        assert found["team"][0]["name"] == "Tian Hua"
    else:
        assert kit.vault.opened == opened

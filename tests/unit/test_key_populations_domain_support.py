"""Builders shared by the key-populations domain tests: a real in-memory vault,
a caller, and a valid enrolment of each category (no tests here)."""

from contextlib import contextmanager
from datetime import date, timedelta

from services.key_populations.domain import Category, enrolment_class, person_key
from shared.context import CallerContext, Role, acting_as
from shared.testing import memory_vault

VILLAGE = "433101001001"
SAME_TOWNSHIP_VILLAGE = "433101001002"
OTHER_VILLAGE = "433122002003"  # Luxi
SENDER = "433101001"
RECEIVER = "433122002"
TODAY = date(2026, 12, 2)
ENROLLED = TODAY - timedelta(days=10)
PERSON = "kp-0001"


_VAULT: list = []


def sealed(text: str, person_id: str = PERSON) -> str:
    if not _VAULT:
        _VAULT.append(memory_vault())
    return _VAULT[0].seal(person_key(person_id), text)


def opened(value: str) -> str:
    return _VAULT[0].open(value)


@contextmanager
def acting(jurisdiction: str = SENDER, role: Role = Role.TOWNSHIP_OFFICER):
    caller = CallerContext(actor_id="officer-1", role=role, jurisdiction=jurisdiction)
    with acting_as(caller, "call-1"):
        yield


def team(person_id: str = PERSON, prefix: str = "m") -> list[dict]:
    return [
        {"member_id": f"{prefix}-township", "role": "township_official", "name": sealed("Tian Hua", person_id)},
        {"member_id": f"{prefix}-police", "role": "police_officer", "name": sealed("Peng Jun", person_id)},
        {"member_id": f"{prefix}-social", "role": "social_worker", "name": sealed("Xiang Li", person_id)},
        {"member_id": f"{prefix}-family", "role": "family_member", "name": sealed("Long Mei", person_id)},
    ]


def facts(category: str, person_id: str = PERSON) -> dict:
    return {
        Category.COMMUNITY_CORRECTION: {
            "correction_type": "parole", "supervision_start": ENROLLED - timedelta(days=5),
            "supervision_end": ENROLLED + timedelta(days=365), "reporting_every_days": 7,
            "duties": ["report_in_person", "education"]},
        Category.RELEASED_PERSONS: {"released_on": ENROLLED - timedelta(days=2), "prison": "Xiangxi Prison"},
        Category.SEVERE_MENTAL_DISORDER: {
            "diagnosis": "schizophrenia", "guardian_name": sealed("Peng Lan", person_id),
            "treatment_status": "outpatient"},
        Category.DRUG_USERS: {"measure": "community_drug_rehabilitation", "measure_start": ENROLLED,
                              "test_every_days": 30},
    }[Category(category)]


def enrol(category: str, **changes):
    """A valid enrolment of ``category`` (call inside ``acting()``)."""
    person_id = changes.get("person_id", PERSON)
    arguments = {
        "person_id": person_id, "jurisdiction": VILLAGE, "enrolled_on": ENROLLED, "today": TODAY,
        "facts": facts(category, person_id), "team": team(person_id), "responsible_id": "m-township",
        "risk_level": 1, **changes,
    }
    return enrolment_class(category).enrol(**arguments)


def event_names(aggregate) -> list[str]:
    return [type(e).__name__ for e in aggregate.pending_events]


CATEGORIES = [c.value for c in Category]

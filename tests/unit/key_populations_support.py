"""Builders for the key_populations service tests: callers per role and category, plaintext
commands as a client sends them, and the service's entrypoints on the in-memory kit."""

from datetime import date, timedelta

from services.key_populations import projections as views
from services.key_populations.application import KeyPopulationsApplication
from services.key_populations.service import KeyPopulationsService
from shared.context import CallerContext, Role
from shared.security.policy import KEY_POPULATIONS
from shared.testing import memory_app, memory_vault, service_worker

VILLAGE = "433101001001"
OTHER_VILLAGE = "433122002003"
SENDER = "433101001"
RECEIVER = "433122002"
TODAY = date(2026, 12, 2)
ENROLLED = TODAY - timedelta(days=10)
CANARY = "Canary Zhuang Qiu"  # a name that must never be stored, logged or published in plaintext
ALL = frozenset(c.value for c in KEY_POPULATIONS)


def caller(role: Role = Role.TOWNSHIP_OFFICER, jurisdiction: str = SENDER, categories=ALL,
           actor_id: str = "officer-1") -> CallerContext:
    return CallerContext(actor_id=actor_id, role=role, jurisdiction=jurisdiction, categories=frozenset(categories))


TOWNSHIP = caller()
RECEIVING = caller(jurisdiction=RECEIVER, actor_id="officer-2")
HEALTH = caller(Role.HEALTH, actor_id="doctor-1")
POLICE = caller(Role.POLICE, actor_id="police-1")
ADMIN = caller(Role.ADMIN, jurisdiction="433100", actor_id="admin-1")


def team(prefix: str = "m") -> list[dict]:
    return [{"member_id": f"{prefix}-township", "role": "township_official", "name": "Tian Hua"},
            {"member_id": f"{prefix}-police", "role": "police_officer", "name": "Peng Jun"},
            {"member_id": f"{prefix}-social", "role": "social_worker", "name": "Xiang Li"}]


FACTS = {
    "community_correction": {"correction_type": "parole", "supervision_start": str(ENROLLED - timedelta(days=5)),
                             "supervision_end": str(ENROLLED + timedelta(days=365)), "reporting_every_days": 7,
                             "duties": ["report_in_person"]},
    "released_persons": {"released_on": str(ENROLLED - timedelta(days=2)), "prison": "Xiangxi Prison"},
    "severe_mental_disorder": {"diagnosis": "schizophrenia", "guardian_name": "Peng Lan",
                               "treatment_status": "outpatient"},
    "drug_users": {"measure": "community_drug_rehabilitation", "measure_start": str(ENROLLED),
                   "test_every_days": 30},
}


def enrol_args(person_id: str, category: str, **changes) -> dict:
    return {"person_id": person_id, "category": category, "enrolled_on": str(ENROLLED), "facts": FACTS[category],
            "team": team(), "responsible_id": "m-township", "risk_level": 1, **changes}


class Kit:
    """The service over one in-memory app, vault and read models, on a movable clock."""

    def __init__(self):
        self.app = memory_app(KeyPopulationsApplication)
        self.vault = memory_vault()
        self.clock = {"today": TODAY}
        self.worker = service_worker(KeyPopulationsService, self.app, views.projections(), self.vault,
                                     today=lambda: self.clock["today"])

    def __call__(self, who: CallerContext):
        return self.worker(who)

    def person(self, person_id: str = "kp-1", name: str = "Long Wei") -> str:
        self(TOWNSHIP).register_person(person_id=person_id, jurisdiction=VILLAGE, name=name, contact="139-0000")
        return person_id

    def enrolled(self, category: str, person_id: str = "kp-1", **changes) -> str:
        if not self.app.exists(_person_uuid(person_id)):
            self.person(person_id)
        return self(TOWNSHIP).enrol(**enrol_args(person_id, category, **changes))["enrolment_id"]

    def stored_events(self) -> list:
        return list(self.app.recorder.select_notifications(1, 10_000))


def _person_uuid(person_id: str):
    from services.key_populations.domain import Person
    return Person.create_id(person_id)

"""After erasure a planted canary name is found nowhere: database dump, messages in flight,
logs, read models, metrics.

A small service built only from kernel parts (Store, a projection showing the
personal field, the relay publishing it, the vault, audited reads) stands in
for any service that keeps personal data.
"""

import os
import subprocess
import uuid

import pytest
from eventsourcing.domain import event
from prometheus_client import REGISTRY, generate_latest
from pydantic import BaseModel
from sqlalchemy import Column, MetaData, String, Table, Text, insert, select
from structlog.testing import capture_logs

from shared.access import authorize
from shared.context import Role
from shared.contracts import Contracts, Payload
from shared.dependencies import Store
from shared.entrypoints import ServiceBase, api
from shared.eventstore import AuditedAggregate, Call, PinganApplication, stable_id
from shared.projections import Projection, handles
from shared.security.audit_log import AuditTrail, audited_read
from shared.security.personal_data import ERASED
from shared.security.providers import PersonalDataVault
from tests.canary import unconsumed_queue, wait_for_in_flight

pytestmark = pytest.mark.integration

CANARY = f"Canary{uuid.uuid4().hex[:12]}"
OFFICERS = {Role.ADMIN, Role.COUNTY_OFFICER}


class Person(AuditedAggregate):
    @staticmethod
    def create_id(person_ref: str):
        return stable_id("person", person_ref)

    @event("Registered")
    def __init__(self, person_ref: str, name: str, jurisdiction: str):
        self.person_ref = person_ref
        self.name = name  # sealed: the plaintext never reaches the aggregate
        self.jurisdiction = jurisdiction
        self.erased = False

    def erase(self):
        self._erased()

    @event("Erased")  # no personal data: the record that an erasure happened
    def _erased(self):
        self.erased = True


class PeopleApplication(PinganApplication):
    name = "people"

    def register(self, call, person_ref, sealed_name, jurisdiction):
        def act():
            person = Person(person_ref=person_ref, name=sealed_name, jurisdiction=jurisdiction)
            return [person], {"person_ref": person_ref}

        return self.execute(call, act)

    def erase(self, call, person_ref):
        def act():
            person = self.load(Person, Person.create_id(person_ref), "person")
            person.erase()
            return [person], {"erased": person_ref}

        return self.execute(call, act)


people = Table("people_view", MetaData(), Column("person_ref", String(64), primary_key=True),
               Column("jurisdiction", String(15)), Column("name", Text))


class PeopleView(Projection):
    name = "people_view"
    tables = [people]

    @handles(Person.Registered)
    def registered(self, e, conn):
        conn.execute(insert(people).values(person_ref=e.person_ref, jurisdiction=e.jurisdiction, name=e.name))


class PersonRegistered(Payload):
    person_ref: str
    name: str  # sealed


def people_contracts():
    published = Contracts("people")
    published.publishes("person_registered", PersonRegistered)

    @published.maps(Person.Registered)
    def registered(e):
        yield "person_registered", PersonRegistered(person_ref=e.person_ref, name=e.name)

    return published


class RegisterPerson(BaseModel):
    name: str
    jurisdiction: str


class PersonQuery(BaseModel):
    person_ref: str
    purpose: str | None = None


class PeopleService(ServiceBase):
    name = "people"
    store = Store(PeopleApplication, [PeopleView()], people_contracts())
    vault = PersonalDataVault()

    @api(RegisterPerson)
    def register_person(self, call: Call, command: RegisterPerson) -> dict:
        authorize(call.caller, "register a person", OFFICERS, command.jurisdiction)
        person_ref = uuid.uuid4().hex
        return self.store.app.register(call, person_ref, self.vault.seal(person_ref, command.name),
                                       command.jurisdiction)

    @api(PersonQuery)
    def get_person(self, call: Call, query: PersonQuery) -> dict:
        def load():
            with self.store.read() as conn:
                row = conn.execute(select(people).where(people.c.person_ref == query.person_ref)).mappings().first()
            return (dict(row), row["jurisdiction"], None) if row else None

        row = audited_read(AuditTrail(self.store.app), call, "read a person", OFFICERS, "person",
                           query.person_ref, query.purpose, load)
        return self.vault.open_fields(row, ("name",))

    @api(PersonQuery)
    def erase_person(self, call: Call, query: PersonQuery) -> dict:
        authorize(call.caller, "erase a person", {Role.ADMIN}, "433100")
        self.vault.erase(query.person_ref)
        return self.store.app.erase(call, query.person_ref)


@pytest.fixture
def in_flight(service_config):
    with unconsumed_queue(service_config, "people", "person_registered") as queue:
        yield queue


def drain(queue) -> list[bytes]:
    bodies = []
    while (message := queue.get(no_ack=False)) is not None:
        bodies.append(message.body if isinstance(message.body, bytes) else message.body.encode())
    return bodies


def test_canary_is_found_nowhere_after_erasure(container_factory, service_config, pg_url, rpc_as, in_flight,
                                               debug_logs):
    with capture_logs() as structured:
        container = container_factory(PeopleService, service_config)
        container.start()
        with rpc_as(role=Role.ADMIN, jurisdiction="433100") as rpc:
            ref = rpc.people.register_person(name=CANARY, jurisdiction="433101")["person_ref"]
            assert rpc.people.get_person(person_ref=ref, purpose="case_work")["name"] == CANARY
            wait_for_in_flight(in_flight, 1)
            rpc.people.erase_person(person_ref=ref)
            assert rpc.people.get_person(person_ref=ref, purpose="case_work")["name"] == ERASED
        metrics_text = generate_latest(REGISTRY).decode()
        container.stop()

    db = pg_url.rsplit("/", 1)[1]
    dump = subprocess.run(["pg_dump", "-h", "127.0.0.1", "-U", "pingan", db], capture_output=True, check=True,
                          env={**os.environ, "PGPASSWORD": "pingan"}).stdout.decode()
    messages = drain(in_flight)
    assert "people_view" in dump and "pingan_person_keys" in dump  # the dump is of the right database
    assert messages, "the relayed event should still be in flight"
    places = {"database dump": dump, "messages in flight": b"".join(messages).decode(),
              "structured logs": repr(structured), "stdlib logs": debug_logs.text, "metrics": metrics_text}
    assert [where for where, text in places.items() if CANARY in text] == []

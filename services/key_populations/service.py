"""key_populations over nameko: thin entrypoints, each verify → parse → application."""

from __future__ import annotations

from uuid import UUID, uuid4

import structlog

from shared.clock import Clock, SettingTimer
from shared.commands import service_call
from shared.dependencies import Store
from shared.entrypoints import ServiceBase, api
from shared.eventstore import Call
from shared.queries import Reads
from shared.security import history
from shared.security.providers import PersonalDataVault
from shared.security.sealing import PersonalFields

from . import contracts as c
from . import projections as views
from . import publishing
from .application import PERSONAL_EVENTS, READERS, KeyPopulationsApplication
from .domain import Enrolment

log = structlog.get_logger(__name__)

# The record kinds whose history callers may ask for: decided on the record's category too.
RECORDS = history.RecordKinds(
    history.RecordKind("enrolment", Enrolment, "key-population enrolment", READERS,
                       jurisdiction=lambda e: e.jurisdiction, category=lambda e: e.category, id_field="enrolment_id"),
)

# Where personal data lives: sealed event fields, sealed read-model columns.
PERSONAL = PersonalFields(events=PERSONAL_EVENTS, columns=views.SEALED_COLUMNS)


class KeyPopulationsService(ServiceBase):
    name = c.SERVICE

    store = Store(KeyPopulationsApplication, views.projections(), publishing.contracts())
    vault = PersonalDataVault()  # per-person keys: identity and notes are sealed before any event
    today = Clock()

    # -- the person --------------------------------------------------------------------

    @api(c.RegisterPerson)
    def register_person(self, call: Call, command: c.RegisterPerson) -> dict:
        return self.store.app.register_person(call, command, self.vault.seal)

    @api(c.ErasePerson)
    def erase_person(self, call: Call, command: c.ErasePerson) -> dict:
        return self.store.app.erase_person(call, command, self.vault.erase)

    # -- enrolments, every category --------------------------------------------------------

    @api(c.Enrol)
    def enrol(self, call: Call, command: c.Enrol) -> dict:
        return self.store.app.enrol(call, command, self.vault.seal, self.today())

    @api(c.RecordFollowUp)
    def record_follow_up(self, call: Call, command: c.RecordFollowUp) -> dict:
        return self.store.app.record_follow_up(call, command, self.vault.seal, self.today())

    @api(c.ReassessRisk)
    def reassess_risk(self, call: Call, command: c.ReassessRisk) -> dict:
        return self.store.app.reassess_risk(call, command, self.today())

    @api(c.AssignTeam)
    def assign_team(self, call: Call, command: c.AssignTeam) -> dict:
        return self.store.app.assign_team(call, command, self.vault.seal)

    @api(c.InitiateTransfer)
    def initiate_transfer(self, call: Call, command: c.InitiateTransfer) -> dict:
        return self.store.app.initiate_transfer(call, command)

    @api(c.AcceptTransfer)
    def accept_transfer(self, call: Call, command: c.AcceptTransfer) -> dict:
        return self.store.app.accept_transfer(call, command, self.vault.seal)

    @api(c.RefuseTransfer)
    def refuse_transfer(self, call: Call, command: c.RefuseTransfer) -> dict:
        return self.store.app.refuse_transfer(call, command)

    @api(c.ExitEnrolment)
    def exit_enrolment(self, call: Call, command: c.ExitEnrolment) -> dict:
        return self.store.app.exit_enrolment(call, command, self.today())

    # -- per category ------------------------------------------------------------------------

    @api(c.RequestLeave)
    def request_leave(self, call: Call, command: c.RequestLeave) -> dict:
        return self.store.app.request_leave(call, command, self.today())

    @api(c.DecideLeave)
    def decide_leave(self, call: Call, command: c.DecideLeave) -> dict:
        return self.store.app.decide_leave(call, command)

    @api(c.RecordViolation)
    def record_violation(self, call: Call, command: c.RecordViolation) -> dict:
        return self.store.app.record_violation(call, command, self.vault.seal, self.today())

    @api(c.AcknowledgeHandover)
    def acknowledge_handover(self, call: Call, command: c.AcknowledgeHandover) -> dict:
        return self.store.app.acknowledge_handover(call, command, self.today())

    @api(c.RecordAssistance)
    def record_assistance(self, call: Call, command: c.RecordAssistance) -> dict:
        return self.store.app.record_assistance(call, command, self.vault.seal, self.today())

    @api(c.ChangeTreatment)
    def change_treatment(self, call: Call, command: c.ChangeTreatment) -> dict:
        return self.store.app.change_treatment(call, command)

    @api(c.ChangeGuardian)
    def change_guardian(self, call: Call, command: c.ChangeGuardian) -> dict:
        return self.store.app.change_guardian(call, command, self.vault.seal)

    @api(c.RecordDrugTest)
    def record_drug_test(self, call: Call, command: c.RecordDrugTest) -> dict:
        return self.store.app.record_drug_test(call, command, self.today())

    # -- periodic checks ------------------------------------------------------------------------

    @SettingTimer.decorator("key_population_check_interval", eager=True)
    def check_enrolments(self) -> int:
        """Flag overdue follow-ups (once per due date; the relay publishes ``follow_up_overdue``), record
        missed drug tests, end periods that are over. Returns how many records changed. Eager: a restart
        checks at once."""
        today = self.today()
        with self.store.read() as conn:
            candidates = views.check_candidates(conn, today)
        call = service_call(self.name, f"{self.name}.check.{uuid4().hex}")
        changed = sum(bool(self.store.app.check_enrolment(call, UUID(e), today)) for e in candidates)
        if changed:
            log.info("key_population_records_checked", changed=changed, day=today.isoformat())
        return changed

    # -- queries (read models, never replays): every one audited, per category ---------------------

    def reads(self, records: history.RecordKinds | None = RECORDS) -> Reads:
        return Reads(self.store, self.vault, views.page_of, PERSONAL, READERS, records)

    @api(c.GetPerson)
    def get_person(self, call: Call, query: c.GetPerson) -> dict:
        """The person's identity, read through a category they are enrolled in and the caller serves."""
        return self.reads(records=None).audited_one(
            call, query, "read a person", "key-population person", query.person_id,
            lambda conn, person_id: views.person_in_category(conn, person_id, query.category.value),
            category=lambda row: row["category"])

    @api(c.GetEnrolment)
    def get_enrolment(self, call: Call, query: c.GetEnrolment) -> dict:
        """The enrolment with its team, facts and follow-ups: audited first, opened after. With ``as_of``: the
        record as it stood then, rebuilt from its events."""
        return self.reads().audited_one(
            call, query, "read an enrolment", "enrolment", query.enrolment_id, views.enrolment_by_id,
            place=lambda row: _where_seen(row, call), open_row=lambda row: views.open_enrolment(row, self.vault.open),
            category=lambda row: row["category"])

    @api(c.ListEnrolments)
    def list_enrolments(self, call: Call, query: c.ListEnrolments) -> dict:
        """Ids, codes, levels and dates of one category: who is in a category is itself sensitive, so the
        list is decided on the category and audited with every id it returns."""
        return self.reads().audited_page(
            call, query, "list enrolments", "enrolment", "enrolment_id",
            lambda scope: views.enrolments_query(scope, query.category.value, query.active_only,
                                                 query.overdue_only, query.risk_level),
            category=query.category.value)

    @api(c.History)
    def history(self, call: Call, query: c.History) -> dict:
        """The enrolment's events in order, each with who, when and through which call: an audited read."""
        return RECORDS.history(self.store.app, self.vault, call, query)


def _where_seen(row: dict, call: Call) -> str:
    """During a transfer both villages see the record: the decision is on the one the caller covers."""
    receiving = row["transfer_to"]
    return receiving if receiving and call.caller.covers(receiving) else row["jurisdiction"]

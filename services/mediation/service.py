"""mediation over nameko: thin entrypoints, each verify → parse → application."""

from __future__ import annotations

from uuid import UUID, uuid4

from services.grid_events import contracts as grid_events
from shared.clock import Clock, SettingTimer
from shared.commands import service_call
from shared.contracts import Envelope
from shared.dependencies import Store
from shared.entrypoints import ServiceBase, api, consumes
from shared.errors import NotFound
from shared.eventstore import Call
from shared.queries import Reads
from shared.security import history
from shared.security.providers import PersonalDataVault
from shared.security.sealing import PersonalFields

from . import contracts as c
from . import projections as views
from . import publishing
from .application import READERS, MediationApplication
from .domain import MediationCase, party_key

# The record kinds whose history callers may ask for (shared.security.history).
RECORDS = history.RecordKinds(
    history.RecordKind("case", MediationCase, "mediation case", READERS,
                       jurisdiction=lambda case: case.jurisdiction, id_field="case_id"),
)

# Where personal data lives in the read models: per table, the sealed columns (opened by ``views.open_case_record``).
PERSONAL = PersonalFields(columns=tuple(sorted({name for names in views.SEALED_COLUMNS.values() for name in names})))


class MediationService(ServiceBase):
    name = c.SERVICE

    store = Store(MediationApplication, views.projections(), publishing.contracts())
    vault = PersonalDataVault()  # per-party and per-case keys: personal fields are sealed before any event
    today = Clock()

    # -- commands -------------------------------------------------------------

    @api(c.OpenCase)
    def open_case(self, call: Call, command: c.OpenCase) -> dict:
        return self.store.app.open_case(call, command, self.vault.seal)

    @api(c.AddParty)
    def add_party(self, call: Call, command: c.AddParty) -> dict:
        return self.store.app.add_party(call, command, self.vault.seal)

    @api(c.RecordSubject)
    def record_subject(self, call: Call, command: c.RecordSubject) -> dict:
        return self.store.app.record_subject(call, command, self.vault.seal)

    @api(c.RecordRiskCheck)
    def record_risk_check(self, call: Call, command: c.RecordRiskCheck) -> dict:
        return self.store.app.record_risk_check(call, command, self.vault.seal)

    @api(c.AcceptCase)
    def accept_case(self, call: Call, command: c.AcceptCase) -> dict:
        return self.store.app.accept_case(call, command)

    @api(c.RecordAttempt)
    def record_attempt(self, call: Call, command: c.RecordAttempt) -> dict:
        return self.store.app.record_attempt(call, command, self.vault.seal)

    @api(c.RecordFollowUp)
    def record_follow_up(self, call: Call, command: c.RecordFollowUp) -> dict:
        return self.store.app.record_follow_up(call, command, self.vault.seal)

    @api(c.ArchiveCase)
    def archive_case(self, call: Call, command: c.ArchiveCase) -> dict:
        return self.store.app.archive_case(call, command)

    # -- erasure (PIPL): the keys are destroyed, an event without personal data records it ------

    @api(c.ErasePartyData)
    def erase_party(self, call: Call, command: c.ErasePartyData) -> dict:
        return self.store.app.erase_party(call, command, self.vault.erase)

    @api(c.EraseCasePersonalData)
    def erase_case_personal_data(self, call: Call, command: c.EraseCasePersonalData) -> dict:
        return self.store.app.erase_case_personal_data(call, command, self.vault.erase)

    # -- events from other services ------------------------------------------

    @consumes(grid_events.SERVICE, grid_events.DISPUTE_REPORTED, grid_events.EventReported)
    def on_dispute_reported(self, call: Call, envelope: Envelope, dispute: grid_events.EventReported) -> None:
        self.store.app.open_from_grid_event(call, envelope, dispute)

    # -- periodic checks ------------------------------------------------------

    @SettingTimer.decorator("follow_up_check_interval")
    def check_follow_ups(self) -> int:
        """Flag agreements whose follow-up date has passed; returns how many were flagged now.
        Every ``PINGAN_FOLLOW_UP_CHECK_INTERVAL`` seconds (default 15 minutes; dates are whole days)."""
        today = self.today()
        with self.store.read() as conn:
            due = views.overdue_candidates(conn, today)
        call = service_call(self.name, f"{self.name}.follow_up_check.{uuid4().hex}")
        return sum(self.store.app.flag_overdue_follow_up(call, UUID(case_id), today) for case_id in due)

    # -- queries (read models, never replays) ---------------------------------

    def reads(self) -> Reads:
        return Reads(self.store, self.vault, views.page_of, PERSONAL, READERS, RECORDS)

    @api(c.GetCase)
    def get_case(self, call: Call, query: c.GetCase) -> dict:
        """The case with its parties' names: a personal record, so the read is audited first,
        and the sealed fields are opened only once the audit event is committed. With ``as_of``: the case
        as it stood then, rebuilt from its events."""
        return self.reads().audited_one(call, query, "read a mediation case", "case", query.case_id, views.case_by_id,
                                        place=lambda case: case["jurisdiction"],
                                        open_row=lambda case: views.open_case_record(case, self.vault.open))

    @api(c.ListCases)
    def list_cases(self, call: Call, query: c.ListCases) -> dict:
        """Ids, codes, tiers, statuses and dates only — no personal data (``views.LISTED``), so not audited."""
        return self.reads().page(call, query, "list mediation cases",
                                 lambda scope: views.cases_query(scope, query.tier, query.status, query.source))

    # -- the audit log as a feature (shared.security.history) ----------------------

    @api(c.History)
    def history(self, call: Call, query: c.History) -> dict:
        """The case's events in order, each with who, when and through which call: an audited read."""
        return RECORDS.history(self.store.app, self.vault, call, query)

    @api(c.AccessLog)
    def access_log(self, call: Call, query: c.AccessLog) -> dict:
        """Every audited read of the case a party belongs to. A party has no id beyond its case, so the person
        is named by their key subject, ``party.<case_id>.<party_id>`` (domain ``party_key``)."""
        return history.access_log(self.store.app, call, query, self._party_records(query.person_id))

    def _party_records(self, person_id: str) -> list[tuple[str, str]]:
        prefix, _, rest = person_id.partition(".")
        case_id, _, party_id = rest.rpartition(".")
        try:
            case = self.store.app.load(MediationCase, UUID(case_id), "mediation case") if prefix == "party" else None
        except (ValueError, NotFound):
            case = None
        if case is None or party_id not in case.parties or party_key(case.id, party_id) != person_id:
            return []
        return [(str(case.id), case.jurisdiction)]

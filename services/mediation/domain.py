"""Mediation domain: a dispute case that climbs village → township → county by
the rule of Art. 8, with attempts, interpreters, agreements, the Art. 9 process
checklist and joint mediation across the provincial border (Art. 4).

The tier is never set by a command: it follows from the failed attempts, one
escalation on the attempt that reaches the limit of its tier.

Personal fields arrive sealed (shared.security.sealing): a party's name
and ID number under that party's own key (``party_key``), the free text of the
case (subject, notes, place, agreement terms, referral note) under the case's
key (``case_key``). The commands refuse a plaintext or wrongly keyed value, so
no event can carry one; erasure destroys keys and records only that it happened.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import date
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import event

from shared.erasure import ErasureReason
from shared.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from shared.eventstore import AuditedAggregate, stable_id
from shared.jurisdiction import county_of
from shared.security.sealing import require_sealed

from .contracts import MANDARIN, FollowUpOutcome, Outcome, Source, Status, Tier  # noqa: F401 (the public vocabulary)

# Failed attempts a tier may have before the case goes up; the county is final.
FAILURE_LIMITS = {Tier.VILLAGE: 3, Tier.TOWNSHIP: 2, Tier.COUNTY: 1}
NEXT_TIER = {Tier.VILLAGE: Tier.TOWNSHIP, Tier.TOWNSHIP: Tier.COUNTY, Tier.COUNTY: None}
# Digits of the division code naming the unit of each tier (village 12, township 9, county 6).
TIER_CODE_LENGTH = {Tier.VILLAGE: 12, Tier.TOWNSHIP: 9, Tier.COUNTY: 6}


class Step(StrEnum):
    """The Art. 9 process checklist, in order."""

    INTAKE = "intake"
    RISK_CHECK = "risk_check"
    ACCEPTANCE = "acceptance"
    MEDIATION = "mediation"
    AGREEMENT_OR_CONCLUSION = "agreement_or_conclusion"
    FOLLOW_UP = "follow_up"
    ARCHIVE = "archive"


# -- value objects: what a case holds, typed (its events store them as plain fields) ----------


@dataclass(frozen=True)
class Party:
    """A party to the dispute; name and ID number sealed under the party's own key."""

    name: str
    id_number: str | None
    languages: tuple[str, ...]
    understands_mandarin: bool
    residence: str | None
    erased: bool = False


@dataclass(frozen=True)
class InterpreterAssignment:
    party_id: str
    language: str
    interpreter_id: str


@dataclass(frozen=True)
class Attempt:
    """One mediation session, as the caller describes it (the case adds its tier)."""

    mode: str
    mediator_ids: tuple[str, ...]
    place: str  # sealed under the case's key
    on_site: bool
    place_code: str | None
    held_on: date
    outcome: str
    interpreters: tuple[InterpreterAssignment, ...] = ()

    @classmethod
    def of(cls, value: Attempt | Mapping[str, Any]) -> Attempt:
        """From the fields a caller or a stored event gives (lists and dicts), or as is."""
        if isinstance(value, Attempt):
            return value
        fields = dict(value)
        fields["mediator_ids"] = tuple(fields["mediator_ids"])
        fields["interpreters"] = tuple(InterpreterAssignment(**i) for i in fields.get("interpreters", ()))
        return cls(**fields)

    def event_fields(self) -> dict[str, Any]:
        """The fields of an ``AttemptRecorded`` event, shaped as they have always been stored."""
        return {"mode": self.mode, "mediator_ids": list(self.mediator_ids), "place": self.place,
                "on_site": self.on_site, "place_code": self.place_code, "held_on": self.held_on,
                "outcome": self.outcome, "interpreters": [asdict(i) for i in self.interpreters]}


@dataclass(frozen=True)
class HeldAttempt:
    """What the case keeps of an attempt to apply its rules (the event keeps the rest)."""

    tier: str
    mode: str
    held_on: date
    outcome: str


@dataclass(frozen=True)
class Agreement:
    terms: str  # sealed under the case's key
    follow_up_on: date
    tier: str | None = None  # the tier that reached it (the domain sets it)

    @classmethod
    def of(cls, value: Agreement | Mapping[str, Any] | None) -> Agreement | None:
        return value if value is None or isinstance(value, Agreement) else cls(**value)


@dataclass(frozen=True)
class Referral:
    route: str
    note: str  # sealed under the case's key

    @classmethod
    def of(cls, value: Referral | Mapping[str, Any] | None) -> Referral | None:
        return value if value is None or isinstance(value, Referral) else cls(**value)


# -- key subjects of the personal-data vault -------------------------------------------
# One key per party, so erasing one party leaves the other's record readable; one key per
# case for its free text, which may name anyone (both parties, witnesses, a courtyard's owner).


def case_key(case_id: UUID | str) -> str:
    return f"case.{case_id}"


def party_key(case_id: UUID | str, party_id: str) -> str:
    return f"party.{case_id}.{party_id}"


# Division-code prefixes of the neighbouring provinces (Art. 4).
PARTNER_PROVINCES = {"42": "hubei", "50": "chongqing", "52": "guizhou"}


def partner_province(code: str | None) -> str | None:
    return PARTNER_PROVINCES.get(code[:2]) if code else None


class MediationCase(AuditedAggregate):
    """One dispute, from intake to archive."""

    @staticmethod
    def create_id(grid_event_id: UUID | None = None) -> UUID:
        # A case from a grid event has an id derived from it: one case per dispute,
        # however it arrives (consumed event or direct intake).
        return case_id_for(grid_event_id) if grid_event_id else uuid4()

    @classmethod
    def open(cls, case_id: UUID, jurisdiction: str, source: str, subject: str | None, grid_event_id: UUID | None,
             reported_source: str | None) -> MediationCase:
        """Open a case under an id chosen beforehand (``create_id``), so its subject can be sealed under
        the case's key before the first event exists."""
        require_sealed(case_key(case_id), subject=subject)
        return cls.create_with_id(cls.Opened, id=case_id, jurisdiction=jurisdiction, source=source, subject=subject,
                           grid_event_id=grid_event_id, reported_source=reported_source)

    @event("Opened")
    def __init__(self, jurisdiction: str, source: str, subject: str | None, grid_event_id: UUID | None,
                 reported_source: str | None):
        self.jurisdiction = jurisdiction
        self.source = source
        self.subject = subject
        self.grid_event_id = grid_event_id
        self.reported_source = reported_source
        self.tier = Tier.VILLAGE.value
        self.failures = {tier.value: 0 for tier in Tier}
        self.status = Status.OPEN.value
        self.parties: dict[str, Party] = {}
        self.attempts: list[HeldAttempt] = []
        self.partners: list[str] = []
        self.steps: list[str] = [Step.INTAKE.value]
        self.agreement: Agreement | None = None
        self.referral: Referral | None = None
        self.follow_up_overdue = False
        self.personal_data_erased = False

    # -- where the case stands ------------------------------------------------

    @property
    def county(self) -> str:
        return county_of(self.jurisdiction)

    def tier_unit(self, tier: str | None = None) -> str:
        """The division code of the unit that handles the case at ``tier`` (default: its current tier)."""
        return self.jurisdiction[: TIER_CODE_LENGTH[Tier(tier or self.tier)]]

    def missing_steps(self) -> list[str]:
        return [step.value for step in Step if step is not Step.ARCHIVE and step.value not in self.steps]

    # -- commands -------------------------------------------------------------

    def record_subject(self, subject: str) -> None:
        self._require_active("record the subject of")
        require_sealed(case_key(self.id), subject=subject)
        self._subject_recorded(subject)

    def next_party_id(self) -> str:
        """The id the next party will get (its vault key is ``party_key(case id, party id)``)."""
        return f"P{len(self.parties) + 1}"

    def add_party(self, name: str, id_number: str | None, languages: list[str], understands_mandarin: bool,
                  residence: str | None) -> str:
        self._require_active("add a party to")
        party_id = self.next_party_id()
        require_sealed(party_key(self.id, party_id), name=name, id_number=id_number)
        self._party_added(party_id, name, id_number, languages, understands_mandarin, residence)
        self._join_partner(residence)
        return party_id

    def record_risk_check(self, level: str, note: str) -> None:
        self._require_active("record a risk check on")
        require_sealed(case_key(self.id), note=note)
        self._risk_checked(level, note)

    def accept(self) -> None:
        self._require_active("accept")
        if Step.ACCEPTANCE.value in self.steps:
            raise Conflict(f"case {self.id} is already accepted")
        if Step.RISK_CHECK.value not in self.steps:
            raise InvalidTransition("a case is accepted after its risk check (Art. 9): record the risk check first")
        self._accepted()

    def record_attempt(self, tier: str, attempt: Attempt | Mapping[str, Any],
                       agreement: Agreement | Mapping[str, Any] | None,
                       referral: Referral | Mapping[str, Any] | None) -> None:
        """Record one mediation session at the current tier; a failure may escalate or conclude the case."""
        attempt, agreement, referral = Attempt.of(attempt), Agreement.of(agreement), Referral.of(referral)
        if self.status == Status.ARCHIVED.value:
            raise InvalidTransition(f"case {self.id} is archived")
        if self.status == Status.CONCLUDED.value:
            raise InvalidTransition(f"case {self.id} is concluded at the county tier; no further attempts")
        if self.status == Status.AGREED.value:
            raise InvalidTransition(
                f"case {self.id} has a standing agreement; record a breach at follow-up to reopen it")
        if tier != self.tier:
            raise InvalidTransition(
                f"case {self.id} is at the {self.tier} tier; a {tier}-tier attempt cannot be recorded")
        if Step.ACCEPTANCE.value not in self.steps:
            raise InvalidTransition("a case is mediated after it is accepted (Art. 9): accept it first")
        if not self.subject:
            raise InvalidTransition("record the subject of the dispute before the first attempt")
        if len(self.parties) < 2:
            raise InvalidTransition("a dispute needs at least two parties registered before an attempt")
        self._check_interpreters(attempt.interpreters)
        require_sealed(case_key(self.id), place=attempt.place,
                       terms=agreement.terms if agreement else None, note=referral.note if referral else None)
        outcome = Outcome(attempt.outcome)
        limit_reached = self.failures[self.tier] + 1 >= FAILURE_LIMITS[Tier(self.tier)]
        final = outcome is Outcome.FAILED and NEXT_TIER[Tier(self.tier)] is None
        if outcome is Outcome.AGREEMENT and agreement is None:
            raise ValidationFailed("an attempt that reaches agreement records its terms and follow-up date")
        if outcome is Outcome.FAILED and agreement is not None:
            raise ValidationFailed("a failed attempt has no agreement")
        if final and referral is None:
            raise ValidationFailed("a failed county-tier attempt concludes the case and needs a referral")
        if referral is not None and not final:
            raise ValidationFailed("only a failed county-tier attempt concludes the case with a referral")
        if agreement is not None and agreement.follow_up_on <= attempt.held_on:
            raise ValidationFailed("the follow-up date must come after the attempt")

        self._attempt_recorded(tier=self.tier, **attempt.event_fields())
        self._join_partner(attempt.place_code)
        if outcome is Outcome.AGREEMENT:
            self._agreement_reached(tier=self.tier, terms=agreement.terms, follow_up_on=agreement.follow_up_on)
        elif final:
            self._concluded(route=referral.route, note=referral.note)
        elif limit_reached:
            self._escalated(from_tier=self.tier, to_tier=NEXT_TIER[Tier(self.tier)].value,
                            failed_attempts=self.failures[self.tier])

    def record_follow_up(self, held_on: date, outcome: str, note: str) -> None:
        if self.status == Status.ARCHIVED.value:
            raise InvalidTransition(f"case {self.id} is archived")
        if outcome == FollowUpOutcome.REFERRAL_CONFIRMED:
            if self.status != Status.CONCLUDED.value:
                raise InvalidTransition("a referral is confirmed only on a case concluded with a referral")
        elif self.status != Status.AGREED.value:
            raise InvalidTransition(f"case {self.id} has no standing agreement to follow up")
        elif held_on < self.attempts[-1].held_on:
            raise ValidationFailed("a follow-up cannot precede the attempt that reached the agreement")
        require_sealed(case_key(self.id), note=note)
        if outcome == FollowUpOutcome.BREACHED:
            self._agreement_breached(held_on=held_on, note=note)
        else:
            self._followed_up(held_on=held_on, outcome=outcome, note=note)

    def flag_follow_up_overdue(self, today: date) -> bool:
        """Flag a standing agreement whose follow-up date has passed without a follow-up (once)."""
        if (self.status != Status.AGREED.value or self.follow_up_overdue
                or Step.FOLLOW_UP.value in self.steps or self.agreement.follow_up_on >= today):
            return False
        self._follow_up_overdue_flagged(follow_up_on=self.agreement.follow_up_on)
        return True

    def archive(self) -> None:
        if self.status == Status.ARCHIVED.value:
            raise InvalidTransition(f"case {self.id} is already archived")
        missing = self.missing_steps()
        if missing:
            raise InvalidTransition(f"the process checklist is incomplete (Art. 9): missing {', '.join(missing)}",
                                    {"missing": missing})
        self._archived()

    # -- erasure (PIPL) -----------------------------------------------------------

    def erase_party(self, party_id: str, reason: str) -> list[str]:
        """Record that one party's personal data is erased; returns the vault key to destroy."""
        party = self.parties.get(party_id)
        if party is None:
            raise NotFound(f"case {self.id} has no party {party_id}")
        if party.erased:
            raise Conflict(f"party {party_id} of case {self.id} is already erased")
        self._party_erased(party_id=party_id, reason=ErasureReason(reason).value)
        return [party_key(self.id, party_id)]

    def erase_personal_data(self, reason: str) -> list[str]:
        """Record that every personal field of the case is erased (retention over: archived cases only);
        returns the vault keys to destroy: the case's and each party's."""
        if self.status != Status.ARCHIVED.value:
            raise InvalidTransition(f"case {self.id} is {self.status}: its personal data is erased once it is archived "
                                    "(erase a single party with erase_party)")
        if self.personal_data_erased:
            raise Conflict(f"the personal data of case {self.id} is already erased")
        party_ids = sorted(self.parties)
        self._personal_data_erased(reason=ErasureReason(reason).value, party_ids=party_ids)
        return [case_key(self.id)] + [party_key(self.id, party_id) for party_id in party_ids]

    # -- rules ------------------------------------------------------------------

    def _require_active(self, action: str) -> None:
        if self.status in (Status.CONCLUDED.value, Status.ARCHIVED.value):
            raise InvalidTransition(f"cannot {action} a case that is {self.status}")

    def _check_interpreters(self, interpreters: tuple[InterpreterAssignment, ...]) -> None:
        for assigned in interpreters:
            party = self.parties.get(assigned.party_id)
            if party is None:
                raise NotFound(f"case {self.id} has no party {assigned.party_id}")
            if assigned.language not in party.languages:
                raise InvalidTransition(
                    f"party {assigned.party_id} does not speak {assigned.language}: "
                    f"an interpreter for {', '.join(party.languages)} is needed")
        for party_id, party in self.parties.items():
            if party.understands_mandarin:
                continue
            covered = {a.language for a in interpreters if a.party_id == party_id} - {MANDARIN}
            if not covered:
                raise InvalidTransition(
                    f"party {party_id} does not understand Mandarin: assign an interpreter for "
                    f"{' or '.join(party.languages)} to the attempt (Art. 8)", {"party_id": party_id})

    def _join_partner(self, code: str | None) -> None:
        # Partners are recorded at county level: the border linkage of Art. 4 pairs counties.
        if partner_province(code) and code[:6] not in self.partners:
            self._partner_joined(partner_jurisdiction=code[:6], province=partner_province(code),
                                 county=self.county, township=self.tier_unit(Tier.TOWNSHIP), tier=self.tier,
                                 source=self.source, party_count=len(self.parties))

    # -- events (mutate only) ---------------------------------------------------

    @event("SubjectRecorded")
    def _subject_recorded(self, subject: str) -> None:
        self.subject = subject

    @event("PartyAdded")
    def _party_added(self, party_id: str, name: str, id_number: str | None, languages: list[str],
                     understands_mandarin: bool, residence: str | None) -> None:
        self.parties[party_id] = Party(name=name, id_number=id_number, languages=tuple(languages),
                                       understands_mandarin=understands_mandarin, residence=residence)

    @event("PartnerJoined")
    def _partner_joined(self, partner_jurisdiction: str, province: str, county: str, township: str, tier: str,
                        source: str, party_count: int) -> None:
        # The event carries the de-identified summary the partner receives.
        self.partners.append(partner_jurisdiction)

    @event("RiskChecked")
    def _risk_checked(self, level: str, note: str) -> None:
        self.risk_level = level
        self._done(Step.RISK_CHECK)

    @event("Accepted")
    def _accepted(self) -> None:
        self._done(Step.ACCEPTANCE)

    @event("AttemptRecorded")
    def _attempt_recorded(self, tier: str, mode: str, mediator_ids: list[str], place: str, on_site: bool,
                          place_code: str | None, held_on: date, outcome: str, interpreters: list[dict]) -> None:
        self.attempts.append(HeldAttempt(tier=tier, mode=mode, held_on=held_on, outcome=outcome))
        if outcome == Outcome.FAILED:
            self.failures[tier] += 1
        self._done(Step.MEDIATION)

    @event("Escalated")
    def _escalated(self, from_tier: str, to_tier: str, failed_attempts: int) -> None:
        self.tier = to_tier

    @event("AgreementReached")
    def _agreement_reached(self, tier: str, terms: str, follow_up_on: date) -> None:
        self.agreement = Agreement(terms=terms, follow_up_on=follow_up_on, tier=tier)
        self.status = Status.AGREED.value
        self.follow_up_overdue = False
        self._done(Step.AGREEMENT_OR_CONCLUSION)

    @event("AgreementBreached")
    def _agreement_breached(self, held_on: date, note: str) -> None:
        # The broken agreement no longer resolves the case: mediation resumes at the same tier.
        self.agreement = None
        self.status = Status.OPEN.value
        self.follow_up_overdue = False
        self.steps = [s for s in self.steps if s not in (Step.AGREEMENT_OR_CONCLUSION, Step.FOLLOW_UP)]

    @event("FollowedUp")
    def _followed_up(self, held_on: date, outcome: str, note: str) -> None:
        self.follow_up_overdue = False
        self._done(Step.FOLLOW_UP)

    @event("FollowUpOverdueFlagged")
    def _follow_up_overdue_flagged(self, follow_up_on: date) -> None:
        self.follow_up_overdue = True

    @event("Concluded")
    def _concluded(self, route: str, note: str) -> None:
        self.referral = Referral(route=route, note=note)
        self.status = Status.CONCLUDED.value
        self._done(Step.AGREEMENT_OR_CONCLUSION)

    @event("Archived")
    def _archived(self) -> None:
        self.status = Status.ARCHIVED.value
        self._done(Step.ARCHIVE)

    @event("PartyErased")  # no personal data: which party, why; who and when are in the audit stamp
    def _party_erased(self, party_id: str, reason: str) -> None:
        self.parties[party_id] = replace(self.parties[party_id], erased=True)

    @event("PersonalDataErased")
    def _personal_data_erased(self, reason: str, party_ids: list[str]) -> None:
        self.personal_data_erased = True
        for party_id in party_ids:
            self.parties[party_id] = replace(self.parties[party_id], erased=True)

    def _done(self, step: Step) -> None:
        if step.value not in self.steps:
            self.steps.append(step.value)


def case_id_for(grid_event_id: UUID) -> UUID:
    return stable_id("mediation-case", str(grid_event_id))

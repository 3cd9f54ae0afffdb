"""The escalation rule of Art. 8, driven by random command sequences.

After every step the case's tier must be what the rule dictates from the count
of failed attempts alone (3 at the village, then 2 at the township, the county
final), whatever else was tried; a refused command must store nothing, and
every command the model says is allowed must be accepted.
"""

from datetime import timedelta
from uuid import UUID, uuid4

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from services.mediation import contracts as c
from services.mediation.application import MediationApplication
from shared.clock import local_today
from shared.context import CallerContext, Role
from shared.errors import PinganError
from shared.eventstore import Call
from shared.validation import parse
from tests.unit.test_mediation_domain import VAULT

VILLAGE = "433101001001"
TODAY = local_today()
# Who may act at which tier: the unit of the tier must lie in the caller's jurisdiction.
CALLERS = {
    "village mediator": (Role.MEDIATOR, VILLAGE),
    "neighbouring village mediator": (Role.MEDIATOR, "433101001002"),
    "township officer": (Role.TOWNSHIP_OFFICER, "433101001"),
    "county justice bureau": (Role.JUSTICE, "433101"),
    "other county officer": (Role.COUNTY_OFFICER, "433123"),
}
REACH = {  # the tiers each caller may handle
    "village mediator": {"village"},
    "neighbouring village mediator": set(),
    "township officer": {"village", "township"},
    "county justice bureau": {"village", "township", "county"},
    "other county officer": set(),
}


def rule_tier(village_failures: int, township_failures: int) -> str:
    """Art. 8 restated independently of the code under test."""
    if village_failures < 3:
        return "village"
    if township_failures < 2:
        return "township"
    return "county"


def as_call(who: str) -> Call:
    role, jurisdiction = CALLERS[who]
    return Call(CallerContext(actor_id=who.replace(" ", "-"), role=role, jurisdiction=jurisdiction), uuid4().hex)


class TierRule(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.app = MediationApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
        admin = Call(CallerContext(actor_id="admin", role=Role.ADMIN, jurisdiction="433100"), "setup")
        self.case_id = self.app.open_case(admin, parse(c.OpenCase, {
            "jurisdiction": VILLAGE, "source": "police_call", "subject": "irrigation water",
            "parties": [{"name": "A", "languages": ["mandarin"], "understands_mandarin": True},
                        {"name": "B", "languages": ["tujia"], "understands_mandarin": False}]}), VAULT.seal)["case_id"]
        self.app.record_risk_check(
            admin, parse(c.RecordRiskCheck, {"case_id": self.case_id, "level": "low", "note": "n"}), VAULT.seal
        )
        self.app.accept_case(admin, parse(c.AcceptCase, {"case_id": self.case_id}))
        self.failures = {"village": 0, "township": 0, "county": 0}
        self.status = "open"
        self.followed_up = False

    @property
    def tier(self) -> str:
        return rule_tier(self.failures["village"], self.failures["township"])

    def stored(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def run(self, command, allowed: bool) -> bool:
        """Run a command; it must be accepted exactly when the model allows it, and store nothing when refused."""
        before = self.stored()
        try:
            command()
        except PinganError:
            assert not allowed, "the model allows this command but it was refused"
            assert self.stored() == before, "a refused command stored events"
            return False
        assert allowed, "the model refuses this command but it was accepted"
        assert self.stored() > before
        return True

    @rule(
        tier=st.sampled_from(["village", "township", "county"]),
        outcome=st.sampled_from(["failed", "agreement"]),
        who=st.sampled_from(sorted(CALLERS)),
        interpreter=st.booleans(),
        referral=st.booleans(),
    )
    def record_attempt(self, tier: str, outcome: str, who: str, interpreter: bool, referral: bool) -> None:
        final = outcome == "failed" and self.tier == "county"
        allowed = (
            self.status == "open"
            and tier == self.tier
            and self.tier in REACH[who]
            and interpreter
            and referral == final
        )
        payload = {
            "case_id": self.case_id,
            "tier": tier,
            "mode": "peoples",
            "mediator_ids": ["m-1"],
            "place": "a field",
            "on_site": True,
            "held_on": TODAY.isoformat(),
            "outcome": outcome,
            "interpreters": [{"party_id": "P2", "language": "tujia", "interpreter_id": "i-1"}] if interpreter else [],
        }
        if outcome == "agreement":
            payload["agreement"] = {"terms": "t", "follow_up_on": (TODAY + timedelta(days=30)).isoformat()}
        if referral:
            payload["referral"] = {"route": "arbitration", "note": "n"}
        command = parse(c.RecordAttempt, payload)
        if self.run(lambda: self.app.record_attempt(as_call(who), command, VAULT.seal), allowed):
            if outcome == "agreement":
                self.status = "agreed"
            else:
                self.failures[self.tier] += 1
                if final:
                    self.status = "concluded"

    @rule(outcome=st.sampled_from(["failed", "failed", "failed", "agreement"]), data=st.data())
    def record_well_formed_attempt(self, outcome: str, data: st.DataObject) -> None:
        """An attempt a careful mediator would send: right tier, entitled caller, interpreter, referral if final.

        Random attempts alone rarely climb to the county; these make every tier reachable.
        """
        who = data.draw(st.sampled_from(sorted(w for w, tiers in REACH.items() if self.tier in tiers)))
        self.record_attempt(self.tier, outcome, who, True, outcome == "failed" and self.tier == "county")
        event(f"tier after attempt: {self.tier} ({self.status})")

    @rule(outcome=st.sampled_from(["complied", "breached", "referral_confirmed"]))
    def record_follow_up(self, outcome: str) -> None:
        allowed = (self.status == "agreed" and outcome != "referral_confirmed") or (
            self.status == "concluded" and outcome == "referral_confirmed"
        )
        command = parse(
            c.RecordFollowUp, {"case_id": self.case_id, "held_on": TODAY.isoformat(), "outcome": outcome, "note": "n"}
        )
        if self.run(lambda: self.app.record_follow_up(as_call("county justice bureau"), command, VAULT.seal), allowed):
            if outcome == "breached":
                self.status, self.followed_up = "open", False
            else:
                self.followed_up = True

    @rule()
    def archive(self) -> None:
        allowed = self.status in ("agreed", "concluded") and self.followed_up
        command = parse(c.ArchiveCase, {"case_id": self.case_id})
        if self.run(lambda: self.app.archive_case(as_call("county justice bureau"), command), allowed):
            self.status = "archived"

    @rule(who=st.sampled_from(sorted(CALLERS)))
    def add_party(self, who: str) -> None:
        allowed = self.status in ("open", "agreed") and self.tier in REACH[who]
        command = parse(
            c.AddParty, {"case_id": self.case_id, "name": "C", "languages": ["mandarin"], "understands_mandarin": True}
        )
        self.run(lambda: self.app.add_party(as_call(who), command, VAULT.seal), allowed)

    @rule()
    def accept_again(self) -> None:
        command = parse(c.AcceptCase, {"case_id": self.case_id})
        self.run(lambda: self.app.accept_case(as_call("county justice bureau"), command), False)

    @invariant()
    def tier_is_what_the_rule_dictates(self) -> None:
        case = self.app.repository.get(UUID(self.case_id))
        assert case.failures == self.failures
        assert case.tier == self.tier
        assert case.status == self.status


def test_tier_follows_failure_count_under_any_command_sequence():
    run_state_machine_as_test(
        TierRule,
        settings=settings(
            max_examples=150, stateful_step_count=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
        ),
    )

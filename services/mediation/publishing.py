"""mediation's private half of its contract: the public events each domain event becomes
(docs/architecture.md, "The contract split"). Only the relay uses it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shared.contracts import Contracts, Payload
from shared.jurisdiction import county_or_self

from . import contracts as c
from .domain import MediationCase


def contracts() -> Contracts:
    published = Contracts.declaring(c.SERVICE, c.PUBLISHED)

    @published.maps(MediationCase.Opened)
    def opened(e: Any) -> Iterable[tuple[str, Payload]]:
        yield c.CASE_OPENED, c.CaseOpened(case_id=e.originator_id, grid_event_id=e.grid_event_id,
                                          jurisdiction=e.jurisdiction, county=county_or_self(e.jurisdiction),
                                          tier=c.Tier.VILLAGE.value, source=e.source, opened_at=e.timestamp)

    @published.maps(MediationCase.Escalated)
    def escalated(e: Any) -> Iterable[tuple[str, Payload]]:
        yield c.CASE_ESCALATED, c.CaseEscalated(case_id=e.originator_id, from_tier=e.from_tier, to_tier=e.to_tier,
                                                failed_attempts=e.failed_attempts, escalated_at=e.timestamp)

    @published.maps(MediationCase.AgreementReached)
    def agreed(e: Any) -> Iterable[tuple[str, Payload]]:
        yield c.AGREEMENT_REACHED, c.AgreementReached(case_id=e.originator_id, tier=e.tier,
                                                      follow_up_on=e.follow_up_on, reached_at=e.timestamp)

    @published.maps(MediationCase.AgreementBreached)
    def breached(e: Any) -> Iterable[tuple[str, Payload]]:
        yield c.AGREEMENT_BREACHED, c.AgreementBreached(case_id=e.originator_id, breached_on=e.held_on)

    @published.maps(MediationCase.FollowUpOverdueFlagged)
    def overdue(e: Any) -> Iterable[tuple[str, Payload]]:
        yield c.FOLLOW_UP_OVERDUE, c.FollowUpOverdue(case_id=e.originator_id, follow_up_on=e.follow_up_on)

    @published.maps(MediationCase.Concluded)
    def concluded(e: Any) -> Iterable[tuple[str, Payload]]:
        yield c.CASE_CONCLUDED, c.CaseConcluded(case_id=e.originator_id, route=e.route, concluded_at=e.timestamp)

    @published.maps(MediationCase.Archived)
    def archived(e: Any) -> Iterable[tuple[str, Payload]]:
        yield c.CASE_ARCHIVED, c.CaseArchived(case_id=e.originator_id, archived_at=e.timestamp)

    @published.maps(MediationCase.PartnerJoined)
    def joined(e: Any) -> Iterable[tuple[str, Payload]]:
        yield c.JOINT_CASE_SHARED, c.JointCaseShared(
            case_id=e.originator_id, partner_jurisdiction=e.partner_jurisdiction, partner_province=e.province,
            county=e.county, township=e.township, tier=e.tier, source=e.source, party_count=e.party_count,
            shared_at=e.timestamp)

    return published

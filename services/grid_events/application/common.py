"""What every family of grid_events commands shares: roles, record types, key subjects."""

from __future__ import annotations

from shared.commands import RecordType
from shared.context import Role
from shared.errors import ValidationFailed
from shared.jurisdiction import Level
from shared.security.sealing import Erase, Seal, check_opaque_id, is_sealed, sealed_under

from ..domain import (
    PARTICIPANT_TEXT,
    EventReport,
    MajorDecision,
    Participant,
    Risk,
    WorkItem,
    is_reserved_subject,
    record_subject,
)

__all__ = ["Erase", "Seal"]

OFFICERS = {Role.ADMIN, Role.PREFECTURE_OFFICER, Role.COUNTY_OFFICER, Role.TOWNSHIP_OFFICER}
REPORTERS = OFFICERS | {Role.GRID_WORKER, Role.VILLAGE_COMMITTEE, Role.POLICE, Role.INTEGRATION}
HANDLERS = OFFICERS | {Role.DEPARTMENT_OFFICER, Role.POLICE}
FEEDBACK_GIVERS = OFFICERS | {Role.GRID_WORKER, Role.VILLAGE_COMMITTEE}
CHECKLIST_TICKERS = OFFICERS | {Role.GRID_WORKER, Role.VILLAGE_COMMITTEE, Role.DEPARTMENT_OFFICER, Role.POLICE}
READERS = set(Role) - {Role.SERVICE}

UNIT_KEEPERS = OFFICERS | {Role.DEPARTMENT_OFFICER}
WORK_LIST_KEEPERS = OFFICERS | {Role.VILLAGE_COMMITTEE}
WORK_DOERS = WORK_LIST_KEEPERS | {Role.GRID_WORKER, Role.DEPARTMENT_OFFICER}
RISK_FINDERS = OFFICERS | {Role.GRID_WORKER, Role.VILLAGE_COMMITTEE, Role.DEPARTMENT_OFFICER, Role.POLICE}
RISK_HANDLERS = OFFICERS | {Role.DEPARTMENT_OFFICER, Role.POLICE}
DECISION_ASSESSORS = OFFICERS | {Role.DEPARTMENT_OFFICER, Role.JUSTICE}
FAMILY_ASSESSORS = OFFICERS | {Role.GRID_WORKER, Role.VILLAGE_COMMITTEE, Role.CIVIL_AFFAIRS}
SERVICE_ONLY = {Role.SERVICE}
# Erasure destroys data for good: officers of a county or above, within their jurisdiction.
ERASERS = {Role.ADMIN, Role.PREFECTURE_OFFICER, Role.COUNTY_OFFICER}


# Units registered without a parent: the top of this platform's ladder.
ROOT_LEVELS = {Level.PROVINCE, Level.PREFECTURE}
# Coordination bodies sit at the prefecture and the counties (Art. 2).
BODY_LEVELS = {Level.PREFECTURE, Level.COUNTY}


def _summary(report: EventReport) -> dict:
    return {"event_id": str(report.id), "status": report.status, "version": report.version,
            "external_ref": getattr(report, "external_ref", None)}


def _item_summary(item: WorkItem) -> dict:
    return {"item_id": str(item.id), "status": item.status, "due_date": item.due_date, "version": item.version}


def _risk_summary(risk: Risk) -> dict:
    return {"risk_id": str(risk.id), "status": risk.status, "level": risk.level, "version": risk.version}


def _decision_summary(decision: MajorDecision) -> dict:
    return {"decision_id": str(decision.id), "status": decision.status, "version": decision.version}


# The records commands change in place, each where the access policy finds it.
REPORT = RecordType(EventReport, "event report", lambda report: report.jurisdiction, _summary)
ITEM = RecordType(WorkItem, "work item", lambda item: item.grid_code, _item_summary)
RISK = RecordType(Risk, "risk", lambda risk: risk.jurisdiction, _risk_summary)
DECISION = RecordType(MajorDecision, "major decision", lambda decision: decision.jurisdiction, _decision_summary)


def person(person_id: str, field: str = "person_id", *, recorded: bool = False) -> str:
    """A person id used as a key subject: opaque (never a resident ID number, docs/security.md),
    and not one of the subjects reserved for records' text (domain/erasure.py). ``recorded``: an id
    already in the log (to erase), which may predate the opaque rule."""
    if not recorded:
        check_opaque_id(person_id, field)
    if is_reserved_subject(person_id):
        raise ValidationFailed(f"a person id may not start with {person_id.split('.')[0]!r}.", {"field": field})
    return person_id


def participant_subject(participant: Participant) -> str:
    """A volunteer's subject is the one its name is sealed under (``volunteer.<hex>``), so erasing the
    volunteer shreds the name and the recognition notes at once; an organisation's is ``participant.<id>``."""
    if is_sealed(participant.name):
        return sealed_under(participant.name)  # type: ignore[return-value]
    return record_subject(PARTICIPANT_TEXT, participant.id)

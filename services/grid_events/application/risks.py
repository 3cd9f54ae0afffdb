"""The risk register: registered, warned, measures, re-inspected, defused, feedback, closed."""

from __future__ import annotations

from uuid import uuid4

from shared.access import authorize
from shared.commands import Commands
from shared.context import Role
from shared.eventstore import Call
from shared.security.sealing import made_here

from .. import contracts as c
from ..domain import RISK_TEXT, Risk, record_subject
from .common import FEEDBACK_GIVERS, OFFICERS, RISK, RISK_FINDERS, RISK_HANDLERS, Seal, _risk_summary, person


class Risks(Commands):
    # -- risks ----------------------------------------------------------------------

    def register_risk(self, call: Call, command: c.RegisterRisk, seal: Seal) -> dict:
        authorize(call.caller, "register a risk", RISK_FINDERS, command.jurisdiction)

        def act():
            self.require_place(command.jurisdiction)
            unit = self.member_unit(command.responsible_unit, command.jurisdiction)
            responsible = person(command.responsible_person_id, "responsible_person_id")
            risk_id = uuid4()
            subject = made_here(record_subject(RISK_TEXT, risk_id))  # a new record: no key to look up
            risk = Risk.create_with_id(
                Risk.Registered, id=risk_id,
                jurisdiction=command.jurisdiction,
                category=command.category.value,
                source=command.source.value,
                level=command.level.value,
                place=seal(subject, command.place),
                description=seal(subject, command.description),
                responsible_unit=unit.unit_id,
                responsible_person_id=command.responsible_person_id,
                responsible_person_name=seal(responsible, command.responsible_person_name),
            )
            return [risk], _risk_summary(risk)

        return self.execute(call, act, command.command_id)

    def issue_warning(self, call: Call, command: c.IssueWarning) -> dict:
        return self.change(call, RISK, command.risk_id, "issue a warning", RISK_HANDLERS,
                           lambda risk: risk.issue_warning(command.level.value), command_id=command.command_id)

    def change_risk_level(self, call: Call, command: c.ChangeRiskLevel) -> dict:
        return self.change(call, RISK, command.risk_id, "change a warning level", RISK_HANDLERS,
                           lambda risk: risk.change_level(command.level.value), command_id=command.command_id)

    def assign_risk_responsibility(self, call: Call, command: c.AssignRiskResponsibility, seal: Seal) -> dict:
        def assign(risk: Risk) -> None:
            unit = self.member_unit(command.unit, risk.jurisdiction)
            risk.require_open("reassign")
            responsible = person(command.person_id)
            risk.assign_responsibility(unit.unit_id, command.person_id, seal(responsible, command.person_name))

        return self.change(call, RISK, command.risk_id, "assign a risk's responsibility",
                           OFFICERS, assign, command_id=command.command_id)

    # The risk's free text (measures, notes, feedback) is sealed under risk.<id>, after the step's check.

    def start_risk_measures(self, call: Call, command: c.StartRiskMeasures, seal: Seal) -> dict:
        reinspection = command.reinspection_date.isoformat() if command.reinspection_date else None

        def start(risk: Risk) -> None:
            risk.check_start_measures(reinspection)
            risk.start_measures(seal(record_subject(RISK_TEXT, risk.id), command.measures), reinspection)

        return self.change(call, RISK, command.risk_id, "start measures", RISK_HANDLERS, start,
                           command_id=command.command_id)

    def record_reinspection(self, call: Call, command: c.RecordReinspection, seal: Seal) -> dict:
        def reinspect(risk: Risk) -> None:
            risk.check_reinspection()
            risk.record_reinspection(command.passed, seal(record_subject(RISK_TEXT, risk.id), command.note))

        return self.change(call, RISK, command.risk_id, "record a re-inspection", RISK_HANDLERS,
                           reinspect, command_id=command.command_id)

    def defuse_risk(self, call: Call, command: c.DefuseRisk, seal: Seal) -> dict:
        def defuse(risk: Risk) -> None:
            risk.check_defuse()
            risk.defuse(seal(record_subject(RISK_TEXT, risk.id), command.note))

        return self.change(call, RISK, command.risk_id, "defuse a risk", RISK_HANDLERS, defuse,
                           command_id=command.command_id)

    def report_risk_feedback(self, call: Call, command: c.ReportRiskFeedback, seal: Seal) -> dict:
        def feedback(risk: Risk) -> None:
            risk.check_feedback()
            risk.report_feedback(seal(record_subject(RISK_TEXT, risk.id), command.feedback))

        return self.change(call, RISK, command.risk_id, "report feedback on a risk",
                           FEEDBACK_GIVERS | {Role.DEPARTMENT_OFFICER}, feedback, command_id=command.command_id)

    def close_risk(self, call: Call, command: c.CloseRisk) -> dict:
        return self.change(call, RISK, command.risk_id, "close a risk", OFFICERS,
                           lambda risk: risk.close(), command_id=command.command_id)

"""Warnings (Art. 6(4)): issued as the rules require, in the OASIS CAP 1.2
standard format, and never edited once published.

Rules:
- A warning is a chain of CAP messages: the first is an Alert; each later one
  is an Update or a Cancel whose ``references`` names every earlier message of
  the chain as ``sender,identifier,sent`` (the previous one last).
- A published version is never changed; an update appends a new version.
- A cancelled warning can be neither updated nor cancelled again.
- Each version carries the CAP facts: category (one or more), event,
  urgency, severity, certainty, effective and expires (expires after
  effective), and the area as jurisdiction codes within the issuer's
  jurisdiction. The warning level (blue, yellow, orange, red) goes with the
  CAP severity (Minor, Moderate, Severe, Extreme). An optional polygon (a
  closed ring of WGS 84 points) outlines the area more closely.
- Status is Actual, or Exercise for a drill, for the whole chain.
- Sent times are instants passed by the caller, never before the previous
  version's; all times are kept with their UTC offset and whole seconds.
- A warning is public: it holds no personal data.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from shared.errors import InvalidTransition, ValidationFailed
from shared.eventstore import AuditedAggregate, stable_id
from shared.jurisdiction import covers

# The public vocabulary: the CAP 1.2 enumerations are the contract's, so they cannot drift apart.
from ..contracts import CapCategory, CapSeverity, CapStatus, Certainty, MsgType, Urgency, WarningLevel
from .common import instant, parse_instant, require_code

# The CAP severity each warning colour is published with.
LEVEL_SEVERITY = {WarningLevel.BLUE: CapSeverity.MINOR, WarningLevel.YELLOW: CapSeverity.MODERATE,
                  WarningLevel.ORANGE: CapSeverity.SEVERE, WarningLevel.RED: CapSeverity.EXTREME}


class WarningStatus(StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"


# CAP 1.2: sender and identifier hold no spaces, commas, '<' or '&'.
_CAP_TOKEN = re.compile(r"^[^\s,<&]{1,200}$")


def _enum(kind: type[StrEnum], name: str, value: Any) -> str:
    try:
        return kind(value).value
    except ValueError:
        raise ValidationFailed(f"{value!r} is not a CAP {name}") from None


def message_identifier(warning_id: UUID | str, version: int) -> str:
    return f"pingan-warning-{warning_id}-{version}"


class EmergencyWarning(AuditedAggregate):
    """One warning and every CAP message published for it, in order."""

    PERSONAL_FIELDS: tuple[str, ...] = ()  # public by nature: nothing personal is recorded

    @staticmethod
    def create_id(issue_ref: str) -> UUID:
        # One warning per issuing command, however often the command is delivered.
        return stable_id("warning", issue_ref)

    @classmethod
    def issue(cls, issue_ref: str, jurisdiction: str, sender: str, status: str, info: dict[str, Any],
              at: datetime, incident_id: str | None = None) -> EmergencyWarning:
        if not _CAP_TOKEN.match(sender or ""):
            raise ValidationFailed("a CAP sender has no spaces, commas, '<' or '&'")
        status = _enum(CapStatus, "status (Actual or Exercise)", status)
        require_code("jurisdiction", jurisdiction)
        facts = _info(info, jurisdiction)
        warning_id = cls.create_id(issue_ref)
        message = {"identifier": message_identifier(warning_id, 1), "sender": sender, "sent": instant("at", at),
                   "status": status, "msg_type": MsgType.ALERT.value, "references": [], "incident_id": incident_id,
                   **facts}
        return cls.create_with_id(cls.Issued, id=warning_id, issue_ref=issue_ref, jurisdiction=jurisdiction,
                                  message=message)

    @event("Issued")
    def __init__(self, issue_ref: str, jurisdiction: str, message: dict):
        self.issue_ref = issue_ref
        self.jurisdiction = jurisdiction
        self.status = WarningStatus.ACTIVE.value
        self.messages: list[dict] = [message]

    @property
    def current(self) -> dict:
        return self.messages[-1]

    def in_force(self, at: datetime) -> bool:
        """Whether the warning applies at ``at``: active, effective and not yet expired."""
        moment = parse_instant(instant("at", at))
        return (self.status == WarningStatus.ACTIVE and parse_instant(self.current["effective"]) <= moment
                < parse_instant(self.current["expires"]))

    # -- commands --------------------------------------------------------------------

    def update(self, info: dict[str, Any], at: datetime) -> dict:
        """Publish an Update that replaces the info of the warning; returns the new message."""
        self._require_active("update")
        facts = _info(info, self.jurisdiction)
        message = self._next(MsgType.UPDATE, facts, at)
        self._updated(message=message)
        return dict(message)

    def cancel(self, at: datetime) -> dict:
        """Publish a Cancel of the warning (its last info, referencing every earlier message)."""
        self._require_active("cancel")
        facts = {key: self.current[key] for key in INFO_KEYS}
        message = self._next(MsgType.CANCEL, facts, at)
        self._cancelled(message=message)
        return dict(message)

    def _require_active(self, action: str) -> None:
        if self.status == WarningStatus.CANCELLED:
            raise InvalidTransition(f"warning {self.id} is cancelled; it cannot be {action}d")

    def _next(self, msg_type: MsgType, facts: dict, at: datetime) -> dict:
        sent = instant("at", at)
        if parse_instant(sent) < parse_instant(self.current["sent"]):
            raise ValidationFailed(f"a new message cannot be sent before the previous one ({self.current['sent']})")
        first = self.messages[0]
        return {"identifier": message_identifier(self.id, len(self.messages) + 1), "sender": first["sender"],
                "sent": sent, "status": first["status"], "msg_type": msg_type.value,
                "references": [f"{m['sender']},{m['identifier']},{m['sent']}" for m in self.messages],
                "incident_id": first["incident_id"], **facts}

    # -- events (mutate only) --------------------------------------------------------

    @event("Updated")
    def _updated(self, message: dict) -> None:
        self.messages.append(message)

    @event("Cancelled")
    def _cancelled(self, message: dict) -> None:
        self.messages.append(message)
        self.status = WarningStatus.CANCELLED.value


INFO_KEYS = ("categories", "event", "urgency", "severity", "certainty", "level", "effective", "expires", "areas",
             "polygon", "headline", "description", "instruction")


def _info(info: dict[str, Any], jurisdiction: str) -> dict:
    """The CAP info facts of one message, checked: enumerations, times in order, area within jurisdiction."""
    categories = info.get("categories") or []
    if not categories:
        raise ValidationFailed("a warning has at least one CAP category")
    level = _enum(WarningLevel, "warning level (blue, yellow, orange, red)", info.get("level"))
    severity = _enum(CapSeverity, "severity", info.get("severity"))
    if LEVEL_SEVERITY[WarningLevel(level)] != severity:
        raise ValidationFailed(f"a {level} warning is published with CAP severity "
                               f"{LEVEL_SEVERITY[WarningLevel(level)].value}, not {severity}")
    if not info.get("event"):
        raise ValidationFailed("a warning names its event")
    effective = instant("effective", info.get("effective"))
    expires = instant("expires", info.get("expires"))
    if parse_instant(expires) <= parse_instant(effective):
        raise ValidationFailed("a warning expires after it takes effect")
    areas = list(info.get("areas") or [])
    if not areas:
        raise ValidationFailed("a warning covers at least one area")
    for code in areas:
        if not covers(jurisdiction, require_code("areas", code)):
            raise ValidationFailed(f"area {code} is outside the issuer's jurisdiction {jurisdiction}")
    return {
        "categories": sorted({_enum(CapCategory, "category", c) for c in categories}),
        "event": info["event"], "urgency": _enum(Urgency, "urgency", info.get("urgency")), "severity": severity,
        "certainty": _enum(Certainty, "certainty", info.get("certainty")), "level": level,
        "effective": effective, "expires": expires, "areas": sorted(set(areas)),
        "polygon": _polygon(info.get("polygon")),
        "headline": info.get("headline"), "description": info.get("description"),
        "instruction": info.get("instruction"),
    }


def _polygon(points: Any) -> list[list[float]] | None:
    """An optional outline of the area: a closed ring of at least four WGS 84 [latitude, longitude] points."""
    if points is None:
        return None
    try:
        ring = [[float(lat), float(lon)] for lat, lon in points]
    except (TypeError, ValueError):
        raise ValidationFailed("a polygon is a list of [latitude, longitude] pairs") from None
    if len(ring) < 4 or ring[0] != ring[-1]:
        raise ValidationFailed("a polygon has at least four points and ends where it starts")
    if not all(-90 <= lat <= 90 and -180 <= lon <= 180 for lat, lon in ring):
        raise ValidationFailed("a polygon point lies outside latitude -90..90 or longitude -180..180")
    return ring

"""The emergency incident a severe event or a red risk opened (emergency_command),
linked back on the grid record, as a dispute shows its mediation case."""

from __future__ import annotations

from typing import Any

from shared.errors import Conflict


def link_once(record: Any, incident_id: str) -> bool:
    """Whether ``incident_id`` is still to be linked: the same link again is nothing, another is a Conflict."""
    current = getattr(record, "incident_id", None)  # records made before the link existed have none
    if current == incident_id:
        return False
    if current is not None:
        raise Conflict(f"record {record.id} is already linked to incident {current}")
    return True

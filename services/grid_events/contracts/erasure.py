"""Erasure of personal data (PIPL Art. 47)."""

from __future__ import annotations

from uuid import UUID

from shared.erasure import ErasureReason
from shared.validation import Command, Identifier


class ErasePerson(Command):
    """Destroy the key of a person named in the registry, a risk or a family assessment:
    their sealed fields read ``[erased]`` from then on, everywhere."""

    person_id: Identifier
    reason: ErasureReason


class EraseRecordPersonalData(Command):
    """Crypto-shred the free text of a reported event, a risk, a work item, a major decision or a
    family assessment (or a volunteer's name and recognition notes, an organisation's recognition
    notes, by participant id); the record's facts stay."""

    record_id: UUID
    reason: ErasureReason

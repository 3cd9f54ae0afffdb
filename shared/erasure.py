"""The lawful grounds of an erasure of personal data (PIPL Art. 47), one list for every service.

A code, never free text, so the record that an erasure happened names no one.
"""

from __future__ import annotations

from enum import StrEnum


class ErasureReason(StrEnum):
    RETENTION_ENDED = "retention_ended"
    PURPOSE_ACHIEVED = "purpose_achieved"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    SUBJECT_REQUEST = "subject_request"
    UNLAWFUL_PROCESSING = "unlawful_processing"

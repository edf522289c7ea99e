"""Matchmakers (红娘): members in a matchmaker's care, their consultation notes and
introductions (`introductions`), and the 1:1 consultation slots members book
(`consultations`). Other parts use these functions and the types below, never the tables."""

from qingyuan.matchmakers.models import (
    CareAssignment,
    ConsultationNote,
    ConsultationSlot,
    Introduction,
    IntroductionStatus,
)

__all__ = [
    "CareAssignment",
    "ConsultationNote",
    "ConsultationSlot",
    "Introduction",
    "IntroductionStatus",
]

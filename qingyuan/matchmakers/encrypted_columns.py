"""What matchmakers keep encrypted: consultation and introduction notes, each bound to its
purpose, its row and the members it is about (the matchmaker and the member, or the pair), so
a note moved to another member no longer decrypts. The associated data is part of the stored
format: changing it needs a migration."""

from __future__ import annotations

from typing import Any

from qingyuan.matchmakers.models import ConsultationNote, Introduction
from qingyuan.platform.encryption import EncryptedColumn


def consultation_note(row: Any) -> str:
    return f"consultation.note:{row.id}:{row.matchmaker_id}:{row.member_id}"


def introduction_note(row: Any) -> str:
    return f"introduction.note:{row.id}:{row.matchmaker_id}:{row.a_id}:{row.b_id}"


CONSULTATION_NOTE = EncryptedColumn(ConsultationNote, "text", consultation_note)
INTRODUCTION_NOTE = EncryptedColumn(Introduction, "note", introduction_note)

COLUMNS = (CONSULTATION_NOTE, INTRODUCTION_NOTE)

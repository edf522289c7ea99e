"""What matching keeps encrypted: chat messages, report details, consultation and
introduction notes. Each value is bound to its purpose, its row and the rows it belongs to
(the conversation and its sender, the reporter and the reported member, the matchmaker and the
member), so a message moved to another chat or sender, or a note to another member, no longer
decrypts. The associated data is part of the stored format: changing it needs a migration."""

from __future__ import annotations

from typing import Any

from qingyuan.matching.models import ConsultationNote, Introduction, Message, Report
from qingyuan.platform.encryption import EncryptedColumn


def message_text(row: Any) -> str:
    return f"chat.message:{row.id}:{row.connection_id}:{row.sender_id}:{row.recipient_id}"


def report_details(row: Any) -> str:
    return f"report.details:{row.id}:{row.reporter_id}:{row.reported_id}"


def consultation_note(row: Any) -> str:
    return f"consultation.note:{row.id}:{row.matchmaker_id}:{row.member_id}"


def introduction_note(row: Any) -> str:
    return f"introduction.note:{row.id}:{row.matchmaker_id}:{row.a_id}:{row.b_id}"


MESSAGE_TEXT = EncryptedColumn(Message, "text", message_text)
REPORT_DETAILS = EncryptedColumn(Report, "details", report_details)
CONSULTATION_NOTE = EncryptedColumn(ConsultationNote, "text", consultation_note)
INTRODUCTION_NOTE = EncryptedColumn(Introduction, "note", introduction_note)

COLUMNS = (MESSAGE_TEXT, REPORT_DETAILS, CONSULTATION_NOTE, INTRODUCTION_NOTE)

"""What connections keep encrypted: chat messages and report details. Each value is bound to
its purpose, its row and the rows it belongs to (the conversation and its sender, the reporter
and the reported member), so a message moved to another chat or sender no longer decrypts.
The associated data is part of the stored format: changing it needs a migration."""

from __future__ import annotations

from typing import Any

from qingyuan.connections.models import Message, Report
from qingyuan.platform.encryption import EncryptedColumn


def message_text(row: Any) -> str:
    return f"chat.message:{row.id}:{row.connection_id}:{row.sender_id}:{row.recipient_id}"


def report_details(row: Any) -> str:
    return f"report.details:{row.id}:{row.reporter_id}:{row.reported_id}"


MESSAGE_TEXT = EncryptedColumn(Message, "text", message_text)
REPORT_DETAILS = EncryptedColumn(Report, "details", report_details)

COLUMNS = (MESSAGE_TEXT, REPORT_DETAILS)

"""Request and response models of connections: reports and the admins' decisions on them
(`qingyuan.platform.validation` says how models validate and document)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Annotated, ClassVar, Literal, Self, TypeVar

from pydantic import Field

from qingyuan.connections.models import ReportReason, ReportStatus
from qingyuan.connections.settings import connection_settings
from qingyuan.platform.i18n import gettext_lazy
from qingyuan.platform.validation import Count, Schema, Text, Timestamp, Trimmed, refined

if TYPE_CHECKING:
    from qingyuan.platform.settings import PlatformSettings

DECISION_NOTE_MAX = 1000
REPORT_DETAILS_MAX = 2000
PAGE_MAX = 200
_WHOLE = gettext_lazy("Must be a whole number, 0 or more.")


class SendMessage(Schema):
    """A chat message (page form and API). Its length limit is `QINGYUAN_CHAT_MAX_LENGTH`
    (`configured`). No text, or blanks only, is "write a message first" and control
    characters are refused: `safety.clean_text` checks both, on the text as stored."""

    beyond_schema: ClassVar = frozenset({"text"})
    text: Text = ""

    @classmethod
    def configured(cls, settings: PlatformSettings) -> type[Self]:
        return _send_message(cls, connection_settings(settings).chat_max_length)


Sendable = TypeVar("Sendable", bound=SendMessage)


@cache
def _send_message(model: type[Sendable], limit: int) -> type[Sendable]:
    return refined(model, text=(Annotated[Text, Field(max_length=limit)], ""))


class MarkChatRead(Schema):
    """Mark messages to me read: all, or those up to `up_to` (a message id)."""

    field_messages: ClassVar = {"up_to": _WHOLE}
    up_to: Count | None = None


class MessagesQuery(Schema):
    """A page of a chat: the newest `limit` (older than `before`), or all newer than `after`."""

    field_messages: ClassVar = {"before": _WHOLE, "after": _WHOLE}
    before: Count | None = Field(None, description="Older than this id")
    after: Count | None = Field(None, description="Newer than this id")
    limit: Annotated[int, Field(ge=1, le=PAGE_MAX)] = 50


class ReportMember(Schema):
    """A member's report on the other side of a connection, for the moderators."""

    field_messages: ClassVar = {
        "reason": gettext_lazy("Choose a reason."),
        "details": gettext_lazy("Please keep the details under 2000 characters."),
    }
    reason: Annotated[ReportReason, Field(strict=False)]
    details: Annotated[Text, Field(max_length=REPORT_DETAILS_MAX)] = ""


ReportDecision = Literal["dismiss", "warn", "suspend"]


class DecideReport(Schema):
    """An admin's decision on a report, with the reason (it goes into the audit log)."""

    beyond_schema: ClassVar = frozenset({"note"})  # not blank
    field_messages: ClassVar = {
        "decision": gettext_lazy("Choose dismiss, warn or suspend."),
        "note": gettext_lazy("Write why you decided this (at most 1000)."),
    }
    decision: ReportDecision
    note: Annotated[Text, Field(min_length=1, max_length=DECISION_NOTE_MAX), Trimmed]


class ReportOut(Schema):
    """A report as moderators see it; `reports_against` counts every report on the member
    (repeat reports are what identify a scam account)."""

    id: int
    reason: ReportReason
    reason_text: str = Field(description="In the reader's language")
    details: str
    status: ReportStatus
    reporter_id: int
    reported_id: int
    connection_id: int | None
    reports_against: int
    created_at: Timestamp


class Reports(Schema):
    reports: list[ReportOut]

"""Request and response models of the platform kernel: errors, session, account, audit log."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from qingyuan.platform.i18n import gettext_lazy
from qingyuan.platform.validation import Count, Id, Schema, Text, Timestamp


class ErrorDetail(Schema):
    code: str
    message: str = Field(description="Localised, for people")
    fields: dict[str, str]


class Error(Schema):
    """Every error answer of the API: `{"error": {"code", "message", "fields"}}`."""

    error: ErrorDetail


class Login(Schema):
    beyond_schema: ClassVar = frozenset({"phone"})  # separators and +86 allowed, then 11 digits
    phone: Annotated[Text, Field(min_length=1)]
    password: Annotated[Text, Field(min_length=1)]


class Account(Schema):
    id: int
    role: Literal["member", "matchmaker", "admin"]
    display_name: str
    phone: str = Field(description="Masked, e.g. 138****5678")


class LoggedIn(Schema):
    user: Account
    csrf_token: str


class AuditRow(Schema):
    id: int
    actor_id: int | None
    action: str
    target_type: str
    target_id: str
    reason: str
    created_at: Timestamp


class AuditLog(Schema):
    entries: list[AuditRow]


_NOTIFICATION_ID = gettext_lazy("Give the id of a notification.")


class NotificationsQuery(Schema):
    field_messages: ClassVar = {"before": _NOTIFICATION_ID}
    before: Annotated[int, Field(ge=1, lt=2**63)] | None = Field(
        default=None, description="Page back: ids below this one (a BIGINT id)"
    )


class MarkRead(Schema):
    field_messages: ClassVar = {"up_to": _NOTIFICATION_ID}
    up_to: Id | None = None


class Notice(Schema):
    id: int
    kind: str = Field(description="e.g. match.proposed, connection.created")
    text: str = Field(description="In the reader's language")
    url: str = Field(description="The page the notice is about")
    created_at: Timestamp
    read: bool


class Unread(Schema):
    unread: Count


class Notifications(Schema):
    unread: Count
    notifications: list[Notice]

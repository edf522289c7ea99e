"""Request and response models of connections: reports and the admins' decisions on them
(`qingyuan.platform.validation` says how models validate and document)."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from qingyuan.connections.models import ReportReason, ReportStatus
from qingyuan.platform.i18n import gettext_lazy
from qingyuan.platform.validation import Schema, Text, Timestamp, Trimmed

DECISION_NOTE_MAX = 1000

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

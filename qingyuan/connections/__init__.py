"""Connections: two members who may chat, their messages, blocks and reports, and the safety
checks on them (scam patterns, rate levels, moderation)."""

from qingyuan.connections.models import (
    Block,
    Connection,
    ConnectionSource,
    Message,
    Report,
    ReportReason,
    ReportStatus,
)

__all__ = [
    "Block",
    "Connection",
    "ConnectionSource",
    "Message",
    "Report",
    "ReportReason",
    "ReportStatus",
]

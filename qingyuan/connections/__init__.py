"""Connections: two members who may chat, their messages, blocks and reports. `pairs` opens
connections and lists the pairs the matcher must respect, `chat` sends and lists messages,
`safety` blocks, reports, scam warnings, rate levels and the moderation queue. Other parts
use these functions and the types below, never the tables."""

from qingyuan.connections.models import (
    Block,
    Connection,
    ConnectionSource,
    Message,
    Report,
    ReportReason,
    ReportStatus,
)
from qingyuan.connections.pairs import connection_between, connections_of, open_connection

__all__ = [
    "Block",
    "Connection",
    "ConnectionSource",
    "Message",
    "Report",
    "ReportReason",
    "ReportStatus",
    "connection_between",
    "connections_of",
    "open_connection",
]

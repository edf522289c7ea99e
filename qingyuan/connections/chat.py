"""Chat between connected members: messages, read state, unread counts and live delivery.

A message is written to the database first and published afterwards to both sides' open
sockets (`qingyuan.platform.realtime`: per-user pub/sub, one hub per web worker). Pub/sub is
fire-and-forget: an event lost while a worker reconnects to Redis is not lost to the member,
because clients fetch `?after=<last id>` from the database whenever their socket (re)opens.

Sending is the hot path (`send`): a `Sender` holds what does not change while a member's
socket is open, so a message costs two queries and one Redis round trip.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NoReturn

from redis.asyncio import Redis
from tortoise.expressions import Q
from tortoise.timezone import now

from qingyuan.connections import safety
from qingyuan.connections.encrypted_columns import MESSAGE_TEXT
from qingyuan.connections.models import Connection, Message
from qingyuan.platform import ratelimit, realtime, statements
from qingyuan.platform.crypto import PIICipher
from qingyuan.platform.encryption import reserve_id
from qingyuan.platform.errors import Conflict, NotFound
from qingyuan.platform.i18n import gettext as _
from qingyuan.platform.models import User
from qingyuan.platform.realtime import publish
from qingyuan.platform.settings import RateLimit
from qingyuan.verification.status import Standing

PAGE_SIZE = 50


def other_side(connection: Connection, user_id: int) -> int:
    return connection.b_id if connection.a_id == user_id else connection.a_id


async def connection_for(user_id: int, connection_id: int, *, open_only: bool = True) -> Connection:
    """The connection if `user_id` is one of its two members (and it has not ended), else 404:
    another member's chat does not exist for you."""
    query = Connection.filter(Q(a_id=user_id) | Q(b_id=user_id), id=connection_id)
    if open_only:
        query = query.filter(ended_at__isnull=True)
    connection = await query.first()
    if connection is None:
        raise NotFound()
    return connection


def wire(cipher: PIICipher, message: Message) -> dict[str, Any]:
    """The message as published and shown (decrypted): the same for both sides and every
    worker."""
    return {
        "id": message.id,
        "connection_id": message.connection_id,
        "sender_id": message.sender_id,
        "recipient_id": message.recipient_id,
        "text": MESSAGE_TEXT.open(cipher, message),
        "risk": message.risk,
        "created_at": message.created_at.isoformat(),
        "read_at": message.read_at.isoformat() if message.read_at else None,
    }


def for_viewer(data: dict[str, Any], viewer_id: int) -> dict[str, Any]:
    """What `viewer_id` sees: the recipient of a flagged message gets the warning (in the
    reader's language); the sender is not told which words tripped it."""
    flagged = data["risk"] is not None and data["recipient_id"] == viewer_id
    return {
        "id": data["id"],
        "connection_id": data["connection_id"],
        "mine": data["sender_id"] == viewer_id,
        "text": data["text"],
        "created_at": data["created_at"],
        "read": data["read_at"] is not None,
        "warning": safety.warning_json(data["risk"]) if flagged else None,
    }


@dataclass(frozen=True)
class OpenChat:
    """One chat as sending needs it: nothing here changes while the connection is open."""

    id: int
    other_id: int
    connected_at: datetime


@dataclass
class Sender:
    """A member about to send, as sending needs them: made per HTTP request, or once per
    WebSocket and kept for its life (`refresh` renews what can change). Holding one, a message
    costs two queries and one Redis round trip (see `send`)."""

    user_id: int
    level: safety.Level
    chats: dict[int, OpenChat] = field(default_factory=dict)
    # Names this sender in the events of its messages (`via`), so the socket that sent one can
    # skip its own copy; the member's other devices show it.
    token: str = field(default_factory=lambda: secrets.token_hex(8))
    # Until when (time.monotonic) this member's message limit is known to be full; None while
    # this sender has not looked.
    full_until: float | None = None

    async def refresh(self, rules: safety.SafetySettings, standing: Standing) -> None:
        """Re-grade the rate (a report, or the verification growing older, changes it) and
        forget the chats and the limit, which are looked up again when next needed."""
        self.level = await safety.level_of(rules, self.user_id, standing)
        self.chats.clear()
        self.full_until = None


async def sender(rules: safety.SafetySettings, user_id: int, standing: Standing) -> Sender:
    """`user_id` as a sender, at the message rate of their standing (one query)."""
    return Sender(user_id, await safety.level_of(rules, user_id, standing))


async def open_chat(sender: Sender, connection_id: int) -> OpenChat:
    """The chat from the sender's cache, or looked up once (404 if not theirs or ended): a
    route calls it before reading the body, so a stranger gets the 404 before any 422."""
    chat = sender.chats.get(connection_id)
    if chat is None:
        connection = await connection_for(sender.user_id, connection_id)
        other = other_side(connection, sender.user_id)
        chat = sender.chats[connection_id] = OpenChat(connection.id, other, connection.created_at)
    return chat


def forget_chat(sender: Sender, connection_id: int) -> None:
    """The connection ended (its `ended` event): the next send to it looks it up again."""
    sender.chats.pop(connection_id, None)


async def send(
    redis: Redis,
    cipher: PIICipher,
    rules: safety.SafetySettings,
    sender: Sender,
    connection_id: int,
    text: str,
) -> dict[str, Any]:
    """Validate, store (encrypted), then rate-limit and publish to both sides; returns the
    message as published (`wire`'s shape). With the chat known to `sender` and its limit
    not known to be full, that is two queries and one Redis round trip:

    1. `reserve_id`: the id the ciphertext is bound to;
    2. one INSERT that stores the message only if the connection is still open and both
       members are still active, checked by the statement itself: a block or a suspension
       committed before it is never missed, however late its event reaches this socket;
    3. one script that counts the message in the sender's limit and publishes it only if the
       limit allows (`realtime.publish_counted`).

    A message the script refuses is deleted again, unpublished, and refused (429). That is the
    rare case (several devices racing for the last messages of a window): a sender whose limit
    is known to be full, from its last count or from one look when the sender is new, is
    refused before anything is stored. Bad input costs nothing. A connection with a suspended
    member takes no new messages (neutral wording: the other side is not told why).
    """
    chat = await open_chat(sender, connection_id)  # first: a stranger learns nothing, a 404
    cleaned = safety.clean_text(rules, text)
    bucket, limit = safety.message_bucket(sender.user_id), rules.limits[sender.level]
    await _check_not_full(redis, sender, bucket, limit)
    risk = safety.scam_risk(rules, chat.connected_at, cleaned)
    data = await _store(cipher, chat, sender.user_id, cleaned, risk)
    if data is None:
        forget_chat(sender, chat.id)
        await _refuse(chat)
    event = {"type": "message", "message": data, "via": sender.token}
    verdict = await realtime.publish_counted(
        redis, bucket, limit, event, sender.user_id, chat.other_id
    )
    if not verdict.allowed:
        sender.full_until = time.monotonic() + verdict.retry_after
        await Message.filter(id=data["id"]).delete()
        raise safety.too_fast(verdict.retry_after)
    return data


async def _check_not_full(redis: Redis, sender: Sender, bucket: str, limit: RateLimit) -> None:
    if sender.full_until is None:
        verdict = await ratelimit.peek(redis, bucket, limit)
        sender.full_until = 0.0 if verdict.allowed else time.monotonic() + verdict.retry_after
    if (wait := sender.full_until - time.monotonic()) > 0:
        raise safety.too_fast(max(round(wait), 1))


def _placeholders(count: int) -> list[str]:
    """The driver's parameter marks: asyncpg numbers them, SQLite does not."""
    if Message._meta.db.capabilities.dialect == "postgres":
        return [f"${n}" for n in range(1, count + 1)]
    return ["?"] * count


async def _store(
    cipher: PIICipher, chat: OpenChat, sender_id: int, text: str, risk: str | None
) -> dict[str, Any] | None:
    """Insert the message, sealed to its reserved id, if the chat is still open and both
    members active; the message as published, or None when it was not stored."""
    row = Message(
        id=await reserve_id(Message),
        connection_id=chat.id,
        sender_id=sender_id,
        recipient_id=chat.other_id,
        risk=risk,
        created_at=now(),
    )
    sealed = MESSAGE_TEXT.seal(cipher, row, text)
    p = _placeholders(10)
    values = [row.id, chat.id, sender_id, chat.other_id, sealed, risk, row.created_at]
    stored = await Message._meta.db.execute_query_dict(
        f"INSERT INTO {Message._meta.db_table} "  # noqa: S608 (table names, no input)
        "(id, connection_id, sender_id, recipient_id, text, risk, created_at) "
        f"SELECT {', '.join(p[:7])} "
        f"WHERE EXISTS (SELECT 1 FROM {Connection._meta.db_table} "
        f"WHERE id = {p[7]} AND ended_at IS NULL) "
        f"AND (SELECT COUNT(*) FROM {User._meta.db_table} "
        f"WHERE id IN ({p[8]}, {p[9]}) AND is_active) = 2 RETURNING id",
        [*values, chat.id, sender_id, chat.other_id],  # the row, then what it is checked by
    )
    if not stored:
        return None
    return {
        "id": row.id,
        "connection_id": chat.id,
        "sender_id": sender_id,
        "recipient_id": chat.other_id,
        "text": text,
        "risk": risk,
        "created_at": row.created_at.isoformat(),
        "read_at": None,
    }


async def _refuse(chat: OpenChat) -> NoReturn:
    """Why a message was not stored: the chat ended (404, as for any chat not yours), or one
    of its members is no longer active (409)."""
    if not await Connection.exists(id=chat.id, ended_at__isnull=True):
        raise NotFound()
    raise Conflict(_("This chat is no longer available."))


async def list_messages(
    connection: Connection,
    *,
    before: int | None = None,
    after: int | None = None,
    limit: int = PAGE_SIZE,
) -> tuple[list[Message], bool]:
    """A page of `connection`'s messages (`connection_for` first: a stranger's 404), oldest
    first: the newest `limit` (before `before`), or everything after `after` (catching up
    after a reconnect). Returns (messages, more older ones exist)."""
    query = Message.filter(connection_id=connection.id)
    if after is not None:
        page = await query.filter(id__gt=after).order_by("id").limit(limit + 1)
        return page[:limit], False
    if before is not None:
        query = query.filter(id__lt=before)
    page = await query.order_by("-id").limit(limit + 1)
    return list(reversed(page[:limit])), len(page) > limit


async def mark_read(
    redis: Redis, user_id: int, connection: Connection, up_to: int | None = None
) -> int:
    """Mark messages to `user_id` in `connection` (theirs: `connection_for`) as read (all, or
    up to a message id); tell the sender's devices so their read ticks update. Returns how
    many changed."""
    query = Message.filter(connection_id=connection.id, recipient_id=user_id, read_at__isnull=True)
    if up_to is not None:
        query = query.filter(id__lte=up_to)
    changed = await query.update(read_at=now())
    if changed:
        event = {"type": "read", "connection_id": connection.id, "reader_id": user_id}
        await publish(redis, event, user_id, other_side(connection, user_id))
    return changed


_UNREAD_BY_CONNECTION = (
    'SELECT m.connection_id AS connection_id, COUNT(m.id) AS n FROM "matching_message" m'
    ' JOIN "matching_connection" c ON c.id = m.connection_id'
    " WHERE m.recipient_id = ? AND m.read_at IS NULL AND c.ended_at IS NULL"
    " GROUP BY m.connection_id"
)


async def unread_counts(user_id: int) -> dict[int, int]:
    """Unread messages per open connection of `user_id` (connections with none are absent).

    On every member page (the navigation), so a precompiled statement (platform/statements.py).
    """
    rows = await statements.rows(Message, _UNREAD_BY_CONNECTION, [user_id])
    return {int(row["connection_id"]): int(row["n"]) for row in rows}

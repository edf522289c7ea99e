"""Chat between connected members: messages, read state, unread counts and live delivery.

A message is written to the database first and published on Redis pub/sub afterwards, on the
channel of each side (`chat:user:<id>`). Every web worker runs one `ChatHub`: a single
pattern subscription that hands events to the WebSockets connected to *that* worker, so a
member on worker A reaches one on worker B without sticky sessions. Pub/sub is fire-and-forget:
an event lost while a worker reconnects to Redis is not lost to the member, because clients
fetch `?after=<last id>` from the database whenever their socket (re)opens.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.timezone import now

from qingyuan.connections import safety
from qingyuan.connections.encrypted_columns import MESSAGE_TEXT
from qingyuan.connections.models import Connection, Message
from qingyuan.platform.crypto import PIICipher
from qingyuan.platform.errors import Conflict, NotFound, ValidationFailed
from qingyuan.platform.i18n import gettext as _
from qingyuan.platform.models import User

logger = logging.getLogger(__name__)

CHANNEL_PREFIX = "chat:user:"
PAGE_SIZE = 50
MAX_BIGINT = 2**63  # message ids are 64-bit: a larger bound is not an id, and drivers refuse it
QUEUE_SIZE = 256
OVERFLOW: dict[str, Any] = {"type": "overflow"}  # the socket fell behind: close, client refetches


def channel_of(user_id: int) -> str:
    return f"{CHANNEL_PREFIX}{user_id}"


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


async def send_message(
    redis: Redis,
    cipher: PIICipher,
    rules: safety.SafetySettings,
    sender_id: int,
    level: safety.Level,
    connection_id: int,
    text: Any,
) -> Message:
    """Validate, rate-limit, persist (encrypted), then publish to both sides. A connection
    with a suspended member on either side takes no new messages (neutral wording: the other
    side is not told why)."""
    connection = await connection_for(sender_id, connection_id)
    sides = (connection.a_id, connection.b_id)
    if await User.filter(id__in=sides, is_active=True).count() < 2:
        raise Conflict(_("This chat is no longer available."))
    cleaned = safety.clean_text(rules, text)
    await safety.count_message(redis, rules, sender_id, level)
    message: Message = await MESSAGE_TEXT.create(
        cipher,
        cleaned,
        connection_id=connection.id,
        sender_id=sender_id,
        recipient_id=other_side(connection, sender_id),
        risk=safety.scam_risk(rules, connection, cleaned),
    )
    event = {"type": "message", "message": wire(cipher, message)}
    await publish(redis, event, sender_id, message.recipient_id)
    return message


async def publish(redis: Redis, event: dict[str, Any], *user_ids: int) -> None:
    """Publish `event` to each user's channel, in one round trip."""
    payload = json.dumps(event, ensure_ascii=False)
    async with redis.pipeline(transaction=False) as pipe:
        for user_id in user_ids:
            pipe.publish(channel_of(user_id), payload)
        await pipe.execute()


def _page_bound(value: Any, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        number = -1
    if not 0 <= number < MAX_BIGINT:
        raise ValidationFailed(fields={name: _("Must be a whole number, 0 or more.")})
    return number


async def list_messages(
    user_id: int, connection_id: int, *, before: Any = None, after: Any = None, limit: Any = None
) -> tuple[list[Message], bool]:
    """A page of messages, oldest first: the newest `limit` (before `before`), or everything
    after `after` (catching up after a reconnect). Returns (messages, more older ones exist)."""
    connection = await connection_for(user_id, connection_id)
    before, after = _page_bound(before, "before"), _page_bound(after, "after")
    size = _page_bound(limit, "limit") or PAGE_SIZE
    if size > 200:
        raise ValidationFailed(fields={"limit": _("At most 200 messages at a time.")})
    query = Message.filter(connection_id=connection.id)
    if after is not None:
        page = await query.filter(id__gt=after).order_by("id").limit(size + 1)
        return page[:size], False
    if before is not None:
        query = query.filter(id__lt=before)
    page = await query.order_by("-id").limit(size + 1)
    return list(reversed(page[:size])), len(page) > size


async def mark_read(redis: Redis, user_id: int, connection_id: int, up_to: Any = None) -> int:
    """Mark messages to `user_id` as read (all, or up to a message id); tell the sender's
    devices so their read ticks update. Returns how many changed."""
    connection = await connection_for(user_id, connection_id)
    query = Message.filter(connection_id=connection.id, recipient_id=user_id, read_at__isnull=True)
    if (bound := _page_bound(up_to, "up_to")) is not None:
        query = query.filter(id__lte=bound)
    changed = await query.update(read_at=now())
    if changed:
        event = {"type": "read", "connection_id": connection.id, "reader_id": user_id}
        await publish(redis, event, user_id, other_side(connection, user_id))
    return changed


async def unread_counts(user_id: int) -> dict[int, int]:
    """Unread messages per open connection of `user_id` (connections with none are absent)."""
    rows = (
        await Message.filter(
            recipient_id=user_id, read_at__isnull=True, connection__ended_at__isnull=True
        )
        .annotate(n=Count("id"))
        .group_by("connection_id")
        .values("connection_id", "n")
    )
    return {row["connection_id"]: row["n"] for row in rows}


class ChatHub:
    """One Redis pattern subscription per worker, fanned out to the local sockets' queues."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.queues: dict[int, set[asyncio.Queue[dict[str, Any]]]] = {}
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="chat-hub")
        await asyncio.wait_for(self._subscribed.wait(), timeout=10)

    async def _run(self) -> None:
        while True:
            try:
                await self._pump()
            except (RedisConnectionError, OSError) as exc:
                self._subscribed.clear()
                logger.warning("chat hub lost redis (%s); resubscribing", type(exc).__name__)
                self._drop_all()  # events were missed: every socket reconnects and catches up
                await asyncio.sleep(1)

    def _drop_all(self) -> None:
        for queues in self.queues.values():
            for queue in queues:
                _replace_with_overflow(queue)

    async def _pump(self) -> None:
        async with self.redis.pubsub() as pubsub:
            await pubsub.psubscribe(f"{CHANNEL_PREFIX}*")
            self._subscribed.set()
            async for item in pubsub.listen():
                if item["type"] == "pmessage":
                    self._dispatch(item["channel"], item["data"])

    def _dispatch(self, channel: str, data: str) -> None:
        user_id = int(channel.removeprefix(CHANNEL_PREFIX))
        queues = self.queues.get(user_id)
        if not queues:
            return
        event = json.loads(data)
        for queue in queues:
            if queue.full():  # a stalled socket: tell it to reconnect and catch up
                _replace_with_overflow(queue)
            else:
                queue.put_nowait(event)

    @contextlib.asynccontextmanager
    async def listen(self, user_id: int) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        """A queue of `user_id`'s events for as long as the block runs."""
        await self.start()
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self.queues.setdefault(user_id, set()).add(queue)
        try:
            yield queue
        finally:
            self.queues[user_id].discard(queue)
            if not self.queues[user_id]:
                del self.queues[user_id]

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def _replace_with_overflow(queue: asyncio.Queue[dict[str, Any]]) -> None:
    """Empty the queue and leave only OVERFLOW: its socket closes and its client refetches."""
    while not queue.empty():
        queue.get_nowait()
    queue.put_nowait(OVERFLOW)

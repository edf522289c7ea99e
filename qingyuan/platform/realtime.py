"""Live events to members' open sockets: per-user Redis pub/sub and the hub that fans it out.

An event is published on the channel of each user it concerns (`realtime:user:<id>`). Every
web worker runs one `Hub`: a single pattern subscription whose events go to the queues of the
sockets open on *that* worker, so a member on worker A reaches one on worker B without sticky
sessions. Pub/sub is fire-and-forget: whoever publishes keeps what matters in the database and
lets clients catch up from it when their socket (re)opens; the hub tells a socket to do so
(`OVERFLOW`) when it falls behind or the hub's own subscription drops.

The platform knows no part: an event is a JSON object whose `type` the parts define (chat's
messages, a suspension's `revoked`, …).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError

from qingyuan.platform import ratelimit
from qingyuan.platform.settings import RateLimit

logger = logging.getLogger(__name__)

CHANNEL_PREFIX = "realtime:user:"
QUEUE_SIZE = 256
OVERFLOW: dict[str, Any] = {"type": "overflow"}  # the socket fell behind: close, client refetches

Event = dict[str, Any]

# Count one event in a rate-limit bucket (as `ratelimit.hit` does) and publish the payload to
# the channels only if the bucket allows it: a rate-limited publish in one round trip.
# KEYS[1] the bucket's key; ARGV: limit, window seconds, payload, channel…
_COUNT_AND_PUBLISH = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
    redis.call('EXPIRE', KEYS[1], ARGV[2])
    ttl = tonumber(ARGV[2])
end
if count > tonumber(ARGV[1]) then
    return {0, ttl}
end
for i = 4, #ARGV do
    redis.call('PUBLISH', ARGV[i], ARGV[3])
end
return {1, ttl}
"""


def channel_of(user_id: int) -> str:
    return f"{CHANNEL_PREFIX}{user_id}"


def _payload(event: Event) -> str:
    return json.dumps(event, ensure_ascii=False)


async def publish(redis: Redis, event: Event, *user_ids: int) -> None:
    """Publish `event` to each user's channel, in one round trip."""
    payload = _payload(event)
    async with redis.pipeline(transaction=False) as pipe:
        for user_id in user_ids:
            pipe.publish(channel_of(user_id), payload)
        await pipe.execute()


async def publish_counted(
    redis: Redis, bucket: str, rule: RateLimit, event: Event, *user_ids: int
) -> ratelimit.Verdict:
    """Count one event in the rate-limit `bucket` and, if `rule` still allows it, publish
    `event` to each user: one script, so one round trip and no gap between the two. A refused
    event is counted (like `ratelimit.hit`) and published to nobody."""
    script = AsyncScript(redis, _COUNT_AND_PUBLISH)
    channels = [channel_of(user_id) for user_id in user_ids]
    allowed, ttl = await script(
        keys=[ratelimit.key(bucket)],
        args=[rule.limit, rule.window, _payload(event), *channels],
    )
    return ratelimit.Verdict(allowed=bool(allowed), retry_after=max(int(ttl), 1))


class Hub:
    """One Redis pattern subscription per worker, fanned out to the local sockets' queues."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.queues: dict[int, set[asyncio.Queue[Event]]] = {}
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="realtime-hub")
        await asyncio.wait_for(self._subscribed.wait(), timeout=10)

    async def _run(self) -> None:
        while True:
            try:
                await self._pump()
            except (RedisConnectionError, OSError) as exc:
                self._subscribed.clear()
                logger.warning("realtime hub lost redis (%s); resubscribing", type(exc).__name__)
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
    async def listen(self, user_id: int) -> AsyncIterator[asyncio.Queue[Event]]:
        """A queue of `user_id`'s events for as long as the block runs."""
        await self.start()
        queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_SIZE)
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


def _replace_with_overflow(queue: asyncio.Queue[Event]) -> None:
    """Empty the queue and leave only OVERFLOW: its socket closes and its client refetches."""
    while not queue.empty():
        queue.get_nowait()
    queue.put_nowait(OVERFLOW)

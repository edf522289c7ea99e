"""Per-user pub/sub: the hub's fan-out and back-pressure, and the rate-limited publish."""

from __future__ import annotations

import asyncio
import uuid

from qingyuan.platform import ratelimit, realtime
from qingyuan.platform.redis import connect
from qingyuan.platform.settings import RateLimit


async def test_a_stalled_socket_is_told_to_reconnect_and_catch_up():
    """A socket that stops reading must not grow its queue without bound: the hub replaces
    its backlog with one `overflow` event (the socket closes; the client refetches ?after=)."""
    redis = connect(f"memory://{uuid.uuid4().hex}")
    hub = realtime.Hub(redis)
    try:
        async with hub.listen(7) as queue:
            for n in range(realtime.QUEUE_SIZE + 5):
                await realtime.publish(redis, {"type": "message", "n": n}, 7)
            for _ in range(100):
                if queue.qsize() == 5:
                    break
                await asyncio.sleep(0.02)
            assert queue.get_nowait() == realtime.OVERFLOW
            assert [queue.get_nowait()["n"] for _ in range(4)] == list(
                range(realtime.QUEUE_SIZE + 1, realtime.QUEUE_SIZE + 5)
            )
    finally:
        await hub.aclose()
        await redis.aclose()


async def _drain(queue: asyncio.Queue, expected: int) -> list[dict]:
    events = []
    for _ in range(100):
        while not queue.empty():
            events.append(queue.get_nowait())
        if len(events) >= expected:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.05)  # and nothing more arrives
    while not queue.empty():
        events.append(queue.get_nowait())
    return events


async def test_a_counted_publish_reaches_everyone_until_the_limit_and_nobody_after():
    """`publish_counted` counts in the same bucket `ratelimit.hit` does: within the limit each
    event reaches every user named; over it, nobody, and the verdict says how long to wait."""
    redis = connect(f"memory://{uuid.uuid4().hex}")
    hub = realtime.Hub(redis)
    rule = RateLimit(limit=2, window=60)
    try:
        async with hub.listen(1) as first, hub.listen(2) as second:
            verdicts = [
                await realtime.publish_counted(redis, "test:1", rule, {"type": "x", "n": n}, 1, 2)
                for n in range(3)
            ]
            assert [v.allowed for v in verdicts] == [True, True, False]
            assert 1 <= verdicts[2].retry_after <= 60
            for queue in (first, second):
                assert [e["n"] for e in await _drain(queue, 2)] == [0, 1]
        peeked = await ratelimit.peek(redis, "test:1", rule)
        assert not peeked.allowed  # the refused one counted, as `hit` counts it
        assert 1 <= await redis.ttl(ratelimit.key("test:1")) <= 60
    finally:
        await hub.aclose()
        await redis.aclose()

"""Rate limits in Redis: fixed windows keyed by what is limited (never by personal data)."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from qingyuan.platform.settings import RateLimit


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int


async def hit(redis: Redis, bucket: str, rule: RateLimit) -> Verdict:
    """Count one event in `bucket`; refused once the window holds more than `rule.limit`."""
    key = f"ratelimit:{bucket}"
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, rule.window, nx=True)
        pipe.ttl(key)
        count, _, ttl = await pipe.execute()
    return Verdict(allowed=count <= rule.limit, retry_after=max(int(ttl), 1))


async def peek(redis: Redis, bucket: str, rule: RateLimit) -> Verdict:
    """Whether the next event would be allowed, without counting it."""
    key = f"ratelimit:{bucket}"
    count, ttl = await redis.get(key), await redis.ttl(key)
    return Verdict(allowed=int(count or 0) < rule.limit, retry_after=max(int(ttl), 1))


async def reset(redis: Redis, bucket: str) -> None:
    await redis.delete(f"ratelimit:{bucket}")

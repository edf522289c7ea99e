"""Rate limits in Redis: fixed windows keyed by what is limited (never by personal data)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from redis.asyncio import Redis

from qingyuan.platform.errors import RateLimited, UserError
from qingyuan.platform.settings import RateLimit


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int


def key(bucket: str) -> str:
    """The Redis key counting `bucket` (for scripts that count in it, e.g. realtime's)."""
    return f"ratelimit:{bucket}"


async def hit(redis: Redis, bucket: str, rule: RateLimit) -> Verdict:
    """Count one event in `bucket`; refused once the window holds more than `rule.limit`."""
    counter = key(bucket)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(counter)
        pipe.expire(counter, rule.window, nx=True)
        pipe.ttl(counter)
        count, _, ttl = await pipe.execute()
    return Verdict(allowed=count <= rule.limit, retry_after=max(int(ttl), 1))


async def peek(redis: Redis, bucket: str, rule: RateLimit) -> Verdict:
    """Whether the next event would be allowed, without counting it (one round trip)."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.get(key(bucket))
        pipe.ttl(key(bucket))
        count, ttl = await pipe.execute()
    return Verdict(allowed=int(count or 0) < rule.limit, retry_after=max(int(ttl), 1))


async def reset(redis: Redis, bucket: str) -> None:
    await redis.delete(key(bucket))


@asynccontextmanager
async def attempt(redis: Redis, bucket: str, limit: RateLimit, message: str) -> AsyncIterator[None]:
    """One rate-limited action. It is counted before it runs, so concurrent calls cannot
    slip past the limit; once the window is full it is a 429 saying `message`; and if the
    action refuses its input (any `UserError`) the count is given back: bad input costs
    nothing."""
    verdict = await hit(redis, bucket, limit)
    if not verdict.allowed:
        raise RateLimited(verdict.retry_after, message)
    try:
        yield
    except UserError:
        await give_back(redis, bucket)
        raise


async def give_back(redis: Redis, bucket: str) -> None:
    """Uncount one event counted by `hit` (it turned out not to be one that is limited)."""
    await redis.decr(key(bucket))

"""Leases: Redis locks that outlive a crash by seconds, not hours.

A lease is a key with a random token and a short TTL that its holder renews while it works.
A holder killed with SIGKILL stops renewing, so the key expires within `ttl` seconds and the
next run can take over; a fixed one-hour expiry cost a whole day of matches after one crash.
Renewal and release compare the token first (one Lua script each), so a holder whose lease
ran out never extends or deletes a successor's. A lease is advisory: work that must never be
done twice checks `Lease.ensure()` right before it commits, and keeps a record of its own in
the database (the lock of record) for the case Redis forgets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator

from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

DEFAULT_TTL = 30.0

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


class LeaseHeld(RuntimeError):
    """Someone else holds the lease right now (alive: it renews, or dead: it expires soon)."""


class LeaseLost(RuntimeError):
    """The lease expired or was taken while its holder still worked: stop before committing."""


class Lease:
    """A held lease; renewed in the background every third of its TTL until released."""

    def __init__(self, redis: Redis, key: str, token: str, ttl: float) -> None:
        self.key = key
        self.ttl = ttl
        self._redis = redis
        self._token = token
        self._lost = False

    async def ensure(self) -> None:
        """Raise LeaseLost unless this holder still owns the key (call before committing)."""
        if self._lost or await self._redis.get(self.key) != self._token:
            self._lost = True
            raise LeaseLost(self.key)

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self.ttl / 3)
            try:
                renewed = await self._redis.eval(
                    _RENEW, 1, self.key, self._token, int(self.ttl * 1000)
                )
            except RedisError:
                logger.warning("could not renew lease %s; retrying", self.key)
                continue
            if not renewed:
                self._lost = True
                logger.warning("lease %s expired while held", self.key)
                return

    async def _release(self) -> None:
        with contextlib.suppress(RedisError):  # unreleased, it still expires within ttl
            await self._redis.eval(_RELEASE, 1, self.key, self._token)


@contextlib.asynccontextmanager
async def lease(redis: Redis, key: str, ttl: float = DEFAULT_TTL) -> AsyncIterator[Lease]:
    """Hold `key` for the duration of the block, or raise LeaseHeld at once.

    CPU-bound work inside the block must not stall the event loop longer than `ttl` (run it
    in a thread), or the renewal cannot run and the lease expires under a live holder.
    """
    token = secrets.token_hex(16)
    if not await redis.set(key, token, nx=True, px=int(ttl * 1000)):
        raise LeaseHeld(key)
    held = Lease(redis, key, token, ttl)
    renewal = asyncio.create_task(held._renew_forever())
    try:
        yield held
    finally:
        renewal.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewal
        await held._release()

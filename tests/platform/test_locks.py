"""Leases: held while the holder lives and renews, gone soon after it stops."""

from __future__ import annotations

import asyncio

import pytest

from qingyuan.platform.locks import LeaseHeld, LeaseLost, lease
from tests.conftest import run


def test_a_live_holder_keeps_its_lease_past_the_ttl_and_others_are_refused(client):
    redis = client.app.state.kernel.redis

    async def hold_and_compete() -> None:
        async with lease(redis, "tests:lease", ttl=0.3) as held:
            await asyncio.sleep(0.8)  # longer than the TTL: renewal keeps it
            await held.ensure()
            with pytest.raises(LeaseHeld):
                async with lease(redis, "tests:lease", ttl=0.3):
                    pass
        async with lease(redis, "tests:lease", ttl=0.3):  # released on exit
            pass

    run(client, hold_and_compete)


def test_a_holder_whose_lease_expired_cannot_commit_or_release_its_successors(client):
    redis = client.app.state.kernel.redis

    async def expire_and_take_over() -> None:
        stale_hold = lease(redis, "tests:lease", ttl=0.3)
        stale = await stale_hold.__aenter__()
        await redis.delete("tests:lease")  # as if it stalled past its TTL
        async with lease(redis, "tests:lease", ttl=5) as successor:
            with pytest.raises(LeaseLost):
                await stale.ensure()
            await stale_hold.__aexit__(None, None, None)  # the stale holder finishes late
            await successor.ensure()  # its release did not delete the successor's key

    run(client, expire_and_take_over)
